// Test hook: TSRUNC_FAULT=<point> makes this process die by SIGKILL at that point, as a crashed or
// killed runtime would (kill -9, OOM killer, power loss of the caller's machine aside). The tests
// then check that the container's processes never run on half-made, that `state` tells the truth
// and that `delete --force` leaves nothing behind. Points (docs/security.md lists them all):
//   create: claimed, recorded, cgroups, fifo, launched, <checkpoint> (mapping, hooks, copyup:<dest>,
//           ready), after:<checkpoint> (right after the go byte, while the init runs on), created;
//   start:  start:locked, start:hooks, start:opened, start:unlinked, start:executed;
//   exec:   exec:launched, exec:joined, exec:after:joined, exec:executed.
// Several points may be given, separated by commas: the first one reached kills.

export function faultPoint(point: string): void {
  const want = process.env.TSRUNC_FAULT;
  if (!want) return;
  if (want === point || want.split(',').includes(point)) process.kill(process.pid, 'SIGKILL');
}
