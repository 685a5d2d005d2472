// The one result type of every validator in src/spec, and how to print it.

export type IssueSeverity = 'error' | 'warning';

export interface SpecIssue {
  /** JSON pointer (RFC 6901) to the offending value, e.g. /linux/namespaces/2/type; '' = whole document. */
  pointer: string;
  /** Stable rule name: a schema keyword ('type', 'required', 'enum', ...) or a semantic rule ('absolute-path', ...). */
  rule: string;
  /** What is wrong, for a human; does not repeat the pointer or the rule. */
  message: string;
  /**
   * 'error' (also when absent) makes the document unusable. 'warning' is for what the spec allows
   * but discourages (or tells runtimes to ignore): report it, run the container anyway.
   */
  severity?: IssueSeverity;
}

/** True if any issue is an error (warnings alone do not stop a container). */
export function hasErrors(issues: readonly SpecIssue[]): boolean {
  return issues.some(isError);
}

export function isError(issue: SpecIssue): boolean {
  return issue.severity !== 'warning';
}

/** Escapes one JSON pointer reference token (RFC 6901: ~ -> ~0, / -> ~1). */
export function escapePointerToken(token: string | number): string {
  return String(token).replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Joins a base pointer and reference tokens: joinPointer('/linux', 'namespaces', 2) = '/linux/namespaces/2'. */
export function joinPointer(base: string, ...tokens: Array<string | number>): string {
  return base + tokens.map((token) => '/' + escapePointerToken(token)).join('');
}

/** The value a JSON pointer designates in a document, or undefined if there is none. */
export function valueAtPointer(document: unknown, pointer: string): unknown {
  if (pointer === '') return document;
  let current: unknown = document;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[token];
  }
  return current;
}

/**
 * One line per issue, e.g.
 *   config.json: /mounts/3/destination: must be an absolute path (absolute-path)
 *   config.json: warning: /process/consoleSize: is ignored because process.terminal is not true (console-size-without-terminal)
 */
export function formatIssues(issues: readonly SpecIssue[], file: string): string {
  return issues
    .map((issue) => {
      const where = issue.pointer === '' ? '(document)' : issue.pointer;
      const severity = issue.severity === 'warning' ? 'warning: ' : '';
      return `${file}: ${severity}${where}: ${issue.message} (${issue.rule})`;
    })
    .join('\n');
}
