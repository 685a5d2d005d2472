/**
 * Generate the seccomp syscall tables in src/linux/seccomp/ from libseccomp's own table.
 *
 * Source of truth: `src/syscalls.csv` and `include/seccomp-syscalls.h` of Debian's libseccomp source
 * package (the same version as the libseccomp2 binary the differential tests load), with Debian's
 * patches applied. Using libseccomp's table, not the kernel headers, is deliberate: runc resolves
 * names through libseccomp, so a name libseccomp does not know is skipped, and a name it knows is
 * translated per architecture exactly as this table says. The kernel's headers (linux-libc-dev) are
 * only used for a cross-check that prints differences.
 *
 * Usage (after `npx tsc -p .`):
 *   node dist/scripts/gen-syscall-tables.js                 # fetch the source with apt-get source
 *   node dist/scripts/gen-syscall-tables.js --source DIR    # an unpacked, patched libseccomp tree
 *   options: --out DIR (default src/linux/seccomp), --check (compare with the committed files, write nothing)
 *
 * Fetching needs no change to the machine's apt configuration: a private deb-src list, lists and
 * cache directory are used (derived from the machine's own `deb` sources).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

interface Options {
  source?: string;
  out: string;
  check: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { out: path.resolve(__dirname, '..', '..', 'src', 'linux', 'seccomp'), check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--source') opts.source = path.resolve(argv[++i] ?? '');
    else if (a === '--out') opts.out = path.resolve(argv[++i] ?? '');
    else if (a === '--check') opts.check = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

/** Turn the machine's `deb` sources (deb822 or one-line) into a private deb-src list. */
function writeDebSrcSources(dir: string): void {
  const partsDir = path.join(dir, 'parts');
  fs.mkdirSync(partsDir, { recursive: true });
  const listDir = '/etc/apt/sources.list.d';
  const files = fs.existsSync(listDir) ? fs.readdirSync(listDir).map((f) => path.join(listDir, f)) : [];
  if (fs.existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  let n = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      fs.writeFileSync(path.join(partsDir, `src${n++}.sources`), text.replace(/^Types:\s*deb\s*$/gm, 'Types: deb-src'));
    } else if (file.endsWith('.list')) {
      const lines = text.split('\n').filter((l) => /^deb\s/.test(l)).map((l) => l.replace(/^deb\s/, 'deb-src '));
      fs.writeFileSync(path.join(partsDir, `src${n++}.list`), lines.join('\n') + '\n');
    }
  }
  if (n === 0) throw new Error('no apt sources found to derive deb-src entries from');
}

/** Download and unpack (applying Debian's patches) the libseccomp source package; returns its directory. */
function fetchSourceWithApt(): string {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-libseccomp-src-'));
  writeDebSrcSources(work);
  for (const d of ['lists/partial', 'cache', 'out']) fs.mkdirSync(path.join(work, d), { recursive: true });
  const aptOpts = [
    '-o', 'Dir::Etc::SourceList=/dev/null',
    '-o', `Dir::Etc::SourceParts=${path.join(work, 'parts')}`,
    '-o', `Dir::State::Lists=${path.join(work, 'lists')}`,
    '-o', `Dir::Cache=${path.join(work, 'cache')}`,
    '-q',
  ];
  execFileSync('apt-get', [...aptOpts, 'update'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const outDir = path.join(work, 'out');
  execFileSync('apt-get', [...aptOpts, 'source', 'libseccomp'], { cwd: outDir, stdio: ['ignore', 'ignore', 'inherit'] });
  const unpacked = fs.readdirSync(outDir).find((f) => f.startsWith('libseccomp-') && fs.statSync(path.join(outDir, f)).isDirectory());
  if (!unpacked) throw new Error('apt-get source libseccomp did not unpack a source tree');
  return path.join(outDir, unpacked);
}

function packageVersion(sourceDir: string): string {
  // debian/changelog's first line: "libseccomp (2.5.4-1+deb12u1) bookworm; urgency=medium"
  const changelog = path.join(sourceDir, 'debian', 'changelog');
  if (!fs.existsSync(changelog)) return 'unknown';
  const m = /^libseccomp \(([^)]+)\)/.exec(fs.readFileSync(changelog, 'utf8'));
  return m ? m[1] : 'unknown';
}

function installedLibseccompVersion(): string | undefined {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libseccomp2'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

interface CsvTable {
  kernel: string;
  arches: string[];
  /** name -> per-arch number (undefined where the csv says PNR: not on that architecture) */
  rows: Array<{ name: string; numbers: Array<number | undefined> }>;
}

function parseCsv(text: string): CsvTable {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0].split(',');
  const kernelMatch = /\((v[^)]*)\)/.exec(header[0]);
  const arches = header.slice(1);
  const rows = lines.slice(1).filter((l) => !l.startsWith('#')).map((line) => {
    const cells = line.split(',');
    if (cells.length !== header.length) throw new Error(`bad csv line: ${line}`);
    const numbers = cells.slice(1).map((c) => {
      if (c === 'PNR') return undefined;
      if (!/^\d+$/.test(c)) throw new Error(`bad syscall number ${c} in: ${line}`);
      return Number(c);
    });
    return { name: cells[0], numbers };
  });
  return { kernel: kernelMatch ? kernelMatch[1] : header[0], arches, rows };
}

