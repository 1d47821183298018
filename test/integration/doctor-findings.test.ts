// snapshot doctor with a snapshot: besides the engine checks, what the determinism rules find in
// it, each fix on its own line (text) and the findings as data (--json). The local engine only,
// so no Docker engine is needed.
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeSnapshot } from '../../src/adapters/snapshot-file.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { makeSnapshot } from '../helpers/snapshot-fixture.js';
import { makeRecording } from '../helpers/record-fixture.js';

describe('snapshot doctor findings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-doctor-findings-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = makeSnapshot();
  // Keras 3 and the article's seeds in the run record: a finding only the record can give.
  const snapshot = makeSnapshot({
    frameworks: { ...base.frameworks, keras: { ...(base.frameworks.keras as NonNullable<typeof base.frameworks.keras>), version: '3.15.1' } },
    run: {
      ...(base.run as NonNullable<typeof base.run>),
      // The fixture's seeds are the article's: numpy.random.seed(42), tf.random.set_seed(42).
      record: makeRecording({ python: '3.11.9', fits: [], tensorflow: { onednn_enabled: false, op_determinism: false, tf32_enabled: true }, libraries: null }),
    },
  });
  writeFileSync(join(dir, 'snapshot.yaml'), serializeSnapshot(snapshot));

  it('--json carries the findings the current rules give, run record included', async () => {
    const r = await runCli(['doctor', 'snapshot.yaml', '--engine', 'local', '--gpus', 'none', '--json'], { cwd: dir, env: cleanEnv() });
    const findings = r.json.result.findings as Array<{ code: string; fix: string | null }>;
    expect(findings.find((f) => f.code === 'KERAS3_PYTHON_RANDOM_UNSEEDED')?.fix).toBe('add `keras.utils.set_random_seed(42)` where you call `tf.random.set_seed(42)`.');
    // The H100 of the fixture, TF32 on by TensorFlow's own answer, and no enable_op_determinism.
    expect(findings.map((f) => f.code)).toEqual(expect.arrayContaining(['TF32_ON', 'TF_GPU_NO_OP_DETERMINISM']));
  });

  it('prints each finding with its fix on the next line, before the verdict', async () => {
    const r = await runCli(['doctor', 'snapshot.yaml', '--engine', 'local', '--gpus', 'none'], { cwd: dir, env: cleanEnv() });
    const lines = r.stdout.trimEnd().split('\n');
    const at = lines.findIndex((l) => l.startsWith('  ! Keras 3.15.1 initializers'));
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe('    fix: add `keras.utils.set_random_seed(42)` where you call `tf.random.set_seed(42)`.');
    expect(lines.some((l) => l.startsWith('Determinism findings for snapshot.yaml'))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/^(Ready|Not ready)/);
  });
});
