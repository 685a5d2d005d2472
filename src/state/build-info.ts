// What build of tsrunc this is: dist/src/build-info.json, written by scripts/build-info.js. Read
// once; `--version`, `features` and the seccomp filter cache's keys all come from here.

export interface BuildInfo {
  version: string;
  commit: string;
  /** random per build: what one build caches is never used by another (absent in old builds) */
  build?: string;
}

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  if (cached === undefined) {
    try {
      cached = require('../build-info.json') as BuildInfo;
    } catch {
      // sources run without a build step: the package's version, and nothing to key caches by
      let version = 'unknown';
      try {
        version = (require('../../../package.json') as { version: string }).version;
      } catch {
        /* not in the repository either */
      }
      cached = { version, commit: 'unknown' };
    }
  }
  return cached;
}