/** __PNR_<name> values: the negative pseudo numbers libseccomp uses for syscalls absent on an arch. */
function parsePseudoNumbers(headerText: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const m of headerText.matchAll(/^#define __PNR_(\w+)\s+(-\d+)\s*$/gm)) map.set(m[1], Number(m[2]));
  return map;
}

/** Pack `key: value` entries into lines of at most ~100 characters. */
function packEntries(entries: string[], indent = '  '): string {
  const out: string[] = [];
  let line = '';
  for (const e of entries) {
    if (line && line.length + e.length + 2 > 100) {
      out.push(indent + line.trimEnd());
      line = '';
    }
    line += e + ', ';
  }
  if (line) out.push(indent + line.trimEnd());
  return out.join('\n');
}

const quoteKey = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));

function tableConstName(arch: string): string {
  return `SYSCALLS_${arch.toUpperCase()}`;
}

function banner(origin: string): string {
  return `// GENERATED by scripts/gen-syscall-tables.ts — do not edit by hand.\n// Source: ${origin}\n`;
}

function generate(table: CsvTable, pseudo: Map<string, number>, origin: string): Map<string, string> {
  const files = new Map<string, string>();
  table.arches.forEach((arch, column) => {
    const entries = table.rows
      .filter((r) => r.numbers[column] !== undefined)
      .map((r) => `${quoteKey(r.name)}: ${r.numbers[column]}`);
    files.set(
      `syscalls-${arch}.ts`,
      `${banner(origin)}// Syscall numbers of the ${arch} column, as libseccomp's table gives them (before any per-ABI\n` +
        `// offset such as x32's 0x40000000 or MIPS' 4000/5000/6000). Names absent here are "PNR" on ${arch}.\n` +
        `export const ${tableConstName(arch)}: Readonly<Record<string, number>> = {\n${packEntries(entries)}\n};\n`,
    );
  });

  // Pseudo numbers: a name missing on some architecture is kept under its negative number there,
  // and the socket and SysV IPC names have one even where every ABI has the syscall (the
  // x86/ppc/s390/mips socketcall and ipc multiplexing is keyed on the -100..-120 and -200..-224 ranges).
  const pseudoEntries: string[] = [];
  for (const r of table.rows) {
    const pnr = pseudo.get(r.name);
    if (pnr === undefined) {
      if (r.numbers.includes(undefined)) throw new Error(`no __PNR_${r.name} in seccomp-syscalls.h`);
      continue;
    }
    pseudoEntries.push(`${quoteKey(r.name)}: ${pnr}`);
  }
  const names = table.rows.map((r) => JSON.stringify(r.name));
  files.set(
    'syscalls-pseudo.ts',
    `${banner(origin)}// Pseudo syscall numbers (__PNR_*) of libseccomp: for names missing on at least one architecture and for\n// the socketcall(2)/ipc(2) multiplexed names.\n` +
      `export const PSEUDO_SYSCALLS: Readonly<Record<string, number>> = {\n${packEntries(pseudoEntries)}\n};\n\n` +
      `/** Every syscall name libseccomp knows, in its table's order. */\n` +
      `export const SYSCALL_NAMES: readonly string[] = [\n${packEntries(names)}\n];\n`,
  );

  const imports = table.arches.map((a) => `import { ${tableConstName(a)} } from './syscalls-${a}';`).join('\n');
  const mapEntries = table.arches.map((a) => `  ${quoteKey(a)}: ${tableConstName(a)},`).join('\n');
  files.set(
    'syscall-tables.ts',
    `${banner(origin)}${imports}\n\n` +
      `/** Where the tables come from (printed by \`tsrunc features\` and the docs). */\n` +
      `export const SYSCALL_TABLE_SOURCE = ${JSON.stringify({ origin, kernel: table.kernel })} as const;\n\n` +
      `/** The csv's architecture columns; each libseccomp architecture reads one of them. */\n` +
      `export type SyscallTableName = ${table.arches.map((a) => JSON.stringify(a)).join(' | ')};\n\n` +
      `export const SYSCALL_TABLES: Readonly<Record<SyscallTableName, Readonly<Record<string, number>>>> = {\n${mapEntries}\n};\n`,
  );
  return files;
}

