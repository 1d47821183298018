import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { readSnapshot, serializeSnapshot, validateSnapshot } from '../../../src/adapters/snapshot-file.js';
import { UserInputError } from '../../../src/errors.js';
import { makeSnapshot } from '../../helpers/snapshot-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'snapshot-schema-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function writeTemp(text: string): string {
  const path = join(dir, `snapshot-${counter++}.yaml`);
  writeFileSync(path, text, 'utf8');
  return path;
}

/** The UserInputError validateSnapshot throws for `value`, or a failure when it does not throw. */
function invalid(value: unknown): UserInputError {
  try {
    validateSnapshot(value, 'test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(UserInputError);
    const e = error as UserInputError;
    expect(e.code).toBe('SNAPSHOT_INVALID');
    expect(e.message).toContain('test.yaml');
    return e;
  }
  throw new Error('validateSnapshot accepted an invalid snapshot');
}

async function readError(path: string): Promise<UserInputError> {
  try {
    await readSnapshot(path);
  } catch (error) {
    expect(error).toBeInstanceOf(UserInputError);
    return error as UserInputError;
  }
  throw new Error(`readSnapshot accepted ${path}`);
}

/** A deep copy as plain JSON data, free to mutate. */
function plain(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(makeSnapshot())) as Record<string, unknown>;
}

describe('validateSnapshot', () => {
  it('accepts the complete fixture', () => {
    expect(() => validateSnapshot(makeSnapshot(), 'test.yaml')).not.toThrow();
  });

  it('accepts a snapshot without GPU, frameworks, code, data or run', () => {
    const s = makeSnapshot({
      frameworks: { tensorflow: null, keras: null, torch: null, jax: null, numpy: null, nvidia_wheels: [] },
      gpu: { available: false, driver_version: null, driver_cuda_version: null, devices: [], kernel_module: null, cuda_toolkit: null, cudnn: [] },
      code: null,
      data: [],
      run: null,
      determinism: { env: {}, findings: [] },
      probes: {},
    });
    expect(() => validateSnapshot(s, 'test.yaml')).not.toThrow();
  });

  it('names an unknown top-level key', () => {
    const e = invalid({ ...makeSnapshot(), secrets: { token: 'x' } });
    expect(e.message).toContain('secrets');
    expect(e.message).toContain('unknown field');
  });

  it.each([0, 1.5, '2'])('names schema when it is %j', (schema) => {
    const e = invalid({ ...makeSnapshot(), schema });
    expect(e.message).toMatch(/\bschema\b: /);
  });

  it('names a determinism.env key that is not upper case', () => {
    const s = makeSnapshot();
    s.determinism.env = { ...s.determinism.env, lower_case: '1' };
    const e = invalid(s);
    expect(e.message).toContain('determinism.env');
    expect(e.message).toContain('lower_case');
  });

  it('names a data file sha256 that is not 64 hex digits', () => {
    const s = plain();
    // Schema 1 listed the files inline; a current snapshot may still carry such a list.
    const data = s.data as Array<{ files: Array<{ path: string; size: number; sha256: string }> }>;
    (data[0] as { files: unknown }).files = [
      { path: 'a.csv', size: 1, sha256: 'a'.repeat(64) },
      { path: 'b.csv', size: 1, sha256: 'ABC123' },
    ];
    const e = invalid(s);
    expect(e.message).toContain('data.0.files.1.sha256');
  });

  it('names a probe status that is not one of the four', () => {
    const s = plain();
    (s.probes as Record<string, { status: string }>).nvcc = { status: 'weird', duration_ms: 1 } as { status: string };
    const e = invalid(s);
    expect(e.message).toContain('probes.nvcc.status');
    expect(e.message).toMatch(/ok, absent, timeout, error/);
  });

  it('names a missing python section', () => {
    const s = plain();
    delete s.python;
    const e = invalid(s);
    expect(e.message).toContain('python');
    expect(e.message).toMatch(/required/);
  });

  it('lists the errors in data and refuses non-objects', () => {
    const e = invalid({ ...makeSnapshot(), schema: 0, secrets: 1 });
    expect(e.data?.errors).toEqual(expect.arrayContaining([expect.stringContaining('schema'), expect.stringContaining('secrets')]));
    expect(invalid(null).message).toContain('(top level)');
    expect(invalid([]).code).toBe('SNAPSHOT_INVALID');
  });
});

describe('serializeSnapshot and readSnapshot', () => {
  it('round-trips the complete fixture through YAML on disk', async () => {
    const snapshot = makeSnapshot();
    const text = serializeSnapshot(snapshot);
    expect(text.startsWith('#')).toBe(true);
    const back = await readSnapshot(writeTemp(text));
    expect(back).toEqual(snapshot);
  });

  it('round-trips values YAML could mistake for other types', async () => {
    const snapshot = makeSnapshot();
    snapshot.determinism.env = { PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: 'false', CUDA_VISIBLE_DEVICES: '0,1', OMP_NUM_THREADS: '08', KERAS_BACKEND: 'null', XLA_FLAGS: '--a=1 --b: yes' };
    snapshot.python = { ...snapshot.python, version: '3.10.0' };
    snapshot.packages = [{ name: 'x', version: '1.10', installer: null, requested: true, source: { kind: 'index' }, metadata: 'dist-info', location: null, requires_tooling: [] }];
    const back = await readSnapshot(writeTemp(serializeSnapshot(snapshot)));
    expect(back).toEqual(snapshot);
    expect(back.packages[0]?.version).toBe('1.10');
  });

  it('refuses a file that is not YAML', async () => {
    const e = await readError(writeTemp('schema: 1\nid: [unclosed\n  - : :\n'));
    expect(e.code).toBe('SNAPSHOT_NOT_YAML');
  });

  it('refuses a missing file', async () => {
    const e = await readError(join(dir, 'does-not-exist.yaml'));
    expect(e.code).toBe('UNREADABLE_FILE');
    expect(e.message).toContain('does-not-exist.yaml');
  });

  it('refuses a duplicate key', async () => {
    const text = serializeSnapshot(makeSnapshot()).replace(/^schema: 4$/m, 'schema: 4\nschema: 4');
    expect(text).toMatch(/^schema: 4\nschema: 4$/m);
    const e = await readError(writeTemp(text));
    expect(e.code).toBe('SNAPSHOT_NOT_YAML');
  });

  it('refuses valid YAML that breaks the schema, naming the field', async () => {
    const text = serializeSnapshot(makeSnapshot()).replace(/^schema: 4$/m, 'schema: two');
    const e = await readError(writeTemp(text));
    expect(e.code).toBe('SNAPSHOT_INVALID');
    expect(e.message).toContain('schema');
  });
});
