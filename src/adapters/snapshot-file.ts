// Reading and writing snapshot files: YAML on disk, validated against the JSON Schema that ships
// in schemas/. A snapshot may come from anyone, so reading is strict and errors name the field.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import YAML from 'yaml';
import type { Snapshot } from '../core/model.js';
import { UserInputError } from '../errors.js';
import { readText } from './fs.js';

export const SNAPSHOT_SCHEMA_PATH = fileURLToPath(new URL('../../schemas/snapshot.schema.json', import.meta.url));

const MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024;

let validator: ValidateFunction | null = null;

function compiledValidator(): ValidateFunction {
  if (validator === null) {
    const schema = JSON.parse(readFileSync(SNAPSHOT_SCHEMA_PATH, 'utf8')) as object;
    const ajv = new Ajv({ allErrors: true, strict: true });
    // ajv-formats is CommonJS; its default export arrives wrapped under ESM.
    const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;
    addFormats(ajv);
    validator = ajv.compile(schema);
  }
  return validator;
}

function describe(error: ErrorObject): string {
  const path = error.instancePath === '' ? '(top level)' : error.instancePath.slice(1).replace(/\//g, '.');
  // Inside propertyNames the error is about a key, which instancePath does not name.
  const where = error.propertyName === undefined ? path : `${path}: key '${error.propertyName}'`;
  if (error.keyword === 'additionalProperties') return `${where}: unknown field '${String(error.params.additionalProperty)}'`;
  if (error.keyword === 'enum') return `${where}: must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
  return `${where}: ${error.message ?? 'is invalid'}`;
}

/** Throws a UserInputError naming every invalid field (first five) of what `what` describes. */
export function validateSnapshot(value: unknown, what: string): asserts value is Snapshot {
  const validate = compiledValidator();
  if (validate(value)) return;
  const problems = (validate.errors ?? []).filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'propertyNames').map(describe);
  const unique = [...new Set(problems)];
  throw new UserInputError('SNAPSHOT_INVALID', `${what} does not match the snapshot schema: ${unique.slice(0, 5).join('; ')}${unique.length > 5 ? ` (and ${unique.length - 5} more)` : ''}`, {
    hint: 'Recapture it with `snapshot capture`, or fix the fields named.',
    data: { errors: unique },
  });
}

export function serializeSnapshot(snapshot: Snapshot): string {
  const header = '# Captured by `snapshot capture`. Schema: schemas/snapshot.schema.json\n';
  return header + YAML.stringify(snapshot, { lineWidth: 0, aliasDuplicateObjects: false });
}

export async function readSnapshot(path: string): Promise<Snapshot> {
  const text = await readText(path, 'snapshot');
  if (text.length > MAX_SNAPSHOT_BYTES) {
    throw new UserInputError('SNAPSHOT_TOO_LARGE', `${path} is larger than ${MAX_SNAPSHOT_BYTES} bytes`, { hint: 'Is this really a snapshot file?' });
  }
  let value: unknown;
  try {
    // The core schema only: no custom tags, and alias expansion is bounded by the library.
    value = YAML.parse(text, { schema: 'core', maxAliasCount: 100, uniqueKeys: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UserInputError('SNAPSHOT_NOT_YAML', `${path} is not valid YAML: ${message}`, { hint: 'Recapture it with `snapshot capture`.', cause: error });
  }
  validateSnapshot(value, path);
  return value;
}
