// The freezer's state, read from a container's cgroup directories alone: a v1 freezer cgroup is
// the directory that has freezer.state, a v2 one has cgroup.events. No hierarchy lookup (that
// parses mountinfo): `state` asks this of every running container, and delete of every one.

import path = require('./path');
import { files } from './files';

export type FreezerState = 'thawed' | 'freezing' | 'frozen';

export function freezerState(dirs: readonly string[]): FreezerState {
  // the v1 freezer hierarchy's directory first, by its name (mounted as .../freezer): one lookup,
  // where asking every hierarchy in turn cost two per hierarchy before it
  const ordered: string[] = [];
  for (const d of dirs) if (d.includes('/freezer/')) ordered.push(d);
  for (const d of dirs) if (!d.includes('/freezer/')) ordered.push(d);
  for (const d of ordered) {
    try {
      const v1 = path.join(d, 'freezer.state');
      if (files().existsSync(v1)) {
        const s = files().readFileSync(v1).trim();
        return s === 'FROZEN' ? 'frozen' : s === 'FREEZING' ? 'freezing' : 'thawed';
      }
      const v2 = path.join(d, 'cgroup.events');
      if (files().existsSync(v2) && /^frozen 1$/m.test(files().readFileSync(v2))) return 'frozen';
    } catch {
      /* removed meanwhile */
    }
  }
  return 'thawed';
}
