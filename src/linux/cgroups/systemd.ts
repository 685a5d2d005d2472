// --systemd-cgroup's cgroupsPath, `slice:prefix:name`, as runc's systemd driver reads it: the unit
// is `<prefix>-<name>.scope` (or the slice `<name>` when it ends in .slice) in `slice` (default
// system.slice), and its cgroup is the slice's path, expanded as systemd nests slices
// (`a-b.slice` → `/a.slice/a-b.slice`), plus the unit.
//
// The driver itself (a transient scope through systemd's D-Bus API, StartTransientUnit with the
// resource properties) is not written: these machines have no systemd to test it against, and
// --systemd-cgroup is refused with a clear error (docs/cgroups.md).

export interface SystemdUnit {
  slice: string;
  unit: string;
  /** the unit's cgroup, relative to the hierarchy's root */
  path: string;
}

/** runc's ExpandSlice. */
export function expandSlice(slice: string): string {
  const suffix = '.slice';
  if (slice.length <= suffix.length || !slice.endsWith(suffix) || slice.includes('/')) throw new Error(`invalid slice name: ${slice}`);
  const name = slice.slice(0, -suffix.length);
  if (name === '-') return '/';
  let out = '';
  let prefix = '';
  for (const component of name.split('-')) {
    if (component === '') throw new Error(`invalid slice name: ${slice}`);
    out += `/${prefix}${component}${suffix}`;
    prefix += `${component}-`;
  }
  return out;
}

export function systemdUnit(cgroupsPath: string, id: string): SystemdUnit {
  const parts = cgroupsPath === '' ? ['', '', ''] : cgroupsPath.split(':');
  if (parts.length !== 3) throw new Error(`expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "${cgroupsPath}" instead`);
  const slice = parts[0] || 'system.slice';
  const name = parts[2] || id;
  const unit = name.endsWith('.slice') ? name : parts[1] ? `${parts[1]}-${name}.scope` : `${name}.scope`;
  const base = expandSlice(slice);
  return { slice, unit, path: unit.endsWith('.slice') ? expandSlice(unit) : `${base === '/' ? '' : base}/${unit}` };
}
