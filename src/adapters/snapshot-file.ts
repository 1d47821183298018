// Reading and writing snapshot files: YAML on disk, validated against the JSON Schema that ships
// in schemas/. A snapshot may come from anyone, so reading is strict and errors name the field.
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import type { Snapshot } from '../core/model.js';
import { UserInputError } from '../errors.js';
import { readYamlFile, schemaProblems } from './json-schema.js';

export const SNAPSHOT_SCHEMA_PATH = fileURLToPath(new URL('../../schemas/snapshot.schema.json', import.meta.url));

/** Throws a UserInputError naming every invalid field (first five) of what `what` describes. */
export function validateSnapshot(value: unknown, what: string): asserts value is Snapshot {
  const unique = schemaProblems(SNAPSHOT_SCHEMA_PATH, value);
  if (unique.length === 0) return;
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
  const value = await readYamlFile(path, 'snapshot', 'SNAPSHOT');
  validateSnapshot(value, path);
  return value;
}
