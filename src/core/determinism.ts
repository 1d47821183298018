// Which environment variables change numerics, and what in a captured environment will break
// reproducibility. Only the allowlist below is ever read from the environment: other variables
// hold secrets (tokens, passwords) and never reach a snapshot.
import { compareVersions } from './versions.js';
import type { DeterminismInfo, Finding, FrameworksInfo, GpuInfo } from './model.js';

/** Every variable snapshot records, with why it matters. */
export const DETERMINISM_ENV_ALLOWLIST: Readonly<Record<string, string>> = {
  PYTHONHASHSEED: 'hash and set iteration order',
  TF_DETERMINISTIC_OPS: 'deterministic GPU ops on TF 2.1-2.7',
  TF_CUDNN_DETERMINISTIC: 'deterministic cuDNN on TF 1.14-2.0',
  TF_CUDNN_USE_AUTOTUNE: 'cuDNN algorithm autotuning',
  TF_CUDNN_USE_FRONTEND: 'cuDNN frontend algorithm selection (TF 2.5-2.7)',
  TF_DISABLE_SEGMENT_REDUCTION_OP_DETERMINISM_EXCEPTIONS: 'silences determinism errors',
  TF_DISABLE_DEPTHWISE_CONV_DETERMINISM_EXCEPTIONS: 'silences determinism errors',
  TF_ENABLE_ONEDNN_OPTS: 'oneDNN CPU kernels change round-off',
  NVIDIA_TF32_OVERRIDE: 'TF32 matmul/conv on Ampere and newer',
  TF_XLA_FLAGS: 'XLA auto-clustering',
  XLA_FLAGS: 'XLA kernels and autotuning',
  CUBLAS_WORKSPACE_CONFIG: 'deterministic cuBLAS (torch)',
  OMP_NUM_THREADS: 'CPU reduction order',
  MKL_NUM_THREADS: 'CPU reduction order',
  OPENBLAS_NUM_THREADS: 'CPU reduction order',
  OPENBLAS_CORETYPE: 'selects OpenBLAS kernels',
  MKL_CBWR: 'MKL conditional numerical reproducibility',
  TF_NUM_INTRAOP_THREADS: 'CPU reduction order',
  TF_NUM_INTEROP_THREADS: 'CPU scheduling',
  KERAS_BACKEND: 'which framework Keras runs on',
  KERAS_HOME: 'where keras.json (the backend) is read from',
  KERAS_MAX_EPOCHS: 'caps every fit() at this many epochs (Keras 3)',
  KERAS_MAX_STEPS_PER_EPOCH: 'caps every epoch at this many steps (Keras 3)',
  KERAS_TORCH_DEVICE: 'which device the torch backend of Keras uses',
  KERAS_NNX_ENABLED: 'Flax NNX on the JAX backend of Keras',
  TF_USE_LEGACY_KERAS: 'Keras 2 (tf-keras) instead of Keras 3',
  JAX_ENABLE_X64: '64-bit default dtypes in JAX',
  JAX_DEFAULT_MATMUL_PRECISION: 'matmul precision in JAX',
  JAX_PLATFORMS: 'which device JAX runs on',
  HOROVOD_FUSION_THRESHOLD: 'multi-GPU reduction order',
  NCCL_ALGO: 'multi-GPU reduction algorithm',
  NCCL_PROTO: 'multi-GPU reduction protocol',
  CUDA_VISIBLE_DEVICES: 'which GPUs are used',
  CUDA_DEVICE_ORDER: 'GPU numbering',
  NVIDIA_VISIBLE_DEVICES: 'which GPUs a container sees',
  NVIDIA_DRIVER_CAPABILITIES: 'driver features a container sees',
  TF_GPU_ALLOCATOR: 'GPU memory allocator (algorithm choice depends on free workspace)',
  TF_FORCE_GPU_ALLOW_GROWTH: 'GPU memory growth',
  PYTORCH_CUDA_ALLOC_CONF: 'torch GPU allocator',
  CUDA_MODULE_LOADING: 'lazy CUDA module loading',
};

