// The runtime's file I/O (state directory, /proc, the log, cgroup files, the bundle, host facts),
// without node:fs in the executable: in tsrunc's Bun executable node:fs takes ~0.5 ms to load
// (~1.2 in a bare one), more than binding these calls (~0.3 ms; `state` 7.6 -> 7.3 ms). On
// Bun they are libc calls through bun:ffi (fileLibc(), ~0.15 ms to bind); on Node, or where
// bun:ffi cannot work, they are node:fs's. Same names and the same errors as node:fs (`code`,
// `errno`, `syscall`, `path`; message `ENOENT: no such file or directory, open '/x'`), so callers
// read as if they used node:fs. Only what tsrunc needs on its hot paths: text files (UTF-8),
// directories, stat and links. The rare paths (hooks, copy-up, terminals) use node:fs itself.

import type * as NodeFs from 'node:fs';
import { errnoMessage, errnoName } from './errno';
import { cString, fileLibc, utf8Bytes, type FileLibc } from './libc';

export type FileKind = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

/** What tsrunc reads of a stat. */
export interface FileStat {
  kind: FileKind;
  /** permission bits and set-id/sticky (mode & 0o7777) */
  perm: number;
  uid: number;
  gid: number;
  /** a device's numbers (char and block) */
  rdevMajor: number;
  rdevMinor: number;
}

export interface Files {
  readonly via: 'libc' | 'node:fs';
  /** stat (following symlinks) / lstat; undefined when the path does not exist (ENOENT, ENOTDIR) */
  stat(path: string): FileStat | undefined;
  lstat(path: string): FileStat | undefined;
  realpathSync(path: string): string;
  readlinkSync(path: string): string;
  chmodSync(path: string, mode: number): void;
  /** statfs(2)'s f_type: the filesystem's magic number */
  statfsType(path: string): number;
  readFileSync(path: string): string;
  /** create or truncate; `mode` for a new file */
  writeFileSync(path: string, data: string, mode?: number): void;
  existsSync(path: string): boolean;
  mkdirSync(path: string, mode?: number, recursive?: boolean): void;
  rmdirSync(path: string): void;
  unlinkSync(path: string): void;
  renameSync(from: string, to: string): void;
  /** names, without . and .. */
  readdirSync(path: string): string[];
  /** the names of the directories in path (not following symlinks) */
  directoriesIn(path: string): string[];
  /** rm -rf: a file or a directory tree; nothing if it does not exist */
  removeTree(path: string): void;
  /** an O_RDONLY|O_DIRECTORY|O_CLOEXEC fd */
  openDirectory(path: string): number;
  /** open(2) flags as in node:fs.constants */
  openSync(path: string, flags: number, mode?: number): number;
  closeSync(fd: number): void;
  /** read(2) into buf[off, off+len): bytes read, 0 at EOF; an error (EAGAIN included) throws */
  readSync(fd: number, buf: Uint8Array, off: number, len: number): number;
  /** the whole of data (a pipe may take it in parts; a non-blocking one that is full is retried) */
  writeAll(fd: number, data: string | Uint8Array): void;
  /** st_nlink of an open file (0: it was removed) */
  linkCount(fd: number): number;
}

let chosen: Files | undefined;

export function files(): Files {
  chosen ??= ((l) => (l ? libcFiles(l) : nodeFiles()))(fileLibc());
  return chosen;
}

// (its own constants, not constants.ts's: `state` and `list` load this module and not that one)
const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;
const AT_EMPTY_PATH = 0x1000;
const AT_SYMLINK_NOFOLLOW = 0x100;
const STATX_NLINK = 4;
const S_IFMT = 0o170000;
const STATX_BASIC = 0x7ff;
const DT_DIR = 4;
const DT_UNKNOWN = 0;
const EINTR = 4;
const EEXIST = 17;
const EAGAIN = 11;

const KIND_BY_IFMT: Record<number, FileKind> = {
  0o100000: 'file',
  0o040000: 'dir',
  0o120000: 'symlink',
  0o020000: 'char',
  0o060000: 'block',
  0o010000: 'fifo',
  0o140000: 'socket',
};

function fileError(errno: number, syscall: string, path: string): Error {
  const code = errnoName(errno);
  return Object.assign(new Error(`${code}: ${errnoMessage(errno)}, ${syscall} '${path}'`), { code, errno: -errno, syscall, path });
}

// Uint8Array, TextEncoder and DataView rather than Buffer: the first use of Buffer in a Bun
// process costs ~0.17 ms (its constructor and prototype are set up then), and the light verbs
// need nothing else of it.
const utf8 = new TextDecoder();
const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;

