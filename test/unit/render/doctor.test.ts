import { describe, expect, it } from '@jest/globals';
import type { DoctorReport } from '../../../src/core/replay/report.js';
import { renderDoctor } from '../../../src/render/doctor.js';

function report(overrides: Partial<DoctorReport> = {}): DoctorReport {
  return {
    engine: { endpoint: 'unix:///var/run/docker.sock', source: 'default socket' },
    snapshot: 'snapshot.yaml',
    gpus: 'none',
    status: 'warn',
    checks: [{ name: 'engine', status: 'ok', message: 'docker 27.1' }],
    findings: [],
    ...overrides,
  };
}

describe('renderDoctor', () => {
  it('prints the snapshot\'s findings after the checks, each fix on its own line, and the verdict last', () => {
    const lines = renderDoctor(
      report({
        findings: [
          { level: 'warning', code: 'KERAS3_PYTHON_RANDOM_UNSEEDED', message: 'Keras 3.15.1 initializers draw their seeds from Python\'s random module.', fix: 'add `keras.utils.set_random_seed(42)` where you call `tf.random.set_seed(42)`.' },
          { level: 'info', code: 'LEGACY_KERAS_MISSING', message: 'TF_USE_LEGACY_KERAS has no effect here.', fix: null },
        ],
      }),
    );
    expect(lines).toEqual([
      'Engine unix:///var/run/docker.sock (default socket), for snapshot.yaml, GPUs: none',
      '  ok   engine: docker 27.1',
      'Determinism findings for snapshot.yaml (a replay may differ):',
      "  ! Keras 3.15.1 initializers draw their seeds from Python's random module.",
      '    fix: add `keras.utils.set_random_seed(42)` where you call `tf.random.set_seed(42)`.',
      '  - TF_USE_LEGACY_KERAS has no effect here.',
      'Ready, with warnings.',
    ]);
  });

  it('prints no findings section without findings', () => {
    const lines = renderDoctor(report({ snapshot: null, status: 'ok' }));
    expect(lines.some((l) => l.startsWith('Determinism findings'))).toBe(false);
    expect(lines[lines.length - 1]).toBe('Ready.');
  });
});
