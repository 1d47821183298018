// Reading and writing snapshot files: YAML on disk, validated against the JSON Schema that ships
// in schemas/. A snapshot may come from anyone, so reading is strict and errors name the field.
// Older schema versions are validated against their own schema file, then lifted to the current one.
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { SCHEMA_VERSION, type Snapshot } from '../core/model.js';
import { migrateSnapshot, READABLE_SCHEMA_VERSIONS, schemaSupport } from '../core/snapshot-versions.js';
import { InternalError, UserInputError } from '../errors.js';
import { readYamlFile, schemaProblems } from './json-schema.js';

export const SNAPSHOT_SCHEMA_PATH = fileURLToPath(new URL('../../schemas/snapshot.schema.json', import.meta.url));

/** The schema file of an older version: schemas/snapshot-v<N>.schema.json, kept as it was released. */
export function snapshotSchemaPath(version: number): string {
  return version === SCHEMA_VERSION ? SNAPSHOT_SCHEMA_PATH : fileURLToPath(new URL(`../../schemas/snapshot-v${version}.schema.json`, import.meta.url));
}

function assertValid(schemaPath: string, value: unknown, what: string): void {
  const unique = schemaProblems(schemaPath, value);
  if (unique.length === 0) return;
  throw new UserInputError('SNAPSHOT_INVALID', `${what} does not match the snapshot schema: ${unique.slice(0, 5).join('; ')}${unique.length > 5 ? ` (and ${unique.length - 5} more)` : ''}`, {
    hint: 'Recapture it with `snapshot capture`, or fix the fields named.',
    data: { errors: unique },
  });
}

/** Throws a UserInputError naming every invalid field (first five) of what `what` describes, under the current schema. */
export function validateSnapshot(value: unknown, what: string): asserts value is Snapshot {
  assertValid(SNAPSHOT_SCHEMA_PATH, value, what);
}

/**
 * Any readable version in, the current one out. A snapshot from a newer tool is refused as such
 * (upgrading helps; recapturing does not).
 */
export function loadSnapshotDocument(value: unknown, what: string): Snapshot {
  const support = schemaSupport(value);
  if (support.kind === 'newer') {
    const tool = (value as { tool?: { version?: unknown } }).tool?.version;
    throw new UserInputError('SNAPSHOT_TOO_NEW', `${what} has snapshot schema ${support.version}${typeof tool === 'string' ? ` (written by snapshot ${tool.slice(0, 40)})` : ''}; this snapshot reads schemas ${READABLE_SCHEMA_VERSIONS[0]} to ${SCHEMA_VERSION}`, {
      hint: 'Upgrade snapshot (npm install -g snapshot-ml@latest, or from the repository) to read it.',
    });
  }
  if (support.kind !== 'older') {
    validateSnapshot(value, what);
    return value;
  }
  assertValid(snapshotSchemaPath(support.version), value, what);
  const lifted = migrateSnapshot(value, support.version);
  const problems = schemaProblems(SNAPSHOT_SCHEMA_PATH, lifted);
  // A valid older snapshot that does not lift to a valid current one is our bug.
  if (problems.length > 0) throw new InternalError(`${what}: schema ${support.version} did not migrate to schema ${SCHEMA_VERSION}: ${problems.slice(0, 3).join('; ')}`);
  return lifted;
}

export function serializeSnapshot(snapshot: Snapshot): string {
  const header = '# Captured by `snapshot capture`. Schema: schemas/snapshot.schema.json\n';
  return header + YAML.stringify(snapshot, { lineWidth: 0, aliasDuplicateObjects: false });
}

export async function readSnapshot(path: string): Promise<Snapshot> {
  const value = await readYamlFile(path, 'snapshot', 'SNAPSHOT');
  return loadSnapshotDocument(value, path);
}
