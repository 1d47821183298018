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
}

/** Warnings about settings that will make a replay differ, given what was captured. */
export function determinismFindings({ env, frameworks, gpu, arch }: FindingsInput): Finding[] {
  const findings: Finding[] = [];
  const warn = (code: string, message: string) => findings.push({ level: 'warning', code, message });
  const info = (code: string, message: string) => findings.push({ level: 'info', code, message });
  const tf = frameworks.tensorflow?.version ?? null;
  const tfAtLeast = (v: string) => tf !== null && compareVersions(tf, v) >= 0;
  const tfBelow = (v: string) => tf !== null && compareVersions(tf, v) < 0;
  const usesGpu = gpu.available && gpu.devices.length > 0;

  if (env.PYTHONHASHSEED === undefined) {
    warn('PYTHONHASHSEED_UNSET', 'PYTHONHASHSEED is not set: set and dict-of-str iteration order changes between runs; export PYTHONHASHSEED=0 before training.');
  } else if (env.PYTHONHASHSEED === 'random') {
    warn('PYTHONHASHSEED_RANDOM', 'PYTHONHASHSEED=random: hash order changes between runs; set a fixed number.');
  }

  if (tfAtLeast('2.9') && /^(x86_64|amd64)$/i.test(arch) && tfBool(env.TF_ENABLE_ONEDNN_OPTS) !== false) {
    warn('ONEDNN_ON', `oneDNN CPU kernels are on (TensorFlow ${tf} on x86_64 enables them by default): round-off differs between CPU models; export TF_ENABLE_ONEDNN_OPTS=0 for CPU parity.`);
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
    warn('LEGACY_KERAS_MISSING', 'TF_USE_LEGACY_KERAS is set but tf-keras is not installed: TensorFlow will fail to load Keras 2.');
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
  return { env, findings: determinismFindings({ env, ...rest }) };
}
