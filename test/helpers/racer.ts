// A racer for the security tests: swaps two names in a directory with renameat2(RENAME_EXCHANGE)
// in a tight loop, atomically (a directory and a symlink out of the rootfs, say), until killed —
// what a container sharing a volume with the one being created could do.
//
//   node racer.js DIR NAME OTHER

import { libc } from '../../src/linux/libc';

const SYS_renameat2 = 316; // x86_64
const AT_FDCWD = -100;
const RENAME_EXCHANGE = 2;

const [dir, a, b] = process.argv.slice(2);
process.chdir(dir);
const lc = libc();
const from = Buffer.from(a + '\0');
const to = Buffer.from(b + '\0');
for (;;) {
  for (let i = 0; i < 1000; i++) lc.syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, RENAME_EXCHANGE);
}