/** Print where libseccomp's table and this machine's kernel headers disagree (information only). */
function crossCheckWithKernelHeaders(table: CsvTable): void {
  const headers: Array<[string, string, number]> = [
    ['x86_64', '/usr/include/x86_64-linux-gnu/asm/unistd_64.h', 0],
    ['x86', '/usr/include/x86_64-linux-gnu/asm/unistd_32.h', 0],
    ['x32', '/usr/include/x86_64-linux-gnu/asm/unistd_x32.h', 0x40000000],
  ];
  for (const [arch, file, bias] of headers) {
    if (!fs.existsSync(file)) continue;
    const column = table.arches.indexOf(arch);
    const kernel = new Map<string, number>();
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/^#define __NR_(\w+)\s+\(?(?:__X32_SYSCALL_BIT\s*\+\s*)?(\d+)\)?/gm)) {
      kernel.set(m[1], Number(m[2]) - (m[0].includes('__X32_SYSCALL_BIT') ? 0 : bias));
    }
    const diffs: string[] = [];
    for (const r of table.rows) {
      const ours = r.numbers[column];
      const theirs = kernel.get(r.name);
      if (theirs !== undefined && ours !== undefined && theirs !== ours) diffs.push(`${r.name}: csv ${ours}, header ${theirs}`);
      if (theirs !== undefined && ours === undefined) diffs.push(`${r.name}: csv PNR, header ${theirs}`);
    }
    const onlyKernel = [...kernel.keys()].filter((n) => !table.rows.some((r) => r.name === n));
    console.error(`cross-check ${arch} vs ${file}: ${diffs.length} differences${diffs.length ? ': ' + diffs.join('; ') : ''}` +
      (onlyKernel.length ? `; only in the header (unknown to libseccomp, runc skips them): ${onlyKernel.join(', ')}` : ''));
  }
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const sourceDir = opts.source ?? fetchSourceWithApt();
  const csvPath = path.join(sourceDir, 'src', 'syscalls.csv');
  const headerPath = path.join(sourceDir, 'include', 'seccomp-syscalls.h');
  const table = parseCsv(fs.readFileSync(csvPath, 'utf8'));
  const pseudo = parsePseudoNumbers(fs.readFileSync(headerPath, 'utf8'));
  const version = packageVersion(sourceDir);
  const installed = installedLibseccompVersion();
  if (installed && installed !== version) {
    console.error(`warning: source package ${version} differs from the installed libseccomp2 ${installed}`);
  }
  const origin = `Debian source package libseccomp ${version}, src/syscalls.csv (${table.kernel}) + include/seccomp-syscalls.h`;
  crossCheckWithKernelHeaders(table);
  const files = generate(table, pseudo, origin);
  if (!opts.check) fs.mkdirSync(opts.out, { recursive: true });
  let stale = 0;
  for (const [name, text] of files) {
    const target = path.join(opts.out, name);
    if (opts.check) {
      const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
      if (current !== text) {
        stale++;
        console.error(`stale: ${target}`);
      }
    } else {
      fs.writeFileSync(target, text);
    }
  }
  console.error(opts.check ? `${files.size - stale}/${files.size} table files up to date` :
    `wrote ${files.size} files to ${opts.out} (${table.rows.length} syscalls, ${table.arches.length} architectures, ${origin})`);
  if (stale) process.exitCode = 1;
}

main();
