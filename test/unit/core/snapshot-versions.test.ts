// Every schema version a released tool wrote stays readable: a stored real capture per version is
// read, lifted to the current schema and used; a snapshot from a newer tool is refused as such.
import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { loadSnapshotDocument, readSnapshot, serializeSnapshot, snapshotSchemaPath } from '../../../src/adapters/snapshot-file.js';
import { SCHEMA_VERSION } from '../../../src/core/model.js';
import { migrateSnapshot, READABLE_SCHEMA_VERSIONS, schemaSupport } from '../../../src/core/snapshot-versions.js';
import { UserInputError } from '../../../src/errors.js';
import { makeSnapshot } from '../../helpers/snapshot-fixture.js';

const stored = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/snapshots');
const storedPath = (version: number) => join(stored, `schema-${version}`, 'snapshot.yaml');
/** Every stored capture: one per version, and each released shape of a version (schema 2 gained fields after its first release). */
const STORED: Array<[string, number]> = [...READABLE_SCHEMA_VERSIONS.map((v): [string, number] => [`schema-${v}`, v]), ['schema-2-early', 2]];

describe('stored snapshots of every readable schema version', () => {
  it('has one stored capture and one schema file per readable version', () => {
    expect(READABLE_SCHEMA_VERSIONS[READABLE_SCHEMA_VERSIONS.length - 1]).toBe(SCHEMA_VERSION);
    for (const version of READABLE_SCHEMA_VERSIONS) {
      expect(existsSync(storedPath(version))).toBe(true);
      expect(existsSync(snapshotSchemaPath(version))).toBe(true);
      expect(YAML.parse(readFileSync(storedPath(version), 'utf8')).schema).toBe(version);
    }
  });

  it.each(STORED)('reads %s (schema %i) as the current schema, keeping what it recorded', async (folder, version) => {
    const path = join(stored, folder, 'snapshot.yaml');
    const raw = YAML.parse(readFileSync(path, 'utf8'));
    expect(raw.schema).toBe(version);
    const snapshot = await readSnapshot(path);
    expect(snapshot.schema).toBe(SCHEMA_VERSION);
    expect(snapshot.id).toBe(raw.id);
    // What the version recorded is kept as it was; fields it did not have are filled as unknown.
    expect(snapshot.packages).toMatchObject(raw.packages);
    expect(snapshot.packages).toHaveLength(raw.packages.length);
    expect(snapshot.run).toMatchObject(raw.run);
    // Where the paths sat in the repository: recorded from schema 3, unknown (null) before it.
    if (version >= 3) expect(snapshot.code).toMatchObject({ repo_root: raw.code.repo_root, in_repo: '' });
    else expect(snapshot.code).toMatchObject({ repo_root: null, in_repo: null });
    expect(snapshot.run?.outputs_path).toBe(join(raw.run.cwd, 'out'));
    expect(snapshot.code?.git).toMatchObject({ commit: 'ec5e72d4e21db7e9aa7c3533aa1e541c6fa39911', dirty: true, patch_file: 'snapshot.bundle/code.patch', patch_error: null });
    // A migrated snapshot is a valid current one: written back, it reads again unchanged.
    const dir = mkdtempSync(join(tmpdir(), 'snapshot-versions-'));
    writeFileSync(join(dir, 's.yaml'), serializeSnapshot(snapshot));
    expect(await readSnapshot(join(dir, 's.yaml'))).toEqual(snapshot);
  });

  it('lifts schema 1 with an unknown patch checksum, never an invented one', async () => {
    const snapshot = await readSnapshot(storedPath(1));
    expect(snapshot.code?.git).toMatchObject({ patch_sha256: null, patch_size: null, patch_error: null });
  });

  it('lifts schema 1 with what it did not record as unknown: install layout, keras.json, submodules, log sizes', async () => {
    const snapshot = await readSnapshot(storedPath(1));
    for (const pkg of snapshot.packages) expect(pkg).toMatchObject({ metadata: null, location: null, requires_tooling: [] });
    expect(snapshot.code?.git).toMatchObject({ staged: [], submodules: [] });
    expect(snapshot.run).toMatchObject({ stdout_bytes: null, stderr_bytes: null, logs_truncated: false });
    if (snapshot.frameworks.keras) expect(snapshot.frameworks.keras.config).toBeNull();
    for (const data of snapshot.data) expect(data.manifest_file).toBeNull();
  });

  it('lifts the early schema 2 (data inline, no install layout) like schema 1: unknown, never invented', async () => {
    const snapshot = await readSnapshot(join(stored, 'schema-2-early', 'snapshot.yaml'));
    for (const pkg of snapshot.packages) expect(pkg).toMatchObject({ metadata: null, location: null, requires_tooling: [] });
    expect(snapshot.code?.git).toMatchObject({ staged: [], submodules: [] });
    expect(snapshot.run).toMatchObject({ stdout_bytes: null, stderr_bytes: null, logs_truncated: false, cwd_in_repo: null, outputs_in_repo: null });
  });

  it('checks a schema 1 document against the schema 1 rules, not the current ones', () => {
    const v1 = YAML.parse(readFileSync(storedPath(1), 'utf8'));
    // A field schema 1 did not have is unknown there.
    v1.code.git.patch_sha256 = 'a'.repeat(64);
    expect(() => loadSnapshotDocument(v1, 'old.yaml')).toThrow("old.yaml does not match the snapshot schema: code.git: unknown field 'patch_sha256'");
  });
});

describe('schema support', () => {
  it('tells current, older, newer and unknown versions apart', () => {
    expect(schemaSupport({ schema: SCHEMA_VERSION })).toEqual({ kind: 'current' });
    expect(schemaSupport({ schema: 1 })).toEqual({ kind: 'older', version: 1 });
    expect(schemaSupport({ schema: SCHEMA_VERSION + 1 })).toEqual({ kind: 'newer', version: SCHEMA_VERSION + 1 });
    for (const value of [{ schema: 0 }, { schema: '2' }, { schema: 1.5 }, {}, null, 'x']) expect(schemaSupport(value)).toEqual({ kind: 'unknown' });
  });

  it('refuses a snapshot from a newer tool as such, with what to do', () => {
    const newer = { ...makeSnapshot(), schema: SCHEMA_VERSION + 1, tool: { name: 'snapshot', version: '9.0.0' }, field_from_the_future: true };
    let error: unknown;
    try {
      loadSnapshotDocument(newer, 'future.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserInputError);
    const e = error as UserInputError;
    expect(e.code).toBe('SNAPSHOT_TOO_NEW');
    expect(e.message).toBe(`future.yaml has snapshot schema ${SCHEMA_VERSION + 1} (written by snapshot 9.0.0); this snapshot reads schemas 1 to ${SCHEMA_VERSION}`);
    expect(e.hint).toMatch(/Upgrade snapshot/);
    expect(e.message).not.toMatch(/corrupt|recapture/i);
  });

  it('migrates a snapshot without code or git', () => {
    const v1 = { ...YAML.parse(readFileSync(storedPath(1), 'utf8')), code: null };
    expect(migrateSnapshot(v1, 1).code).toBeNull();
    const noGit = { ...YAML.parse(readFileSync(storedPath(1), 'utf8')), code: { path: '/x', git: null } };
    expect(migrateSnapshot(noGit, 1).code).toEqual({ path: '/x', repo_root: null, in_repo: null, git: null });
  });
});
