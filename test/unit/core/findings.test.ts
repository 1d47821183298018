// The findings engine (src/core/findings.ts) and the shipped rules (data/findings.json): every
// rule fires where it should and is quiet where it should not, on hand-made inputs and run
// records shaped as src/core/recording.ts says; the file itself is valid and closed; the loader
// names the file and the field of a bad one.
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { schemaProblems } from '../../../src/adapters/json-schema.js';
import { FINDINGS_DATA_PATH, FINDINGS_SCHEMA_PATH, loadFindingRules } from '../../../src/adapters/package-files.js';
import { DETERMINISM_ENV_ALLOWLIST, ONEDNN_DEFAULT_CPU_FLAGS, findingsFor } from '../../../src/core/determinism.js';
import { CONDITION_KEYS, PLACEHOLDERS, conditionKeysUsed, evaluateFindings, parseFindingRules, type FindingsInput } from '../../../src/core/findings.js';
import type { Finding, FrameworksInfo, GpuInfo, KerasInfo } from '../../../src/core/model.js';
import type { RecordedCall, RecordedFit, RunRecording } from '../../../src/core/recording.js';
import { FINDINGS_JSON, RULES } from '../../helpers/finding-rules.js';
import { makeSnapshot } from '../../helpers/snapshot-fixture.js';

// ---------------------------------------------------------------------------------------------
// Inputs

function frameworks(overrides: Partial<FrameworksInfo> = {}): FrameworksInfo {
  return { tensorflow: null, keras: null, torch: null, jax: null, numpy: null, nvidia_wheels: [], ...overrides };
}

const tf = (version: string | null): Pick<FrameworksInfo, 'tensorflow'> => ({ tensorflow: { version, distribution: 'tensorflow', build_info: null } });

function keras(overrides: Partial<KerasInfo> = {}): Pick<FrameworksInfo, 'keras'> {
  return { keras: { version: '3.15.1', backend: 'tensorflow', backend_source: 'default', keras_home: '/home/u/.keras', tf_keras_version: null, use_legacy_keras: false, config: null, ...overrides } };
}

const TORCH: Pick<FrameworksInfo, 'torch'> = { torch: { version: '2.4.0+cu121', cuda: '12.1' } };
const JAX: Pick<FrameworksInfo, 'jax'> = { jax: { version: '0.4.30', jaxlib: '0.4.30', cuda_plugins: [] } };
/** TensorFlow 2.21 with Keras 3.15: the stack the Keras 3 seeding was measured on. */
const TF_KERAS3 = frameworks({ ...tf('2.21.0'), ...keras() });

function gpu(...capabilities: Array<string | null>): GpuInfo {
  return {
    available: capabilities.length > 0,
    driver_version: capabilities.length > 0 ? '550.54.15' : null,
    driver_cuda_version: capabilities.length > 0 ? '12.4' : null,
    devices: capabilities.map((compute_capability, index) => ({ index, name: 'GPU', uuid: `GPU-${index}`, compute_capability, memory_total_mib: 81559 })),
    kernel_module: null,
    cuda_toolkit: null,
    cudnn: [],
  };
}

const AVX2_ONLY = ['sse4_2', 'avx', 'avx2', 'fma'];
const VNNI = [...AVX2_ONLY, 'avx512f', 'avx512_vnni'];
/** A fixed hash seed and pinned threads: the environment rules stay quiet unless a test says otherwise. */
const QUIET = { PYTHONHASHSEED: '0', OMP_NUM_THREADS: '4' };

function input(overrides: Partial<FindingsInput> = {}): FindingsInput {
  return { env: { ...QUIET }, frameworks: frameworks(), gpu: gpu(), arch: 'x86_64', cpuFlags: AVX2_ONLY, packages: [], record: null, ...overrides };
}

let order = 0;
function call(name: string, args: unknown[] = [], via: string | null = null): RecordedCall {
  return { call: name, args, order: order++, via };
}

function fit(): RecordedFit {
  const none = { kind: 'none' } as const;
  return {
    api: 'keras',
    keras_version: '3.15.1',
    backend: 'tensorflow',
    index: 0,
    model: { class: 'Sequential', name: 'sequential', config_sha256: 'a'.repeat(64), layers: [{ class: 'Dense', name: 'dense', config: { units: 1 }, params: 5 }], params: 5, trainable_params: 5, initial_weights_sha256: 'b'.repeat(64) },
    optimizer: { class: 'Adam', config: { learning_rate: 0.001 } },
    loss: 'binary_crossentropy',
    metrics: ['accuracy'],
    epochs: 10,
    batch_size: 32,
    shuffle: true,
    validation_split: null,
    class_weight: null,
    callbacks: [],
    data: { x: { kind: 'array', source: 'numpy', shape: [100, 4], dtype: 'float32', sha256: 'c'.repeat(64), bytes: 1600 }, y: none, validation: none, sample_weight: none },
  };
}

function record(overrides: Partial<RunRecording> = {}): RunRecording {
  return { recorder: 1, python: '3.11.7', seeds: [], switches: [], fits: [fit()], torch: null, tensorflow: null, libraries: null, errors: [], ...overrides };
}

/** The article's recipe (np.random.seed + tf.random.set_seed), as the recorder writes it. */
const CLASSIC_SEEDS = () => [call('numpy.random.seed', [42]), call('tf.random.set_seed', [42])];
/** keras.utils.set_random_seed(42): the call itself, and the seeds it sets inside it. */
const KERAS_SEED = () => [call('keras.utils.set_random_seed', [42]), call('random.seed', [42], 'keras.utils.set_random_seed'), call('numpy.random.seed', [42], 'keras.utils.set_random_seed'), call('tf.random.set_seed', [42], 'keras.utils.set_random_seed')];
const TF_SECTION = (s: Partial<NonNullable<RunRecording['tensorflow']>> = {}): RunRecording['tensorflow'] => ({ onednn_enabled: false, op_determinism: false, tf32_enabled: false, ...s });
const TORCH_SECTION = (s: Partial<NonNullable<RunRecording['torch']>> = {}): RunRecording['torch'] => ({ deterministic_algorithms: false, cudnn_deterministic: false, cudnn_benchmark: false, allow_tf32_matmul: false, allow_tf32_cudnn: false, ...s });

