// Removes compiled files whose TypeScript source is gone (a moved or deleted module would
// otherwise still load from dist/). Cheaper and safer than `rm -rf dist` while other processes
// may be running the CLI from dist/.
const fs = require('node:fs');
const path = require('node:path');
const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
const generated = new Set([path.join('src', 'spec', 'validators.js'), path.join('src', 'build-info.json')]);
function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      walk(p);
      if (fs.readdirSync(p).length === 0) fs.rmdirSync(p);
      continue;
    }
    const rel = path.relative(dist, p);
    if (generated.has(rel) || !rel.endsWith('.js')) continue;
    if (!fs.existsSync(path.join(root, rel.replace(/\.js$/, '.ts')))) fs.rmSync(p);
  }
}
if (fs.existsSync(dist)) walk(dist);
