// Builds dist/tsrunc: one self-contained executable (Bun's runtime, our bundled code as bytecode,
// koffi's native module embedded), so that dockerd and containerd can call it by path whatever
// `node` is in PATH, and so that each call starts in a few ms instead of Node's ~35.
// TSRUNC_NO_EXE=1 skips it (the sources then run with Node through bin/tsrunc).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const root = path.join(__dirname, '..');
if (process.env.TSRUNC_NO_EXE === '1') process.exit(0);
let bun;
try {
  bun = require.resolve(`@oven/bun-linux-${process.arch}/bin/bun`, { paths: [root] });
} catch {
  console.error('build-exe: @oven/bun-linux-* is not installed; dist/tsrunc not built (bin/tsrunc will use Node)');
  process.exit(0);
}
const out = path.join(root, 'dist', 'tsrunc');
const tmp = `${out}.${process.pid}.tmp`;
// --compile-jit-policy: every call is a fresh process that runs each function a few hundred times
// at most, so JavaScriptCore's JIT only costs (compiling on a second thread, on a 2-core machine
// competing with us): with its tier-up thresholds scaled by JIT_POLICY, everything stays in the
// interpreter, and a run of /bin/true is faster in every phase (docs/performance.md).
const JIT_POLICY = 1000;
// --no-compile-autoload-*: by default the executable reads .env and bunfig.toml from its working
// directory at start, so a bunfig.toml there could preload any script into the runtime (as root)
// and a .env could set TSRUNC_* variables; a runtime takes neither from wherever it was called.
execFileSync(bun, ['build', '--compile', '--minify', '--bytecode', `--compile-jit-policy=${JIT_POLICY}`, '--no-compile-autoload-dotenv', '--no-compile-autoload-bunfig', path.join(root, 'dist', 'src', 'cli', 'main.js'), '--outfile', tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
fs.renameSync(tmp, out); // atomically: a running test never sees half a binary
console.log(`build-exe: wrote ${path.relative(root, out)} (${(fs.statSync(out).size / 1048576).toFixed(0)} MiB)`);
