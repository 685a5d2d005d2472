// Turns ajv's schema errors into SpecIssues: one short message per problem, naming the field by
// JSON pointer and the failing keyword as the rule, without ajv's noise.

import { joinPointer, valueAtPointer, type SpecIssue } from './issues';
import type { SchemaError } from './validators';

/** Friendlier names for the patterns our schemas use (the pattern is still shown). */
const PATTERN_DESCRIPTIONS: Record<string, string> = {
  '^[1-9][0-9]*[KMG]B$': 'a page size such as 64KB, 2MB or 1GB',
  '^RLIMIT_[A-Z]+$': 'an RLIMIT_* name',
  '^[cbup]$': 'a device type: c, b, u or p',
  '^[0-9, -]*$': 'a CPU list such as 0-3,7',
  '^MB:[^\\n]*$': 'one line starting with MB:',
  '^CAP_[A-Z_]+$': 'a CAP_* name',
};

/** How a value looks, for "got ..." in messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? value.slice(0, 57) + '...' : value;
    return JSON.stringify(shown);
  }
  return String(value);
}

function withArticle(typeName: string): string {
  return (/^[aeiou]/.test(typeName) ? 'an ' : 'a ') + typeName;
}

function depth(pointer: string): number {
  return pointer === '' ? 0 : pointer.split('/').length - 1;
}

function isAtOrBelow(pointer: string, base: string): boolean {
  return pointer === base || pointer.startsWith(base + '/');
}

/**
 * anyOf/oneOf failures: ajv reports the combinator error after the errors of every branch. Users
 * need the errors of the branch they most likely meant, taken to be the one that got deepest into
 * the value; the other branches' errors and the combinator error itself are dropped. (Our own
 * schemas avoid anyOf/oneOf; this keeps messages clear if one is ever added.)
 */
function pickRelevantBranches(errors: readonly SchemaError[]): SchemaError[] {
  const dropped = new Set<SchemaError>();
  errors.forEach((combinator, index) => {
    if (combinator.keyword !== 'anyOf' && combinator.keyword !== 'oneOf') return;
    const branchErrors = errors
      .slice(0, index)
      .filter((e) => !dropped.has(e) && isAtOrBelow(e.instancePath, combinator.instancePath));
    if (branchErrors.length === 0) return; // e.g. oneOf with two matching branches: keep it.
    const deepest = Math.max(...branchErrors.map((e) => depth(e.instancePath)));
    for (const e of branchErrors) if (depth(e.instancePath) < deepest) dropped.add(e);
    dropped.add(combinator);
  });
  return errors.filter((e) => !dropped.has(e));
}

function issueFromError(error: SchemaError, document: unknown): SpecIssue {
  const params = error.params;
  const actual = valueAtPointer(document, error.instancePath);
  const got = `; got ${describeValue(actual)}`;
  const issue = (message: string, pointer = error.instancePath): SpecIssue => ({
    pointer,
    rule: error.keyword,
    message,
    severity: 'error',
  });

  switch (error.keyword) {
    case 'required':
      // Point at the missing field itself: /process/cwd is clearer than /process.
      return issue('is required', joinPointer(error.instancePath, String(params['missingProperty'])));
    case 'type':
      return issue(`must be ${withArticle(String(params['type']))}${got}`);
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[] | undefined) ?? [];
      return issue(`must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}${got}`);
    }
    case 'pattern': {
      const pattern = String(params['pattern']);
      const description = PATTERN_DESCRIPTIONS[pattern];
      const expected = description ? `${description} (pattern ${pattern})` : `a string matching ${pattern}`;
      return issue(`must be ${expected}${got}`);
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return issue(`must be ${String(params['comparison'])} ${String(params['limit'])}${got}`);
    case 'minItems':
      return issue(`must have at least ${String(params['limit'])} item(s)`);
    case 'maxItems':
      return issue(`must have at most ${String(params['limit'])} item(s)`);
    case 'additionalProperties':
      return issue('is not allowed here', joinPointer(error.instancePath, String(params['additionalProperty'])));
    case 'anyOf':
      return issue('does not match any of the allowed forms');
    case 'oneOf':
      return issue('must match exactly one of the allowed forms, but matches several');
    default:
      return issue(error.message ?? 'is invalid');
  }
}

/** SpecIssues for the errors of one failed schema validation of `document`. */
export function issuesFromSchemaErrors(errors: readonly SchemaError[], document: unknown): SpecIssue[] {
  const seen = new Set<string>();
  const issues: SpecIssue[] = [];
  for (const error of pickRelevantBranches(errors)) {
    const issue = issueFromError(error, document);
    const key = `${issue.pointer}\0${issue.rule}\0${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}