// The values a setting may take, so a rebuild can write them safely and a capture can say early
// when one will not be reproducible. Counts and seeds are numbers; flag strings (XLA_FLAGS holds
// regular expressions such as --xla_dump_hlo_pass_re=.*) take any printable text, written quoted;
// everything else keeps a conservative grammar with no shell or substitution syntax.
const COUNT = /^\d{1,9}$/;
const VALUE_GRAMMARS: Readonly<Record<string, { pattern: RegExp; says: string }>> = {
  PYTHONHASHSEED: { pattern: /^(\d{1,10}|random)$/, says: 'a number from 0 to 4294967295, or "random"' },
  OMP_NUM_THREADS: { pattern: /^\d{1,9}(,\d{1,9})*$/, says: 'a thread count (or a comma-separated list of them)' },
  MKL_NUM_THREADS: { pattern: COUNT, says: 'a thread count' },
  OPENBLAS_NUM_THREADS: { pattern: COUNT, says: 'a thread count' },
  TF_NUM_INTRAOP_THREADS: { pattern: COUNT, says: 'a thread count' },
  TF_NUM_INTEROP_THREADS: { pattern: COUNT, says: 'a thread count' },
  KERAS_MAX_EPOCHS: { pattern: COUNT, says: 'a number of epochs' },
  KERAS_MAX_STEPS_PER_EPOCH: { pattern: COUNT, says: 'a number of steps' },
  // eslint-disable-next-line no-control-regex
  XLA_FLAGS: { pattern: /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]{0,4096}$/, says: 'printable text without line breaks' },
  // eslint-disable-next-line no-control-regex
  TF_XLA_FLAGS: { pattern: /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]{0,4096}$/, says: 'printable text without line breaks' },
};
const DEFAULT_GRAMMAR = { pattern: /^[A-Za-z0-9 _.,:=+/@%-]{0,1024}$/, says: 'letters, digits, spaces and _ . , : = + / @ % -' };

/** Variables that describe the capturing host, not the numerics: a rebuild sets its own. */
export const HOST_ONLY_ENV: ReadonlySet<string> = new Set(['CUDA_VISIBLE_DEVICES', 'NVIDIA_VISIBLE_DEVICES', 'NVIDIA_DRIVER_CAPABILITIES', 'KERAS_HOME']);

/** Why a captured value of an allowlisted variable cannot be carried into a rebuild, or null when it can. */
export function envValueProblem(name: string, value: string): string | null {
  const grammar = VALUE_GRAMMARS[name] ?? DEFAULT_GRAMMAR;
  return grammar.pattern.test(value) ? null : `${name} must be ${grammar.says}`;
}

/** Picks the allowlisted variables out of an environment; nothing else is copied. */
export function selectDeterminismEnv(environment: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const selected: Record<string, string> = {};
  for (const name of Object.keys(DETERMINISM_ENV_ALLOWLIST).sort()) {
    const value = environment[name];
    if (value !== undefined) selected[name] = value;
  }
  return selected;
}

const TRUTHY = new Set(['1', 'true', 'True', 'TRUE']);

/** How TensorFlow's ReadBoolFromEnvVar reads a flag: '0'/'false' and '1'/'true', any case; else unset. */
function tfBool(value: string | undefined): boolean | undefined {
  const v = value?.toLowerCase();
  return v === '0' || v === 'false' ? false : v === '1' || v === 'true' ? true : undefined;
}

export interface FindingsInput {
  env: Record<string, string>;
  frameworks: FrameworksInfo;
  gpu: GpuInfo;
  arch: string;
  /** The CPU's numerics flags (system.cpu.flags): oneDNN's default depends on them. */
  cpuFlags: readonly string[];
}

/**
 * The CPU features for which TensorFlow (2.9 and later, on Linux x86) turns oneDNN on by default
 * (tensorflow/core/util/util.cc, DefaultOneDnnPolicy): a CPU without them runs without oneDNN.
 */
export const ONEDNN_DEFAULT_CPU_FLAGS = ['avx512_vnni', 'avx512_bf16', 'avx_vnni', 'amx_tile', 'amx_int8', 'amx_bf16'] as const;