function libcFiles(l: FileLibc): Files {
  const c = cString;
  const check = (r: number, syscall: string, path: string): number => {
    if (r < 0) throw fileError(l.errno(), syscall, path);
    return r;
  };
  const open = (path: string, flags: number, mode = 0o666): number => {
    for (;;) {
      const fd = l.open(c(path), flags | O_CLOEXEC, mode);
      if (fd >= 0) return fd;
      if (l.errno() !== EINTR) throw fileError(l.errno(), 'open', path);
    }
  };
  const writeAll = (fd: number, data: string | Uint8Array, what: string) => {
    const b = typeof data === 'string' ? utf8Bytes(data) : data;
    for (let off = 0; off < b.length; ) {
      const n = l.write(fd, off ? b.subarray(off) : b, b.length - off);
      if (n < 0 && (l.errno() === EINTR || l.errno() === EAGAIN)) continue;
      off += check(n, 'write', what);
    }
  };
  /** every entry: name and d_type */
  const entries = (path: string): Array<[string, number]> => {
    const fd = open(path, O_DIRECTORY);
    const out: Array<[string, number]> = [];
    try {
      const buf = new Uint8Array(32768);
      for (;;) {
        const n = l.getdents64(fd, buf, buf.length);
        if (n < 0 && l.errno() === EINTR) continue;
        if (check(n, 'scandir', path) === 0) return out;
        // struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name (NUL-terminated)
        for (let o = 0; o < n; o += u16(buf, o + 16)) {
          const end = buf.indexOf(0, o + 19);
          const name = utf8.decode(buf.subarray(o + 19, end));
          if (name !== '.' && name !== '..') out.push([name, buf[o + 18]]);
        }
      }
    } finally {
      l.close(fd);
    }
  };
  // struct statx: stx_uid 0x14, stx_gid 0x18, stx_mode 0x1c, stx_rdev_major 0x80, stx_rdev_minor 0x84
  const statOf = (path: string, flags: number): FileStat | undefined => {
    const buf = new Uint8Array(256);
    if (l.statx(-100 /* AT_FDCWD */, c(path), flags, STATX_BASIC, buf) !== 0) {
      const e = l.errno();
      if (e === 2 || e === 20 /* ENOTDIR */) return undefined;
      throw fileError(e, flags & AT_SYMLINK_NOFOLLOW ? 'lstat' : 'stat', path);
    }
    const mode = u16(buf, 0x1c);
    return { kind: KIND_BY_IFMT[mode & S_IFMT] ?? 'file', perm: mode & 0o7777, uid: u32(buf, 0x14), gid: u32(buf, 0x18), rdevMajor: u32(buf, 0x80), rdevMinor: u32(buf, 0x84) };
  };
  let readBuffer = new Uint8Array(65536);
  const self: Files = {
    via: 'libc',
    stat: (path) => statOf(path, 0),
    lstat: (path) => statOf(path, AT_SYMLINK_NOFOLLOW),
    realpathSync(path) {
      const buf = new Uint8Array(4097); // PATH_MAX + NUL
      if (l.realpath(c(path), buf) === 0) throw fileError(l.errno(), 'realpath', path);
      return utf8.decode(buf.subarray(0, buf.indexOf(0)));
    },
    readlinkSync(path) {
      const buf = new Uint8Array(4096);
      const n = check(l.readlink(c(path), buf, buf.length), 'readlink', path);
      return utf8.decode(buf.subarray(0, n));
    },
    chmodSync: (path, mode) => void check(l.chmod(c(path), mode), 'chmod', path),
    statfsType(path) {
      const buf = new Uint8Array(128); // struct statfs: f_type (a long) first
      check(l.statfs(c(path), buf), 'statfs', path);
      return Number(new DataView(buf.buffer).getBigInt64(0, true));
    },
    readFileSync(path) {
      const fd = open(path, 0);
      try {
        let buf = readBuffer; // decoded into a new string before the next read: one buffer for all
        let len = 0;
        for (;;) {
          if (len === buf.length) {
            const bigger = new Uint8Array(buf.length * 2);
            bigger.set(buf);
            buf = readBuffer = bigger;
          }
          const n = l.read(fd, len ? buf.subarray(len) : buf, buf.length - len);
          if (n < 0 && l.errno() === EINTR) continue;
          if (check(n, 'read', path) === 0) return utf8.decode(buf.subarray(0, len));
          len += n;
        }
      } finally {
        l.close(fd);
      }
    },
    writeFileSync(path, data, mode = 0o666) {
      const fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
      try {
        writeAll(fd, data, path);
      } finally {
        l.close(fd);
      }
    },
    existsSync: (path) => l.access(c(path), 0 /* F_OK */) === 0,
    mkdirSync(path, mode = 0o777, recursive = false) {
      if (l.mkdir(c(path), mode) === 0) return;
      const e = l.errno();
      if (recursive && e === EEXIST && self.existsSync(path)) return;
      if (!recursive || e !== 2 /* ENOENT */) throw fileError(e, 'mkdir', path);
      const parent = path.slice(0, path.lastIndexOf('/'));
      if (!parent) throw fileError(e, 'mkdir', path);
      self.mkdirSync(parent, mode, true);
      if (l.mkdir(c(path), mode) !== 0 && l.errno() !== EEXIST) throw fileError(l.errno(), 'mkdir', path);
    },
    rmdirSync: (path) => void check(l.rmdir(c(path)), 'rmdir', path),
    unlinkSync: (path) => void check(l.unlink(c(path)), 'unlink', path),
    renameSync: (from, to) => void check(l.rename(c(from), c(to)), 'rename', `${from}' -> '${to}`),
    // (loops, not map/filter: `delete` lists the cgroups, and each of those builtins costs ~0.1 ms
    // at its first use; see argv.ts)
    readdirSync(path) {
      const names: string[] = [];
      for (const [name] of entries(path)) names.push(name);
      return names;
    },
    directoriesIn(path) {
      const names: string[] = [];
      for (const [name, type] of entries(path)) if (type === DT_DIR || (type === DT_UNKNOWN && self.lstat(`${path}/${name}`)?.kind === 'dir')) names.push(name);
      return names;
    },
    removeTree(path) {
      const st = self.lstat(path);
      if (!st) return;
      if (st.kind !== 'dir') {
        check(l.unlink(c(path)), 'unlink', path);
        return;
      }
      for (const [name, type] of entries(path)) {
        const p = `${path}/${name}`;
        if (type === DT_DIR || type === DT_UNKNOWN) self.removeTree(p);
        else if (l.unlink(c(p)) !== 0 && l.errno() !== 2) throw fileError(l.errno(), 'unlink', p);
      }
      if (l.rmdir(c(path)) !== 0 && l.errno() !== 2) throw fileError(l.errno(), 'rmdir', path);
    },
    openDirectory: (path) => open(path, O_DIRECTORY),
    openSync: (path, flags, mode) => open(path, flags, mode),
    closeSync: (fd) => void l.close(fd),
    readSync(fd, buf, off, len) {
      for (;;) {
        const n = l.read(fd, buf.subarray(off, off + len), len);
        if (n >= 0) return n;
        if (l.errno() !== EINTR) throw fileError(l.errno(), 'read', `fd ${fd}`);
      }
    },
    writeAll: (fd, data) => writeAll(fd, data, `fd ${fd}`),
    linkCount(fd) {
      const buf = new Uint8Array(256); // struct statx: stx_nlink at 0x10
      check(l.statx(fd, c(''), AT_EMPTY_PATH, STATX_NLINK, buf), 'statx', `fd ${fd}`);
      return u32(buf, 0x10);
    },
  };
  return self;
}

