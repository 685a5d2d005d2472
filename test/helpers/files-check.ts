// The checks of files.ts, run on whichever implementation files() picks: under Node (node:fs) by
// the unit test itself, under Bun (libc through bun:ffi) in a Bun child it starts. Both must
// answer the same. Run under Bun as: bun files-check.js DIR (prints the results as JSON).

import { files } from '../../src/linux/files';

export function checkFiles(dir: string): Record<string, unknown> {
  const f = files();
  const out: Record<string, unknown> = { via: f.via };
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'ok';
    } catch (e) {
      const err = e as { code?: string; errno?: number; message: string };
      return `${err.code} ${err.errno} ${/^[A-Z]+: .+, \w+ '.+'$/.test(err.message) ? 'node-like message' : err.message}`;
    }
  };
  f.mkdirSync(`${dir}/a/b/c`, 0o711, true);
  f.mkdirSync(`${dir}/a/b/c`, 0o711, true); // recursive: an existing directory is fine
  out.mkdirExisting = code(() => f.mkdirSync(`${dir}/a`, 0o711));
  const big = 'x'.repeat(100000) + 'é';
  f.writeFileSync(`${dir}/a/big`, big, 0o600);
  out.bigRoundTrip = f.readFileSync(`${dir}/a/big`) === big;
  f.writeFileSync(`${dir}/a/big`, 'short');
  out.truncated = f.readFileSync(`${dir}/a/big`);
  out.procStat = /^\d+ \(/.test(f.readFileSync('/proc/self/stat'));
  out.missing = code(() => f.readFileSync(`${dir}/nope`));
  out.exists = [f.existsSync(`${dir}/a`), f.existsSync(`${dir}/nope`)];
  f.writeFileSync(`${dir}/a/file`, '1');
  f.renameSync(`${dir}/a/file`, `${dir}/a/renamed`);
  out.readdir = f.readdirSync(`${dir}/a`).sort();
  out.directories = f.directoriesIn(`${dir}/a`).sort();
  out.rmdirNotEmpty = code(() => f.rmdirSync(`${dir}/a`));
  const fd = f.openDirectory(`${dir}/a`);
  out.linkCount = f.linkCount(fd) >= 2;
  f.closeSync(fd);
  const w = f.openSync(`${dir}/log`, 0o2101 /* O_WRONLY | O_CREAT | O_APPEND */, 0o644);
  f.writeAll(w, 'one\n');
  f.writeAll(w, Buffer.from('two\n'));
  f.closeSync(w);
  out.appended = f.readFileSync(`${dir}/log`);
  const r = f.openSync(`${dir}/log`, 0);
  const buf = Buffer.alloc(16);
  out.readSync = [f.readSync(r, buf, 2, 3), buf.toString('utf8', 2, 5), f.readSync(r, buf, 0, 16), f.readSync(r, buf, 0, 16)];
  f.closeSync(r);
  f.unlinkSync(`${dir}/log`);
  out.unlinkMissing = code(() => f.unlinkSync(`${dir}/log`));
  const nul = f.stat('/dev/null')!;
  out.devNull = [nul.kind, nul.rdevMajor, nul.rdevMinor];
  require('node:fs').symlinkSync('b', `${dir}/a/link`);
  out.lstatLink = f.lstat(`${dir}/a/link`)?.kind;
  out.statLink = f.stat(`${dir}/a/link`)?.kind;
  out.statMissing = [f.stat(`${dir}/nope`) === undefined, f.lstat(`${dir}/a/renamed/below-a-file`) === undefined];
  out.realpath = f.realpathSync(`${dir}/a/link/c/..`) === f.realpathSync(`${dir}/a/b`);
  out.readlink = f.readlinkSync(`${dir}/a/link`);
  f.chmodSync(`${dir}/a/renamed`, 0o4751);
  const st = f.stat(`${dir}/a/renamed`)!;
  out.chmod = [st.perm.toString(8), st.uid === process.getuid!()];
  out.procfs = f.statfsType('/proc').toString(16);
  f.removeTree(`${dir}/a`);
  f.removeTree(`${dir}/a`); // nothing left: no error
  out.removed = f.existsSync(`${dir}/a`);
  return out;
}

if (require.main === module) process.stdout.write(JSON.stringify(checkFiles(process.argv[2])));