/** Warnings about settings that will make a replay differ, given what was captured. */
export function determinismFindings({ env, frameworks, gpu, arch, cpuFlags }: FindingsInput): Finding[] {
  const findings: Finding[] = [];
  const warn = (code: string, message: string) => findings.push({ level: 'warning', code, message, fix: null });
  const info = (code: string, message: string) => findings.push({ level: 'info', code, message, fix: null });
  const tf = frameworks.tensorflow?.version ?? null;
  const tfAtLeast = (v: string) => tf !== null && compareVersions(tf, v) >= 0;
  const tfBelow = (v: string) => tf !== null && compareVersions(tf, v) < 0;
  const usesGpu = gpu.available && gpu.devices.length > 0;

  if (env.PYTHONHASHSEED === undefined) {
    warn('PYTHONHASHSEED_UNSET', 'PYTHONHASHSEED is not set: set and dict-of-str iteration order changes between runs; export PYTHONHASHSEED=0 before training.');
  } else if (env.PYTHONHASHSEED === 'random') {
    warn('PYTHONHASHSEED_RANDOM', 'PYTHONHASHSEED=random: hash order changes between runs; set a fixed number.');
  }

  if (tfAtLeast('2.9') && /^(x86_64|amd64)$/i.test(arch)) {
    const setting = tfBool(env.TF_ENABLE_ONEDNN_OPTS);
    const features = ONEDNN_DEFAULT_CPU_FLAGS.filter((flag) => cpuFlags.includes(flag));
    if (setting === true) {
      warn('ONEDNN_ON', `oneDNN CPU kernels are on (TF_ENABLE_ONEDNN_OPTS=1): round-off differs between CPU models; export TF_ENABLE_ONEDNN_OPTS=0 for CPU parity.`);
    } else if (setting === undefined && features.length > 0) {
      warn('ONEDNN_ON', `oneDNN CPU kernels are on: TensorFlow ${tf} enables them by default on a CPU with ${features.join(', ')}, as this one has; round-off differs between CPU models, and a replay on a CPU without those features runs without oneDNN. Export TF_ENABLE_ONEDNN_OPTS=0 for CPU parity.`);
    } else if (setting === undefined) {
      info('ONEDNN_DEFAULT_OFF', `oneDNN CPU kernels are off here only because this CPU lacks ${ONEDNN_DEFAULT_CPU_FLAGS.join(', ')}: TensorFlow ${tf} turns them on by default on a CPU with any of them, which changes results; export TF_ENABLE_ONEDNN_OPTS=0 so every CPU does the same.`);
    }
  }

  const ampereOrNewer = gpu.devices.some((d) => d.compute_capability !== null && compareVersions(d.compute_capability, '8.0') >= 0);
  if (ampereOrNewer && env.NVIDIA_TF32_OVERRIDE !== '0' && (tfAtLeast('2.4') || frameworks.torch !== null)) {
    warn('TF32_ON', 'TF32 is on by default on this Ampere-or-newer GPU and changes matmul/conv numerics; export NVIDIA_TF32_OVERRIDE=0 (TensorFlow) or disable allow_tf32 (torch) for float32 parity.');
  }

  if (tfBool(env.TF_DETERMINISTIC_OPS) === true && tfAtLeast('2.8')) {
    warn('LEGACY_TF_DETERMINISTIC_OPS', `TF_DETERMINISTIC_OPS is set, but TensorFlow ${tf} replaced it: call tf.config.experimental.enable_op_determinism() in the training script.`);
  }
  if (tfBool(env.TF_DETERMINISTIC_OPS) !== true && tf !== null && tfAtLeast('2.1') && tfBelow('2.8') && usesGpu) {
    warn('NO_TF_DETERMINISTIC_OPS', `TensorFlow ${tf} on a GPU needs TF_DETERMINISTIC_OPS=1 for deterministic ops.`);
  }
  if (env.TF_CUDNN_DETERMINISTIC !== undefined && tfAtLeast('2.1')) {
    warn('LEGACY_TF_CUDNN_DETERMINISTIC', `TF_CUDNN_DETERMINISTIC is set, but TensorFlow ${tf} ignores it in favour of ${tfAtLeast('2.8') ? 'enable_op_determinism()' : 'TF_DETERMINISTIC_OPS=1'}.`);
  }
  if (tfBool(env.TF_CUDNN_USE_AUTOTUNE) === false) {
    warn('AUTOTUNE_OFF', 'TF_CUDNN_USE_AUTOTUNE=0: NVIDIA advises leaving it unset and using the determinism setting instead.');
  }
  for (const name of ['TF_DISABLE_SEGMENT_REDUCTION_OP_DETERMINISM_EXCEPTIONS', 'TF_DISABLE_DEPTHWISE_CONV_DETERMINISM_EXCEPTIONS']) {
    if (env[name] !== undefined && TRUTHY.has(env[name] ?? '')) {
      warn('DETERMINISM_EXCEPTIONS_SILENCED', `${name} is set: ops that cannot be deterministic run anyway, silently.`);
    }
  }

  if (env.TF_USE_LEGACY_KERAS !== undefined && TRUTHY.has(env.TF_USE_LEGACY_KERAS) && frameworks.keras?.tf_keras_version == null) {
    // Only TensorFlow reads the variable: without it, it does nothing, and saying it fails would be false.
    if (frameworks.tensorflow !== null) warn('LEGACY_KERAS_MISSING', 'TF_USE_LEGACY_KERAS is set but tf-keras is not installed: TensorFlow will fail to load Keras 2.');
    else info('LEGACY_KERAS_MISSING', 'TF_USE_LEGACY_KERAS is set, but only TensorFlow reads it and TensorFlow is not installed: it has no effect here.');
  }
  if (frameworks.keras && frameworks.keras.backend !== 'tensorflow' && frameworks.tensorflow !== null) {
    info('KERAS_NON_TF_BACKEND', `Keras runs on the ${frameworks.keras.backend} backend (from ${frameworks.keras.backend_source}) although TensorFlow is installed; a replay must set the same backend.`);
  }

  if (frameworks.torch !== null && usesGpu && env.CUBLAS_WORKSPACE_CONFIG === undefined) {
    warn('CUBLAS_WORKSPACE_UNSET', 'torch on a GPU without CUBLAS_WORKSPACE_CONFIG: cuBLAS may be nondeterministic; export CUBLAS_WORKSPACE_CONFIG=:4096:8.');
  }
  if (frameworks.jax !== null && usesGpu && !(env.XLA_FLAGS ?? '').includes('--xla_gpu_deterministic_ops')) {
    info('XLA_NOT_DETERMINISTIC', 'JAX on a GPU without XLA_FLAGS=--xla_gpu_deterministic_ops: reductions may vary between runs.');
  }

  if (!usesGpu && ['OMP_NUM_THREADS', 'TF_NUM_INTRAOP_THREADS'].every((name) => env[name] === undefined)) {
    info('THREADS_UNPINNED', 'CPU thread counts are not pinned (OMP_NUM_THREADS, TF_NUM_INTRAOP_THREADS): a machine with another core count may reduce in another order.');
  }
  return findings;
}

export function buildDeterminism(environment: Readonly<Record<string, string | undefined>>, rest: Omit<FindingsInput, 'env'>): DeterminismInfo {
  const env = selectDeterminismEnv(environment);
  const findings = determinismFindings({ env, ...rest });
  // Said at capture, not first at rebuild: a value no rebuild can carry is not reproducible.
  for (const [name, value] of Object.entries(env)) {
    if (HOST_ONLY_ENV.has(name)) continue;
    const problem = envValueProblem(name, value);
    if (problem !== null) findings.push({ level: 'warning', code: 'ENV_VALUE_NOT_REBUILDABLE', message: `${name}=${JSON.stringify(value).slice(0, 80)} cannot be carried into a rebuild: ${problem}.`, fix: null });
  }
  return { env, findings };
}
