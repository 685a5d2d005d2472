// Types for validators.js, which scripts/build-validators.js generates from schemas/*.json into
// dist/src/spec/ at build time (ajv standalone code). Keep the names in step with EXPORTS there.

/** One error as ajv's generated code reports it (the subset of ajv's ErrorObject we read). */
export interface SchemaError {
  /** JSON pointer to the offending value, '' for the document itself. */
  instancePath: string;
  /** Where the failing keyword is in the schema, e.g. '#/$defs/uint32/maximum'. */
  schemaPath: string;
  /** The failing schema keyword: 'type', 'required', 'enum', 'pattern', 'minimum', ... */
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

export interface SchemaValidator {
  (data: unknown): boolean;
  /** Set after a failed call, null after a successful one. */
  errors?: SchemaError[] | null;
}

export declare const validateConfigSchema: SchemaValidator;
export declare const validateProcessSchema: SchemaValidator;
export declare const validateStateSchema: SchemaValidator;
export declare const validateFeaturesSchema: SchemaValidator;
/** linux.resources of config.json, and the document `update --resources` reads. */
export declare const validateResourcesSchema: SchemaValidator;
