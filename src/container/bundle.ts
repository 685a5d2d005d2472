// Read and check a bundle before anything is created: config.json must parse, pass our schema and
// the semantic checks, and name an existing rootfs. Bad input fails here and leaves no trace.

import { files } from '../linux/files';
import path = require('../linux/path');
import type { Spec } from '../spec/types';
import { ContainerError } from './errors';
import { mark } from '../state/timing';

export interface Bundle {
  dir: string;
  spec: Spec;
  rootfs: string;
}

export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = files().readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ContainerError(`${what} ${file} not found`);
    throw new ContainerError(`read ${what} ${file}: ${code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ContainerError(`${file}: invalid JSON: ${(e as Error).message}`);
  }
}

/**
 * `seccompKnownGood`: the profile passed every check before (create's filter cache has it), so
 * checking it again is skipped.
 */
export function loadBundle(bundleDir: string, warn: (msg: string) => void = () => {}, seccompKnownGood?: (profile: NonNullable<NonNullable<Spec['linux']>['seccomp']>) => boolean): Bundle {
  const dir = path.resolve(bundleDir);
  const raw = readJsonFile(path.join(dir, 'config.json'), 'JSON specification file');
  const { validateConfig, formatIssues } = require('../spec/validate') as typeof import('../spec/validate');
  const { hasErrors, isError } = require('../spec/issues') as typeof import('../spec/issues');
  mark('validators loaded');
  const issues = validateConfig(raw, { forCreate: true, includeWarnings: true });
  const spec = raw as Spec;
  const seccomp = spec.linux?.seccomp;
  if (seccomp && !seccompKnownGood?.(seccomp)) {
    const { checkSeccomp } = require('../linux/seccomp') as typeof import('../linux/seccomp');
    issues.push(...checkSeccomp(seccomp));
  }
  const file = path.join(dir, 'config.json');
  if (hasErrors(issues)) throw new ContainerError(formatIssues(issues.filter(isError), file));
  for (const w of issues) warn(formatIssues([w], file));
  const rootPath = path.resolve(dir, spec.root!.path);
  let rootfs: string;
  try {
    rootfs = files().realpathSync(rootPath);
  } catch {
    throw new ContainerError(`rootfs (${rootPath}) does not exist`);
  }
  if (files().stat(rootfs)?.kind !== 'dir') throw new ContainerError(`rootfs (${rootPath}) is not a directory`);
  return { dir, spec, rootfs };
}
