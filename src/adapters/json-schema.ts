// JSON Schema validation for the files snapshot reads (snapshots, policies), with messages that
// name the field: "rules.0: unknown field 'atoll'".
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import YAML from 'yaml';
import type { Ajv as AjvType, ErrorObject, ValidateFunction } from 'ajv';
import { UserInputError } from '../errors.js';
import { readText } from './fs.js';

const require = createRequire(import.meta.url);
const compiled = new Map<string, ValidateFunction>();

/**
 * The validator the build precompiled for this schema (scripts/compile-schemas.mjs, in
 * dist/schemas/ beside the package's schemas/ folder), when it was made from these exact bytes.
 */
function precompiled(schemaPath: string, text: string): ValidateFunction | null {
  const path = join(dirname(dirname(schemaPath)), 'dist', 'schemas', basename(schemaPath).replace(/\.schema\.json$/, '.validate.cjs'));
  if (!existsSync(path)) return null;
  const module = require(path) as ValidateFunction & { schemaSha256?: string };
  return module.schemaSha256 === createHash('sha256').update(text).digest('hex') ? module : null;
}

/** Compiling at run time costs ~200 ms for the snapshot schema: the fallback when no build made it. */
export function compileNow(text: string): ValidateFunction {
  const { Ajv } = require('ajv') as { Ajv: new (options: object) => AjvType };
  const addFormats = require('ajv-formats') as (ajv: AjvType) => AjvType;
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats(ajv);
  return ajv.compile(JSON.parse(text) as object);
}

export function schemaValidator(schemaPath: string): ValidateFunction {
  let validate = compiled.get(schemaPath);
  if (validate === undefined) {
    const text = readFileSync(schemaPath, 'utf8');
    validate = precompiled(schemaPath, text) ?? compileNow(text);
    compiled.set(schemaPath, validate);
  }
  return validate;
}

function describe(error: ErrorObject): string {
  const path = error.instancePath === '' ? '(top level)' : error.instancePath.slice(1).replace(/\//g, '.');
  // Inside propertyNames the error is about a key, which instancePath does not name.
  const where = error.propertyName === undefined ? path : `${path}: key '${error.propertyName}'`;
  if (error.keyword === 'additionalProperties') return `${where}: unknown field '${String(error.params.additionalProperty)}'`;
  if (error.keyword === 'enum') return `${where}: must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
  if (error.keyword === 'false schema') return `${where}: is not allowed here`;
  return `${where}: ${error.message ?? 'is invalid'}`;
}

/** The problems with `value`, one line each, or an empty list when it is valid. */
export function schemaProblems(schemaPath: string, value: unknown): string[] {
  const validate = schemaValidator(schemaPath);
  if (validate(value)) return [];
  // A bad key is reported once, by name (its own error), not also as "property name must be valid";
  // an object that fails a nullable field's object branch is not also told it "must be null".
  const nullBranch = (e: ErrorObject) => e.keyword === 'type' && e.params.type === 'null' && /\/anyOf\/\d+\/type$/.test(e.schemaPath);
  const problems = (validate.errors ?? []).filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'if' && e.keyword !== 'propertyNames' && !nullBranch(e)).map(describe);
  return [...new Set(problems)];
}

/**
 * Reads a YAML file strictly: the core schema only (no custom tags), bounded alias expansion,
 * unique keys. `what` names the file in errors ("snapshot", "policy").
 */
export async function readYamlFile(path: string, what: string, code: string): Promise<unknown> {
  // readText refuses files too large to hold in memory before reading them.
  const text = await readText(path, what);
  try {
    return YAML.parse(text, { schema: 'core', maxAliasCount: 100, uniqueKeys: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UserInputError(`${code}_NOT_YAML`, `${what} ${path} is not valid YAML: ${message}`, { cause: error });
  }
}
