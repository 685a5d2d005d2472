// Validation of the runtime-spec documents tsrunc reads: config.json, exec's process.json,
// update's resources JSON, and the state and features documents it writes.
//
// Two stages: the JSON Schema (schemas/*.json, compiled to standalone code at build time, so no
// schema compiler runs here), then, for a structurally valid document, the semantic rules of
// semantic.ts. Every issue names the field by JSON pointer and the rule it breaks.

import { files } from '../linux/files';
import { hasErrors, isError, type SpecIssue } from './issues';
import { issuesFromSchemaErrors } from './schema-errors';
import {
  checkConfig,
  checkProcessDocument,
  checkResourcesDocument,
  checkStateDocument,
  type ConfigCheckOptions,
} from './semantic';
import type { Features, LinuxResources, Process, Spec, State } from './types';
import { mark } from '../state/timing';
import {
  validateConfigSchema,
  validateFeaturesSchema,
  validateProcessSchema,
  validateResourcesSchema,
  validateStateSchema,
  type SchemaValidator,
} from './validators';

export { formatIssues, hasErrors, isError, type IssueSeverity, type SpecIssue } from './issues';
export { SEMANTIC_RULES, type SemanticRule } from './semantic';

export interface ValidateOptions {
  /**
   * Also return warnings (severity 'warning': allowed by the spec but deprecated or ignored).
   * Off by default, so that any returned issue means the document is unusable; callers that
   * want to show warnings set this and then test hasErrors().
   */
  includeWarnings?: boolean;
}

export interface ValidateConfigOptions extends ValidateOptions, ConfigCheckOptions {}

function schemaIssues(validator: SchemaValidator, document: unknown): SpecIssue[] {
  if (validator(document)) return [];
  return issuesFromSchemaErrors(validator.errors ?? [], document);
}

/** Schema first; the semantic rules only see documents whose structure is right. */
function validateWith<T>(
  validator: SchemaValidator,
  document: unknown,
  semantic: (doc: T) => SpecIssue[],
  options: ValidateOptions,
): SpecIssue[] {
  const structural = schemaIssues(validator, document);
  mark('schema checked');
  const issues = structural.length > 0 ? structural : semantic(document as T);
  return options.includeWarnings ? issues : issues.filter(isError);
}

/** Issues in a config.json; `{ forCreate: true }` also requires what create/run need (process, root). */
export function validateConfig(document: unknown, options: ValidateConfigOptions = {}): SpecIssue[] {
  return validateWith<Spec>(validateConfigSchema, document, (spec) => checkConfig(spec, options), options);
}

/** Issues in a process.json as given to `exec --process` (the spec's Process object). */
export function validateProcess(document: unknown, options: ValidateOptions = {}): SpecIssue[] {
  return validateWith<Process>(validateProcessSchema, document, checkProcessDocument, options);
}

/** Issues in a state document (what `state` prints and hooks read on stdin). */
export function validateState(document: unknown, options: ValidateOptions = {}): SpecIssue[] {
  return validateWith<State>(validateStateSchema, document, checkStateDocument, options);
}

/** Issues in a features document (what `features` prints). */
export function validateFeatures(document: unknown, options: ValidateOptions = {}): SpecIssue[] {
  return validateWith<Features>(validateFeaturesSchema, document, () => [], options);
}

/** Issues in a linux.resources object as given to `update --resources`. */
export function validateResources(document: unknown, options: ValidateOptions = {}): SpecIssue[] {
  return validateWith<LinuxResources>(validateResourcesSchema, document, checkResourcesDocument, options);
}

// ---------------------------------------------------------------------------------------------
// Reading documents

export type DocumentKind = 'config' | 'process' | 'resources' | 'state' | 'features';

interface DocumentTypes {
  config: Spec;
  process: Process;
  resources: LinuxResources;
  state: State;
  features: Features;
}

export interface ParsedDocument<K extends DocumentKind> {
  /** The document, present when it has no errors (it may have warnings). */
  document?: DocumentTypes[K];
  issues: SpecIssue[];
}

const VALIDATORS: { [K in DocumentKind]: (document: unknown, options: ValidateConfigOptions) => SpecIssue[] } = {
  config: validateConfig,
  process: validateProcess,
  resources: validateResources,
  state: validateState,
  features: validateFeatures,
};

/**
 * Parses JSON text and validates it as a document of the given kind. The result always includes
 * warnings; `document` is set when there is no error.
 */
export function parseDocument<K extends DocumentKind>(
  kind: K,
  text: string,
  options: ValidateConfigOptions = {},
): ParsedDocument<K> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { issues: [{ pointer: '', rule: 'json-syntax', message: `is not valid JSON: ${reason}`, severity: 'error' }] };
  }
  const issues = VALIDATORS[kind](value, { ...options, includeWarnings: true });
  return hasErrors(issues) ? { issues } : { document: value as DocumentTypes[K], issues };
}

/**
 * Reads and validates one file. A file that cannot be read throws the fs error unchanged (its
 * code, e.g. ENOENT, is for the caller to report).
 */
export function readDocumentFile<K extends DocumentKind>(
  kind: K,
  file: string,
  options: ValidateConfigOptions = {},
): ParsedDocument<K> {
  return parseDocument(kind, files().readFileSync(file), options);
}
