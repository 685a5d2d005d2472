// errno numbers → names and messages, so that errors read like
// `mount proc on /proc: EPERM (operation not permitted)` without loading libc. The table itself
// (errno-table.ts) loads at the first error: every call imports this module, few need it.

function errnoTable(): Record<number, [string, string]> {
  return (require('./errno-table') as typeof import('./errno-table')).ERRNO_TABLE;
}

export function errnoName(errno: number): string {
  return errnoTable()[errno]?.[0] ?? `errno ${errno}`;
}

export function errnoMessage(errno: number): string {
  return errnoTable()[errno]?.[1] ?? 'unknown error';
}

/** `EPERM (operation not permitted)` */
export function describeErrno(errno: number): string {
  const e = errnoTable()[errno];
  return e ? `${e[0]} (${e[1]})` : `errno ${errno}`;
}

export function errnoNumber(name: string): number | undefined {
  for (const [n, [nm]] of Object.entries(errnoTable())) if (nm === name) return Number(n);
  return undefined;
}