// Every rule must be seen firing and seen quiet (checked at the end of this file).
const seen = new Map<string, { fired: boolean; quiet: boolean }>();

/** The findings of one code on an input, noting for the coverage check whether it fired. */
function fired(code: string, i: FindingsInput): Finding[] {
  const found = evaluateFindings(i, RULES).filter((f) => f.code === code);
  const s = seen.get(code) ?? { fired: false, quiet: false };
  if (found.length > 0) s.fired = true;
  else s.quiet = true;
  seen.set(code, s);
  return found;
}

function one(code: string, i: FindingsInput): Finding {
  const found = fired(code, i);
  expect(found).toHaveLength(1);
  return found[0] as Finding;
}

function quiet(code: string, ...inputs: FindingsInput[]): void {
  for (const i of inputs) expect(fired(code, i)).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// The hand-made records are what the recorder writes

describe('the records these tests use', () => {
  it('validate against schemas/run-record.schema.json', async () => {
    const { fileURLToPath } = await import('node:url');
    const schema = fileURLToPath(new URL('../../../schemas/run-record.schema.json', import.meta.url));
    const samples = [record(), record({ seeds: CLASSIC_SEEDS(), tensorflow: TF_SECTION(), torch: TORCH_SECTION() }), record({ seeds: KERAS_SEED(), switches: [call('tf.config.experimental.enable_op_determinism')] })];
    for (const sample of samples) expect(schemaProblems(schema, JSON.parse(JSON.stringify(sample)))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The rules that read the environment, the frameworks and the hardware

describe('environment rules', () => {
  it('PYTHONHASHSEED_UNSET: fires when unset, with the export as its fix; quiet when set', () => {
    const f = one('PYTHONHASHSEED_UNSET', input({ env: { OMP_NUM_THREADS: '4' } }));
    expect(f).toMatchObject({ level: 'warning', fix: 'export PYTHONHASHSEED=0 before training.' });
    expect(f.message).not.toContain('export');
    quiet('PYTHONHASHSEED_UNSET', input(), input({ env: { PYTHONHASHSEED: 'random' } }));
  });

  it('PYTHONHASHSEED_RANDOM: fires for random only', () => {
    expect(one('PYTHONHASHSEED_RANDOM', input({ env: { ...QUIET, PYTHONHASHSEED: 'random' } })).fix).toContain('PYTHONHASHSEED=0');
    quiet('PYTHONHASHSEED_RANDOM', input(), input({ env: { ...QUIET, PYTHONHASHSEED: '42' } }));
  });

  it('LEGACY_TF_DETERMINISTIC_OPS: set on TF 2.8 and later; its fix is the API call', () => {
    const f = one('LEGACY_TF_DETERMINISTIC_OPS', input({ env: { ...QUIET, TF_DETERMINISTIC_OPS: '1' }, frameworks: frameworks(tf('2.15.0')) }));
    expect(f.message).toBe('TF_DETERMINISTIC_OPS is set, but TensorFlow 2.15.0 replaced it.');
    expect(f.fix).toContain('tf.config.experimental.enable_op_determinism()');
    quiet('LEGACY_TF_DETERMINISTIC_OPS', input({ env: { ...QUIET, TF_DETERMINISTIC_OPS: '1' }, frameworks: frameworks(tf('2.7.0')) }), input({ frameworks: frameworks(tf('2.15.0')) }));
  });

  it('NO_TF_DETERMINISTIC_OPS: TF 2.1-2.7 on a GPU without it', () => {
    expect(one('NO_TF_DETERMINISTIC_OPS', input({ frameworks: frameworks(tf('2.5.0')), gpu: gpu('7.5') })).fix).toBe('export TF_DETERMINISTIC_OPS=1 before training.');
    quiet('NO_TF_DETERMINISTIC_OPS', input({ frameworks: frameworks(tf('2.8.0')), gpu: gpu('7.5') }), input({ frameworks: frameworks(tf('2.5.0')) }), input({ env: { ...QUIET, TF_DETERMINISTIC_OPS: 'true' }, frameworks: frameworks(tf('2.5.0')), gpu: gpu('7.5') }));
  });

  it('LEGACY_TF_CUDNN_DETERMINISTIC: one code, the fix that fits the version', () => {
    const env = { ...QUIET, TF_CUDNN_DETERMINISTIC: '1' };
    expect(one('LEGACY_TF_CUDNN_DETERMINISTIC', input({ env, frameworks: frameworks(tf('2.15.0')) })).fix).toContain('enable_op_determinism()');
    expect(one('LEGACY_TF_CUDNN_DETERMINISTIC', input({ env, frameworks: frameworks(tf('2.5.0')) })).fix).toContain('export TF_DETERMINISTIC_OPS=1');
    quiet('LEGACY_TF_CUDNN_DETERMINISTIC', input({ env, frameworks: frameworks(tf('1.15.5')) }), input({ env }));
  });

  it('AUTOTUNE_OFF: TF_CUDNN_USE_AUTOTUNE read false as TensorFlow reads it', () => {
    expect(one('AUTOTUNE_OFF', input({ env: { ...QUIET, TF_CUDNN_USE_AUTOTUNE: 'FALSE' } })).fix).toContain('unset TF_CUDNN_USE_AUTOTUNE');
    quiet('AUTOTUNE_OFF', input({ env: { ...QUIET, TF_CUDNN_USE_AUTOTUNE: '1' } }), input({ env: { ...QUIET, TF_CUDNN_USE_AUTOTUNE: 'maybe' } }));
  });

  it('DETERMINISM_EXCEPTIONS_SILENCED: once per variable, the fix naming it', () => {
    const found = fired('DETERMINISM_EXCEPTIONS_SILENCED', input({ env: { ...QUIET, TF_DISABLE_SEGMENT_REDUCTION_OP_DETERMINISM_EXCEPTIONS: 'True', TF_DISABLE_DEPTHWISE_CONV_DETERMINISM_EXCEPTIONS: '1' } }));
    expect(found.map((f) => f.fix)).toEqual([
      'unset TF_DISABLE_SEGMENT_REDUCTION_OP_DETERMINISM_EXCEPTIONS, so an op that cannot be deterministic fails instead.',
      'unset TF_DISABLE_DEPTHWISE_CONV_DETERMINISM_EXCEPTIONS, so an op that cannot be deterministic fails instead.',
    ]);
    quiet('DETERMINISM_EXCEPTIONS_SILENCED', input({ env: { ...QUIET, TF_DISABLE_DEPTHWISE_CONV_DETERMINISM_EXCEPTIONS: '0' } }));
  });

  it('LEGACY_KERAS_MISSING: a warning with TensorFlow (install or unset), an info without it (no fix)', () => {
    const env = { ...QUIET, TF_USE_LEGACY_KERAS: '1' };
    const withTf = one('LEGACY_KERAS_MISSING', input({ env, frameworks: frameworks({ ...tf('2.16.1'), ...keras() }) }));
    expect(withTf).toMatchObject({ level: 'warning', fix: 'install the tf-keras release that matches TensorFlow 2.16.1, or unset TF_USE_LEGACY_KERAS.' });
    expect(one('LEGACY_KERAS_MISSING', input({ env, frameworks: frameworks(keras({ backend: 'jax' })) }))).toMatchObject({ level: 'info', fix: null });
    quiet('LEGACY_KERAS_MISSING', input({ env, frameworks: frameworks({ ...tf('2.16.1'), ...keras({ tf_keras_version: '2.16.0' }) }) }));
  });

  it('KERAS_NON_TF_BACKEND: another backend beside TensorFlow, fixed by exporting it', () => {
    const f = one('KERAS_NON_TF_BACKEND', input({ frameworks: frameworks({ ...tf('2.21.0'), ...keras({ backend: 'jax', backend_source: 'keras.json' }) }) }));
    expect(f.message).toContain('the jax backend (from keras.json)');
    expect(f.fix).toContain('export KERAS_BACKEND=jax');
    quiet('KERAS_NON_TF_BACKEND', input({ frameworks: TF_KERAS3 }), input({ frameworks: frameworks({ ...keras({ backend: 'torch' }), ...TORCH }) }));
  });

  it('CUBLAS_WORKSPACE_UNSET: torch on a GPU without CUBLAS_WORKSPACE_CONFIG', () => {
    expect(one('CUBLAS_WORKSPACE_UNSET', input({ frameworks: frameworks(TORCH), gpu: gpu('7.5') })).fix).toBe('export CUBLAS_WORKSPACE_CONFIG=:4096:8 before the training starts.');
    quiet('CUBLAS_WORKSPACE_UNSET', input({ env: { ...QUIET, CUBLAS_WORKSPACE_CONFIG: ':16:8' }, frameworks: frameworks(TORCH), gpu: gpu('7.5') }), input({ frameworks: frameworks(TORCH) }));
  });

  it('XLA_NOT_DETERMINISTIC: JAX on a GPU without the deterministic-ops flag', () => {
    expect(one('XLA_NOT_DETERMINISTIC', input({ frameworks: frameworks(JAX), gpu: gpu('8.0') })).level).toBe('info');
    quiet('XLA_NOT_DETERMINISTIC', input({ env: { ...QUIET, XLA_FLAGS: '--xla_gpu_deterministic_ops=true' }, frameworks: frameworks(JAX), gpu: gpu('8.0') }), input({ frameworks: frameworks(JAX) }));
  });

  it('TF_CUDNN_FRONTEND_NEEDED: TF 2.5-2.7 on a GPU with TF_DETERMINISTIC_OPS=1 needs TF_CUDNN_USE_FRONTEND=1 too', () => {
    const env = { ...QUIET, TF_DETERMINISTIC_OPS: '1' };
    const f = one('TF_CUDNN_FRONTEND_NEEDED', input({ env, frameworks: frameworks(tf('2.6.2')), gpu: gpu('7.0') }));
    expect(f.fix).toBe('export TF_CUDNN_USE_FRONTEND=1 as well.');
    expect(f.message).toContain('tensorflow#53771');
    quiet(
      'TF_CUDNN_FRONTEND_NEEDED',
      input({ env: { ...env, TF_CUDNN_USE_FRONTEND: '1' }, frameworks: frameworks(tf('2.6.2')), gpu: gpu('7.0') }),
      input({ env, frameworks: frameworks(tf('2.8.0')), gpu: gpu('7.0') }),
      input({ env, frameworks: frameworks(tf('2.6.2')) }),
      input({ frameworks: frameworks(tf('2.6.2')), gpu: gpu('7.0') }),
    );
  });

  it('TF_CUDNN_FRONTEND_NOT_NEEDED: TF_CUDNN_USE_FRONTEND set on a TensorFlow outside 2.5-2.7', () => {
    const env = { ...QUIET, TF_CUDNN_USE_FRONTEND: '1' };
    expect(one('TF_CUDNN_FRONTEND_NOT_NEEDED', input({ env, frameworks: frameworks(tf('2.15.0')) })).level).toBe('info');
    expect(fired('TF_CUDNN_FRONTEND_NOT_NEEDED', input({ env, frameworks: frameworks(tf('2.4.1')) }))).toHaveLength(1);
    quiet('TF_CUDNN_FRONTEND_NOT_NEEDED', input({ env, frameworks: frameworks(tf('2.7.0')) }), input({ env }), input({ env, frameworks: frameworks(tf(null)) }), input({ frameworks: frameworks(tf('2.15.0')) }));
  });

  it('TF_XLA_AUTO_JIT: auto-clustering on a GPU without deterministic XLA', () => {
    const on = (flags: string) => input({ env: { ...QUIET, TF_XLA_FLAGS: flags }, frameworks: frameworks(tf('2.15.0')), gpu: gpu('7.5') });
    for (const flags of ['--tf_xla_auto_jit=2', '--tf_xla_auto_jit=1 --tf_xla_cpu_global_jit', '--tf_xla_auto_jit=single-gpu(0)', '--tf_xla_auto_jit=fusible']) {
      expect(one('TF_XLA_AUTO_JIT', on(flags)).fix).toContain('--xla_gpu_deterministic_ops=true');
    }
    quiet(
      'TF_XLA_AUTO_JIT',
      on('--tf_xla_auto_jit=-1'),
      on('--tf_xla_auto_jit=0'),
      on('--tf_xla_auto_jit=20'),
      on('--tf_xla_cpu_global_jit'),
      input({ env: { ...QUIET, TF_XLA_FLAGS: '--tf_xla_auto_jit=2', XLA_FLAGS: '--xla_gpu_deterministic_ops=true' }, frameworks: frameworks(tf('2.15.0')), gpu: gpu('7.5') }),
      input({ env: { ...QUIET, TF_XLA_FLAGS: '--tf_xla_auto_jit=2' }, frameworks: frameworks(tf('2.15.0')) }),
    );
  });

  it('HOROVOD_FUSION_ON: Horovod with two or more GPUs and tensor fusion on', () => {
    const f = one('HOROVOD_FUSION_ON', input({ packages: ['Horovod'], gpu: gpu('8.0', '8.0') }));
    expect(f.message).toContain('2 GPUs are visible');
    expect(f.fix).toBe('export HOROVOD_FUSION_THRESHOLD=0 for a deterministic reduction order.');
    expect(fired('HOROVOD_FUSION_ON', input({ env: { ...QUIET, HOROVOD_FUSION_THRESHOLD: '67108864' }, packages: ['horovod'], gpu: gpu('8.0', '8.0') }))).toHaveLength(1);
    quiet('HOROVOD_FUSION_ON', input({ packages: ['horovod'], gpu: gpu('8.0') }), input({ env: { ...QUIET, HOROVOD_FUSION_THRESHOLD: '0' }, packages: ['horovod'], gpu: gpu('8.0', '8.0') }), input({ gpu: gpu('8.0', '8.0') }));
  });
});

// ---------------------------------------------------------------------------------------------
// The rules that take the run record into account

describe('ONEDNN_ON and ONEDNN_DEFAULT_OFF', () => {
  const tf221 = frameworks(tf('2.21.0'));

  it('ONEDNN_ON: TF_ENABLE_ONEDNN_OPTS=1, a CPU whose features turn it on, or the record saying so', () => {
    expect(one('ONEDNN_ON', input({ env: { ...QUIET, TF_ENABLE_ONEDNN_OPTS: '1' }, frameworks: tf221 })).message).toContain('(TF_ENABLE_ONEDNN_OPTS=1)');
    const byFlags = one('ONEDNN_ON', input({ frameworks: tf221, cpuFlags: VNNI }));
    expect(byFlags.message).toContain('on a CPU with avx512_vnni, as this one has');
    expect(byFlags.fix).toBe('export TF_ENABLE_ONEDNN_OPTS=0 for CPU parity.');
    // TensorFlow's own answer outweighs the CPU-flags model: on where the flags say off, on aarch64 too.
    const recorded = input({ frameworks: tf221, record: record({ tensorflow: TF_SECTION({ onednn_enabled: true }) }) });
    expect(one('ONEDNN_ON', recorded).message).toContain('TensorFlow 2.21.0 said so at exit');
    expect(fired('ONEDNN_ON', { ...recorded, arch: 'aarch64' })).toHaveLength(1);
  });

  it('ONEDNN_ON is quiet where the record says off, on a GPU baseline, or with TF_ENABLE_ONEDNN_OPTS=0', () => {
    quiet(
      'ONEDNN_ON',
      input({ frameworks: tf221, cpuFlags: VNNI, record: record({ tensorflow: TF_SECTION({ onednn_enabled: false }) }) }),
      input({ frameworks: tf221, gpu: gpu('7.5'), record: record({ tensorflow: TF_SECTION({ onednn_enabled: true }) }) }),
      input({ env: { ...QUIET, TF_ENABLE_ONEDNN_OPTS: '0' }, frameworks: tf221, cpuFlags: VNNI }),
      input({ frameworks: tf221 }),
    );
    // A record without TensorFlow's answer leaves the CPU flags to decide.
    expect(fired('ONEDNN_ON', input({ frameworks: tf221, cpuFlags: VNNI, record: record({ tensorflow: TF_SECTION({ onednn_enabled: null }) }) }))).toHaveLength(1);
  });

  it('ONEDNN_DEFAULT_OFF: an info on a CPU without the features, listing them; quiet once the record says on', () => {
    const f = one('ONEDNN_DEFAULT_OFF', input({ frameworks: tf221 }));
    expect(f.level).toBe('info');
    expect(f.message).toContain(`lacks ${ONEDNN_DEFAULT_CPU_FLAGS.join(', ')}`);
    expect(f.fix).toBe('export TF_ENABLE_ONEDNN_OPTS=0 so every CPU does the same.');
    quiet('ONEDNN_DEFAULT_OFF', input({ frameworks: tf221, record: record({ tensorflow: TF_SECTION({ onednn_enabled: true }) }) }), input({ frameworks: tf221, cpuFlags: VNNI }), input({ frameworks: tf221, arch: 'aarch64' }));
  });
});

describe('TF32_ON', () => {
  const tf215 = frameworks(tf('2.15.0'));

  it('without a record: the default on an Ampere-or-newer GPU', () => {
    expect(one('TF32_ON', input({ frameworks: tf215, gpu: gpu('8.0') })).message).toBe('TF32 is on by default on this Ampere-or-newer GPU and changes matmul/conv numerics.');
  });

  it('with a record: what TensorFlow or torch said at exit', () => {
    const tfOn = one('TF32_ON', input({ frameworks: tf215, gpu: gpu('9.0'), record: record({ tensorflow: TF_SECTION({ tf32_enabled: true }) }) }));
    expect(tfOn.message).toContain('TF32 was on when the training ran');
    const torchOn = one('TF32_ON', input({ frameworks: frameworks(TORCH), gpu: gpu('8.6'), record: record({ torch: TORCH_SECTION({ allow_tf32_matmul: true }) }) }));
    expect(torchOn.message).toContain('TF32 was on when the training ran');
  });

  it('is quiet where the record says off, for a framework the training did not import, under 8.0, or with NVIDIA_TF32_OVERRIDE=0', () => {
    quiet(
      'TF32_ON',
      input({ frameworks: tf215, gpu: gpu('9.0'), record: record({ tensorflow: TF_SECTION({ tf32_enabled: false }) }) }),
      input({ frameworks: frameworks(TORCH), gpu: gpu('9.0'), record: record({ torch: TORCH_SECTION() }) }),
      // TensorFlow installed but never imported: nothing ran in TF32.
      input({ frameworks: tf215, gpu: gpu('9.0'), record: record({ tensorflow: null }) }),
      input({ frameworks: tf215, gpu: gpu('7.5'), record: record({ tensorflow: TF_SECTION({ tf32_enabled: true }) }) }),
      input({ env: { ...QUIET, NVIDIA_TF32_OVERRIDE: '0' }, frameworks: tf215, gpu: gpu('9.0'), record: record({ tensorflow: TF_SECTION({ tf32_enabled: true }) }) }),
    );
    // A record that could not read TensorFlow's setting leaves the default to decide.
    expect(fired('TF32_ON', input({ frameworks: tf215, gpu: gpu('9.0'), record: record({ tensorflow: TF_SECTION({ tf32_enabled: null }) }) }))).toHaveLength(1);
  });
});

describe('THREADS_UNPINNED', () => {
  it('fires on a CPU host without pinned counts, and is quiet once the training pins them itself', () => {
    const env = { PYTHONHASHSEED: '0' };
    expect(one('THREADS_UNPINNED', input({ env })).fix).toContain('tf.config.threading.set_intra_op_parallelism_threads');
    expect(fired('THREADS_UNPINNED', input({ env, record: record({ switches: [call('tf.config.experimental.enable_op_determinism')] }) }))).toHaveLength(1);
    quiet('THREADS_UNPINNED', input({ env, record: record({ switches: [call('tf.config.threading.set_intra_op_parallelism_threads', [1])] }) }), input(), input({ env, gpu: gpu('7.5') }));
  });
});

describe('NO_SEED_CALL', () => {
  it('fires for a record with a fit and no seed call at all', () => {
    const f = one('NO_SEED_CALL', input({ record: record() }));
    expect(f).toMatchObject({ level: 'warning', fix: 'call keras.utils.set_random_seed(SEED) before building the model.' });
  });
  it('is quiet without a record, with a seed call, or without a fit', () => {
    quiet('NO_SEED_CALL', input(), input({ record: record({ seeds: [call('torch.manual_seed', [0])] }) }), input({ record: record({ fits: [] }) }));
  });
});

describe('KERAS3_PYTHON_RANDOM_UNSEEDED', () => {
  it('fires for the classic recipe under Keras 3, with the measured accuracies and the seed from the record', () => {
    const f = one('KERAS3_PYTHON_RANDOM_UNSEEDED', input({ frameworks: TF_KERAS3, record: record({ seeds: CLASSIC_SEEDS() }) }));
    expect(f.level).toBe('warning');
    expect(f.message).toContain('Keras 3.15.1 initializers draw their seeds from Python');
    expect(f.message).toContain('it calls numpy.random.seed, tf.random.set_seed');
    expect(f.message).toContain('0.965 and 0.982');
    expect(f.fix).toBe('add `keras.utils.set_random_seed(42)` where you call `tf.random.set_seed(42)`.');
  });

  it('takes the seed from the call there is when tf.random.set_seed is not among them', () => {
    const f = one('KERAS3_PYTHON_RANDOM_UNSEEDED', input({ frameworks: TF_KERAS3, record: record({ seeds: [call('numpy.random.seed', [7])] }) }));
    expect(f.fix).toBe('add `keras.utils.set_random_seed(7)` where you call `numpy.random.seed(7)`.');
    const odd = one('KERAS3_PYTHON_RANDOM_UNSEEDED', input({ frameworks: TF_KERAS3, record: record({ seeds: [call('tf.random.set_seed', ['<int64>'])] }) }));
    expect(odd.fix).toBe('add `keras.utils.set_random_seed(SEED)` where you call `tf.random.set_seed(SEED)`.');
  });

  it('is quiet with keras.utils.set_random_seed or random.seed, under Keras 2, with tf-keras in use, without seeds or without a record', () => {
    quiet(
      'KERAS3_PYTHON_RANDOM_UNSEEDED',
      input({ frameworks: TF_KERAS3, record: record({ seeds: KERAS_SEED() }) }),
      input({ frameworks: TF_KERAS3, record: record({ seeds: [...CLASSIC_SEEDS(), call('random.seed', [42])] }) }),
      input({ frameworks: frameworks({ ...tf('2.15.0'), ...keras({ version: '2.15.0' }) }), record: record({ seeds: CLASSIC_SEEDS() }) }),
      input({ env: { ...QUIET, TF_USE_LEGACY_KERAS: '1' }, frameworks: frameworks({ ...tf('2.16.1'), ...keras({ tf_keras_version: '2.16.0', use_legacy_keras: true }) }), record: record({ seeds: CLASSIC_SEEDS() }) }),
      input({ frameworks: TF_KERAS3, record: record() }),
      input({ frameworks: TF_KERAS3 }),
    );
  });
});

describe('NUMPY_RNG_UNSEEDED', () => {
  it('fires for default_rng() with no argument or None', () => {
    expect(one('NUMPY_RNG_UNSEEDED', input({ record: record({ seeds: [call('numpy.random.default_rng')] }) })).fix).toBe('pass a seed: numpy.random.default_rng(SEED).');
    expect(one('NUMPY_RNG_UNSEEDED', input({ record: record({ seeds: [call('tf.random.set_seed', [3]), call('numpy.random.default_rng', [null])] }) })).fix).toBe('pass a seed: numpy.random.default_rng(3).');
  });
  it('is quiet for a seeded default_rng, and without a record', () => {
    quiet('NUMPY_RNG_UNSEEDED', input({ record: record({ seeds: [call('numpy.random.default_rng', [42])] }) }), input());
  });
});

describe('TF_GPU_NO_OP_DETERMINISM', () => {
  const tfGpu = { frameworks: frameworks(tf('2.15.0')), gpu: gpu('7.5') };
  it('fires for TF 2.8+ on a GPU whose record shows no enable_op_determinism', () => {
    const f = one('TF_GPU_NO_OP_DETERMINISM', input({ ...tfGpu, record: record({ tensorflow: TF_SECTION() }) }));
    expect(f.message).toContain('TensorFlow 2.15.0 trained on a GPU without op determinism');
    expect(f.fix).toContain('tf.config.experimental.enable_op_determinism()');
    // TF_DETERMINISTIC_OPS=1 that TensorFlow itself says did not take.
    expect(fired('TF_GPU_NO_OP_DETERMINISM', input({ ...tfGpu, env: { ...QUIET, TF_DETERMINISTIC_OPS: '1' }, record: record({ tensorflow: TF_SECTION() }) }))).toHaveLength(1);
  });
  it('is quiet with the call, with op determinism on, without a record, TF or GPU, or below 2.8', () => {
    quiet(
      'TF_GPU_NO_OP_DETERMINISM',
      input({ ...tfGpu, record: record({ tensorflow: TF_SECTION({ op_determinism: null }), switches: [call('tf.config.experimental.enable_op_determinism')] }) }),
      input({ ...tfGpu, record: record({ tensorflow: TF_SECTION({ op_determinism: true }) }) }),
      input({ ...tfGpu, env: { ...QUIET, TF_DETERMINISTIC_OPS: '1' }, record: record({ tensorflow: TF_SECTION({ op_determinism: null }) }) }),
      input({ ...tfGpu, record: record({ tensorflow: null }) }),
      input(tfGpu),
      input({ frameworks: frameworks(tf('2.15.0')), record: record({ tensorflow: TF_SECTION() }) }),
      input({ frameworks: frameworks(tf('2.7.0')), gpu: gpu('7.5'), record: record({ tensorflow: TF_SECTION() }) }),
    );
  });
});

describe('TORCH_GPU_NOT_DETERMINISTIC', () => {
  const torchGpu = { frameworks: frameworks(TORCH), gpu: gpu('8.0') };
  it('fires for torch on a GPU whose deterministic_algorithms is not true at exit', () => {
    expect(one('TORCH_GPU_NOT_DETERMINISTIC', input({ ...torchGpu, record: record({ torch: TORCH_SECTION() }) })).fix).toContain('torch.use_deterministic_algorithms(True)');
    expect(fired('TORCH_GPU_NOT_DETERMINISTIC', input({ ...torchGpu, record: record({ torch: TORCH_SECTION({ deterministic_algorithms: null }) }) }))).toHaveLength(1);
  });
  it('is quiet when it is true, on a CPU, without torch imported, or without a record', () => {
    quiet(
      'TORCH_GPU_NOT_DETERMINISTIC',
      input({ ...torchGpu, record: record({ torch: TORCH_SECTION({ deterministic_algorithms: true }) }) }),
      input({ frameworks: frameworks(TORCH), record: record({ torch: TORCH_SECTION() }) }),
      input({ ...torchGpu, record: record({ torch: null }) }),
      input(torchGpu),
    );
  });
});

describe('TORCH_CUDNN_BENCHMARK', () => {
  const torchGpu = { frameworks: frameworks(TORCH), gpu: gpu('8.0') };
  it('fires for cudnn.benchmark on, on a GPU', () => {
    expect(one('TORCH_CUDNN_BENCHMARK', input({ ...torchGpu, record: record({ torch: TORCH_SECTION({ cudnn_benchmark: true }) }) })).fix).toContain('torch.backends.cudnn.benchmark = False');
  });
  it('is quiet when it is off or unknown, on a CPU, or without a record', () => {
    quiet(
      'TORCH_CUDNN_BENCHMARK',
      input({ ...torchGpu, record: record({ torch: TORCH_SECTION() }) }),
      input({ ...torchGpu, record: record({ torch: TORCH_SECTION({ cudnn_benchmark: null }) }) }),
      input({ frameworks: frameworks(TORCH), record: record({ torch: TORCH_SECTION({ cudnn_benchmark: true }) }) }),
      input(torchGpu),
    );
  });
});

describe('findingsFor (a whole snapshot)', () => {
  it('gives the record-based findings once run.record is set, and none of them without it', () => {
    const base = makeSnapshot();
    const gpuTf = { ...base, frameworks: { ...base.frameworks, ...keras() } };
    const without = findingsFor(gpuTf, RULES).map((f) => f.code);
    expect(without).not.toContain('KERAS3_PYTHON_RANDOM_UNSEEDED');
    expect(without).not.toContain('TF_GPU_NO_OP_DETERMINISM');
    const withRecord = { ...gpuTf, run: { ...(base.run as NonNullable<typeof base.run>), record: record({ seeds: CLASSIC_SEEDS(), tensorflow: TF_SECTION({ tf32_enabled: true }) }) } };
    const codes = findingsFor(withRecord, RULES).map((f) => f.code);
    expect(codes).toEqual(expect.arrayContaining(['KERAS3_PYTHON_RANDOM_UNSEEDED', 'TF_GPU_NO_OP_DETERMINISM', 'TF32_ON']));
    expect(findingsFor(withRecord, RULES).find((f) => f.code === 'TF32_ON')?.message).toContain('TF32 was on when the training ran');
  });

  it('says a value no rebuild can carry, with its fix, as buildDeterminism does', () => {
    const base = makeSnapshot();
    const odd = { ...base, determinism: { ...base.determinism, env: { ...base.determinism.env, OMP_NUM_THREADS: 'many' } } };
    expect(findingsFor(odd, RULES)).toContainEqual({
      level: 'warning',
      code: 'ENV_VALUE_NOT_REBUILDABLE',
      message: 'OMP_NUM_THREADS="many" cannot be carried into a rebuild: OMP_NUM_THREADS must be a thread count (or a comma-separated list of them).',
      fix: 'unset OMP_NUM_THREADS, or give it a value a rebuild can carry, and capture again.',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The data file and the language

describe('data/findings.json', () => {
  it('validates against schemas/findings.schema.json', () => {
    expect(schemaProblems(FINDINGS_SCHEMA_PATH, FINDINGS_JSON)).toEqual([]);
  });

  it('has a unique upper-case code per rule, a source for each, and a fix for every warning', () => {
    const codes = RULES.rules.map((r) => r.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const rule of RULES.rules) {
      expect(rule.code).toMatch(/^[A-Z0-9_]+$/);
      expect(rule.source.length).toBeGreaterThan(10);
      for (const c of rule.cases) if (c.level === 'warning') expect({ code: rule.code, fix: c.fix }).toEqual({ code: rule.code, fix: expect.any(String) });
    }
  });

  it('uses only known predicates', () => {
    const used = conditionKeysUsed(FINDINGS_JSON);
    expect(used.filter((k) => !(CONDITION_KEYS as readonly string[]).includes(k))).toEqual([]);
  });

  it('lists for oneDNN the same CPU features as ONEDNN_DEFAULT_CPU_FLAGS', () => {
    const text = JSON.stringify(FINDINGS_JSON);
    const lists = [...text.matchAll(/"cpu_flags_any":(\[[^\]]*\])/g)].map((m) => JSON.parse(m[1] as string));
    expect(lists.length).toBeGreaterThan(0);
    for (const list of lists) expect(list).toEqual([...ONEDNN_DEFAULT_CPU_FLAGS]);
  });

  it('keeps every code the code-based findings had', () => {
    const codes = RULES.rules.map((r) => r.code);
    for (const code of ['PYTHONHASHSEED_UNSET', 'PYTHONHASHSEED_RANDOM', 'ONEDNN_ON', 'ONEDNN_DEFAULT_OFF', 'TF32_ON', 'LEGACY_TF_DETERMINISTIC_OPS', 'NO_TF_DETERMINISTIC_OPS', 'LEGACY_TF_CUDNN_DETERMINISTIC', 'AUTOTUNE_OFF', 'DETERMINISM_EXCEPTIONS_SILENCED', 'LEGACY_KERAS_MISSING', 'KERAS_NON_TF_BACKEND', 'CUBLAS_WORKSPACE_UNSET', 'XLA_NOT_DETERMINISTIC', 'THREADS_UNPINNED']) {
      expect(codes).toContain(code);
    }
  });
});

describe('the condition language', () => {
  /** Whether a one-rule document with this condition fires on the input. */
  const holds = (when: unknown, i: FindingsInput) => evaluateFindings(i, parseFindingRules({ version: 1, rules: [{ code: 'T', level: 'info', when, message: 'm', fix: null, source: 's' }] })).length === 1;

  it('called sees a call made inside another; called_directly only the training\'s own', () => {
    const i = input({ record: record({ seeds: KERAS_SEED() }) });
    expect(holds({ called: 'random.seed' }, i)).toBe(true);
    expect(holds({ called_directly: 'random.seed' }, i)).toBe(false);
    expect(holds({ called_directly: 'keras.utils.set_random_seed' }, i)).toBe(true);
    expect(holds({ not: { called: 'random.seed' } }, input())).toBe(true);
  });

  it('framework versions follow PEP 440, pre- and dev releases by their order', () => {
    const v = (version: string, specifier: string) => holds({ framework: 'tensorflow', version: specifier }, input({ frameworks: frameworks(tf(version)) }));
    expect(v('2.19.0.dev20241001', '>=2.8')).toBe(true);
    expect(v('2.9.0rc0', '>=2.9')).toBe(false);
    expect(v('2.13.0+cpu', '>=2.9')).toBe(true);
    expect(v('2.10.0', '>=2.9,<2.11')).toBe(true);
    expect(holds({ framework: 'tensorflow', version: '>=2' }, input({ frameworks: frameworks(tf(null)) }))).toBe(false);
    expect(holds({ framework: 'tensorflow' }, input({ frameworks: frameworks(tf(null)) }))).toBe(true);
  });

  it('env_is: equals, tf_bool (null: neither), truthy, contains, matches', () => {
    const env = (value: string | undefined) => input({ env: value === undefined ? {} : { TF_XLA_FLAGS: value } });
    const t = (test: Record<string, unknown>, value: string | undefined) => holds({ env_is: { name: 'TF_XLA_FLAGS', ...test } }, env(value));
    expect([t({ equals: '' }, ''), t({ equals: '' }, undefined)]).toEqual([true, false]);
    expect([t({ tf_bool: true }, 'TRUE'), t({ tf_bool: false }, '0'), t({ tf_bool: null }, 'yes'), t({ tf_bool: null }, undefined), t({ tf_bool: null }, '1')]).toEqual([true, true, true, true, false]);
    expect([t({ truthy: true }, 'True'), t({ truthy: true }, 'yes')]).toEqual([true, false]);
    expect([t({ contains: '--a' }, 'x --a=1'), t({ contains: '--a' }, undefined)]).toEqual([true, false]);
    expect([t({ matches: '^--b=\\d$' }, '--b=3'), t({ matches: '^--b' }, undefined)]).toEqual([true, false]);
  });

  it('hardware: arch names case-insensitively, compute capability as a specifier, GPU counts', () => {
    expect(holds({ arch: 'x86_64|amd64' }, input({ arch: 'AMD64' }))).toBe(true);
    expect(holds({ gpu_compute_capability: '>=8.0' }, input({ gpu: gpu('7.5', '10.0') }))).toBe(true);
    expect(holds({ gpu_compute_capability: '>=8.0' }, input({ gpu: gpu(null) }))).toBe(false);
    expect(holds({ gpus_at_least: 2 }, input({ gpu: { ...gpu('8.0', '8.0'), available: false } }))).toBe(false);
    expect(holds({ package: 'horovod' }, input({ packages: ['Horovod'] }))).toBe(true);
  });

  it('recorded, no_seed_calls and the switches need a record; without one they and recorded are false', () => {
    expect(holds({ recorded: false }, input())).toBe(true);
    for (const when of [{ recorded: true }, { no_seed_calls: true }, { switch_on: 'torch.cudnn_benchmark' }, { switch_off: 'torch.cudnn_benchmark' }, { imported: 'torch' }, { fits_at_least: 1 }, { call_without_args: 'numpy.random.default_rng' }]) {
      expect(holds(when, input())).toBe(false);
    }
  });
});

describe('parseFindingRules', () => {
  const rule = (extra: Record<string, unknown>) => ({ version: 1, rules: [{ code: 'X_RULE', level: 'warning', when: { gpu: true }, message: 'm', fix: null, source: 'fact (c)', ...extra }] });
  const fails = (doc: unknown, pattern: RegExp, knownEnv: ReadonlySet<string> | null = null) => expect(() => parseFindingRules(doc, knownEnv)).toThrow(pattern);

  it('refuses an unknown predicate, naming the rule and the field', () => {
    fails(rule({ when: { all: [{ gpu: true }, { gpux: true }] } }), /rules\[0\] \(X_RULE\): when\.all\[1\]\.gpux is not a known predicate/);
  });
  it('refuses two predicates in one object, version without framework, and a bad specifier', () => {
    fails(rule({ when: { gpu: true, recorded: true } }), /when holds gpu, recorded: a condition object holds one predicate/);
    fails(rule({ when: { version: '>=2' } }), /when\.version needs framework beside it/);
    fails(rule({ when: { framework: 'tensorflow', version: 'two' } }), /when\.version must be a PEP 440 specifier/);
    fails(rule({ when: { framework: 'tensorflow', gpu: true } }), /when\.gpu cannot stand beside framework/);
  });
  it('refuses a bad regular expression, an env test it does not know, and a variable a capture never records', () => {
    fails(rule({ when: { env_is: { name: 'TF_XLA_FLAGS', matches: '(' } } }), /when\.env_is\.matches is not a valid regular expression/);
    fails(rule({ when: { env_is: { name: 'TF_XLA_FLAGS', starts: 'x' } } }), /when\.env_is\.starts is not a test env_is knows/);
    fails(rule({ when: { env_unset: 'HOME' } }), /names HOME, which is not an allowlisted variable/, new Set(Object.keys(DETERMINISM_ENV_ALLOWLIST)));
  });
  it('refuses an unknown placeholder, {name} without each_name, {features} without cpu_flags_any', () => {
    fails(rule({ message: 'on {tensorflow}' }), /message uses \{tensorflow\}, which is not a placeholder/);
    fails(rule({ fix: 'unset {name}' }), /fix uses \{name\}, but the rule has no each_name/);
    fails(rule({ message: 'has {features}' }), /message uses \{features\}, but its condition has no cpu_flags_any/);
  });
  it('refuses a repeated code, a field beside cases, a missing fix, and another format version', () => {
    const doc = rule({});
    fails({ version: 1, rules: [...doc.rules, ...doc.rules] }, /rules\[1\] \(X_RULE\): code repeats X_RULE/);
    fails(rule({ cases: [{ level: 'info', when: { gpu: true }, message: 'm', fix: null }] }), /level cannot stand beside cases/);
    const noFix: Record<string, unknown> = { ...doc.rules[0] };
    delete noFix.fix;
    fails({ version: 1, rules: [noFix] }, /rules\[0\] \(X_RULE\): fix is missing/);
    fails({ ...doc, version: 2 }, /"version" must be 1, got 2/);
  });
  it('documents its placeholders', () => {
    expect(PLACEHOLDERS).toContain('seed');
  });
});

describe('loadFindingRules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-findings-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  };

  it('loads the shipped file once and hands the same rules back', async () => {
    const first = loadFindingRules();
    expect(await first).toEqual(RULES);
    expect(loadFindingRules(FINDINGS_DATA_PATH)).toBe(first);
  });

  it('names the file, the rule and the field of a malformed file', async () => {
    const doc = JSON.parse(JSON.stringify(FINDINGS_JSON));
    doc.rules[1].when = { all: [{ env_is: { name: 'PYTHONHASHSEED', equals: 'random' } }, { gpux: true }] };
    const path = write('unknown-predicate.json', doc);
    await expect(loadFindingRules(path)).rejects.toThrow(`the findings rules ${path} are invalid: rules.1 (PYTHONHASHSEED_RANDOM).when.all.1: key 'gpux': must be one of all, any, not,`);
  });

  it('says what the parser finds that the schema cannot: a bad specifier', async () => {
    const doc = JSON.parse(JSON.stringify(FINDINGS_JSON));
    doc.rules[0].when = { framework: 'tensorflow', version: 'newest' };
    await expect(loadFindingRules(write('bad-specifier.json', doc))).rejects.toThrow(/rules\[0\] \(PYTHONHASHSEED_UNSET\): when\.version must be a PEP 440 specifier/);
  });

  it('says so for a file that is not JSON or is not there, and does not cache the failure', async () => {
    const path = write('broken.json', '{"version": 1, "rules": [');
    await expect(loadFindingRules(path)).rejects.toThrow(/are invalid: not JSON/);
    writeFileSync(path, JSON.stringify(FINDINGS_JSON));
    await expect(loadFindingRules(path)).resolves.toEqual(RULES);
    await expect(loadFindingRules(join(dir, 'missing.json'))).rejects.toThrow(/cannot be read/);
  });
});

describe('coverage', () => {
  it('every rule in data/findings.json was seen here firing and quiet', () => {
    const missing = RULES.rules.map((r) => r.code).filter((code) => !(seen.get(code)?.fired && seen.get(code)?.quiet));
    expect(missing).toEqual([]);
  });
});
