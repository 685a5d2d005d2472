// `tsrunc --help` and `tsrunc <verb> --help`, in the layout of runc's (urfave/cli) help, from the
// flag tables in argv.ts. Loaded only when help is asked for.

import { GLOBAL_FLAGS, HELP_FLAG, VERBS, VERSION_FLAG, type FlagSpec, type VerbSpec } from './argv';

export const DESCRIPTION = 'an OCI runtime-spec container runtime written in TypeScript, compatible with runc';

function flagColumn(f: FlagSpec): string {
  const value = f.kind === 'bool' ? '' : ' value';
  return `--${f.long}${value}${f.short ? `, -${f.short}${value}` : ''}`;
}

function flagLines(flags: FlagSpec[]): string {
  const width = Math.max(...flags.map((f) => flagColumn(f).length));
  return flags
    .map((f) => {
      const dflt = f.default !== undefined ? ` (default: ${JSON.stringify(f.default)})` : '';
      return `   ${flagColumn(f).padEnd(width)}  ${f.description}${dflt}\n`;
    })
    .join('');
}

export function helpText(verb?: VerbSpec): string {
  if (verb) {
    return (
      `NAME:\n   tsrunc ${verb.name} - ${verb.description}\n\n` +
      `USAGE:\n   tsrunc ${verb.name} [command options] ${verb.usage}\n\n` +
      `OPTIONS:\n${flagLines([...verb.flags, HELP_FLAG])}`
    );
  }
  const width = Math.max(...VERBS.map((v) => v.name.length));
  return (
    `NAME:\n   tsrunc - ${DESCRIPTION}\n\n` +
    `USAGE:\n   tsrunc [global options] command [command options] [arguments...]\n\n` +
    `COMMANDS:\n${VERBS.map((v) => `   ${v.name.padEnd(width)}  ${v.description}\n`).join('')}   ${'help'.padEnd(width)}  show a list of commands or help for one command\n\n` +
    `GLOBAL OPTIONS:\n${flagLines([...GLOBAL_FLAGS, HELP_FLAG, VERSION_FLAG])}`
  );
}
