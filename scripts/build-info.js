// Writes dist/src/build-info.json (version and git commit) for `tsrunc --version` and `features`.
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const root = path.join(__dirname, '..');
const version = require(path.join(root, 'package.json')).version;
let commit = 'unknown';
try {
  commit = execFileSync('git', ['-C', root, 'describe', '--always', '--dirty', '--abbrev=12'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
} catch {
  /* not a git checkout */
}
fs.mkdirSync(path.join(root, 'dist', 'src'), { recursive: true });
// build: new for every build, so that what a build caches (compiled seccomp filters) is never
// used by another one, even of the same (dirty) commit
const build = require('node:crypto').randomBytes(8).toString('hex');
fs.writeFileSync(path.join(root, 'dist', 'src', 'build-info.json'), JSON.stringify({ version, commit, build }) + '\n');