function nodeFiles(): Files {
  const fs = require('node:fs') as typeof NodeFs;
  const statOf = (st: NodeFs.Stats | undefined): FileStat | undefined => {
    if (!st) return undefined;
    const kind: FileKind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : st.isFIFO() ? 'fifo' : 'socket';
    // glibc's gnu_dev_major/minor of a dev_t
    const rdev = BigInt(st.rdev);
    const rdevMajor = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
    const rdevMinor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
    return { kind, perm: st.mode & 0o7777, uid: st.uid, gid: st.gid, rdevMajor, rdevMinor };
  };
  const missing = (fn: () => NodeFs.Stats | undefined) => {
    try {
      return fn();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw e;
    }
  };
  return {
    via: 'node:fs',
    stat: (path) => statOf(missing(() => fs.statSync(path, { throwIfNoEntry: false }))),
    lstat: (path) => statOf(missing(() => fs.lstatSync(path, { throwIfNoEntry: false }))),
    realpathSync: (path) => fs.realpathSync.native(path),
    readlinkSync: (path) => fs.readlinkSync(path),
    chmodSync: (path, mode) => fs.chmodSync(path, mode),
    statfsType: (path) => Number(fs.statfsSync(path).type),
    readFileSync: (path) => fs.readFileSync(path, 'utf8'),
    writeFileSync: (path, data, mode = 0o666) => fs.writeFileSync(path, data, { mode }),
    existsSync: (path) => fs.existsSync(path),
    mkdirSync: (path, mode = 0o777, recursive = false) => void fs.mkdirSync(path, { mode, recursive }),
    rmdirSync: (path) => fs.rmdirSync(path),
    unlinkSync: (path) => fs.unlinkSync(path),
    renameSync: (from, to) => fs.renameSync(from, to),
    readdirSync: (path) => fs.readdirSync(path),
    directoriesIn: (path) =>
      fs
        .readdirSync(path, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name),
    removeTree: (path) => fs.rmSync(path, { recursive: true, force: true }),
    openDirectory: (path) => fs.openSync(path, fs.constants.O_RDONLY | O_DIRECTORY | O_CLOEXEC),
    openSync: (path, flags, mode) => fs.openSync(path, flags | O_CLOEXEC, mode),
    closeSync: (fd) => fs.closeSync(fd),
    readSync: (fd, buf, off, len) => fs.readSync(fd, buf, off, len, null),
    writeAll(fd, data) {
      const b = typeof data === 'string' ? Buffer.from(data) : data;
      for (let off = 0; off < b.length; ) {
        try {
          off += fs.writeSync(fd, b, off);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        }
      }
    },
    linkCount: (fd) => fs.fstatSync(fd).nlink,
  };
}
