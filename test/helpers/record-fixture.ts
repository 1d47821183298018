// A run record as the recorder writes it (src/core/recording.ts), for pure tests: one seeded
// Keras fit on a numpy array. Each test changes what it is about.
import type { RecordedFit, RunRecording } from '../../src/core/recording.js';

const SHA = (c: string) => c.repeat(64).slice(0, 64);

export function makeFit(overrides: Partial<RecordedFit> = {}): RecordedFit {
  return {
    api: 'keras',
    keras_version: '3.15.1',
    backend: 'tensorflow',
    index: 0,
    model: {
      class: 'Sequential',
      name: 'sequential',
      config_sha256: SHA('c'),
      layers: [
        { class: 'Dense', name: 'dense', config: { units: 16, activation: 'relu', kernel_initializer: 'GlorotUniform' }, params: 80 },
        { class: 'Dense', name: 'dense_1', config: { units: 1, activation: 'sigmoid' }, params: 17 },
      ],
      params: 97,
      trainable_params: 97,
      initial_weights_sha256: SHA('a'),
    },
    optimizer: { class: 'Adam', config: { learning_rate: 0.001 } },
    loss: 'binary_crossentropy',
    metrics: ['accuracy'],
    epochs: 5,
    batch_size: 32,
    shuffle: true,
    validation_split: 0,
    class_weight: null,
    callbacks: [],
    data: {
      x: { kind: 'array', source: 'numpy', shape: [512, 4], dtype: 'float32', sha256: SHA('1'), bytes: 8192 },
      y: { kind: 'array', source: 'numpy', shape: [512], dtype: 'int64', sha256: SHA('2'), bytes: 4096 },
      validation: { kind: 'none' },
      sample_weight: { kind: 'none' },
    },
    ...overrides,
  };
}

export function makeRecording(overrides: Partial<RunRecording> = {}): RunRecording {
  return {
    recorder: 1,
    python: '3.11.7',
    seeds: [
      { call: 'numpy.random.seed', args: [42], order: 0, via: null },
      { call: 'tf.random.set_seed', args: [42], order: 1, via: null },
    ],
    switches: [],
    fits: [makeFit()],
    torch: null,
    tensorflow: { onednn_enabled: false, op_determinism: false, tf32_enabled: false },
    libraries: [{ name: 'libgomp', path: '/usr/lib/x86_64-linux-gnu/libgomp.so.1.0.0', version: '1.0.0' }],
    errors: [],
    ...overrides,
  };
}

export const sha = SHA;
