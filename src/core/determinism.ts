// Which environment variables change numerics, and what in a captured environment will break
// reproducibility. Only the allowlist below is ever read from the environment: other variables
// hold secrets (tokens, passwords) and never reach a snapshot. The findings are rules in
// data/findings.json, evaluated by src/core/findings.ts.
import { evaluateFindings, type FindingRules, type FindingsInput } from './findings.js';
import type { DeterminismInfo, Finding, Snapshot } from './model.js';

export type { FindingsInput } from './findings.js';

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

/**
 * The CPU features for which TensorFlow (2.9 and later, on Linux x86) turns oneDNN on by default
 * (tensorflow/core/util/util.cc, DefaultOneDnnPolicy): a CPU without them runs without oneDNN.
 * data/findings.json's oneDNN rules list the same flags (a test holds them equal).
 */
export const ONEDNN_DEFAULT_CPU_FLAGS = ['avx512_vnni', 'avx512_bf16', 'avx_vnni', 'amx_tile', 'amx_int8', 'amx_bf16'] as const;

/** Said at capture, not first at rebuild: a value no rebuild can carry is not reproducible. */
function notRebuildable(env: Record<string, string>): Finding[] {
  const findings: Finding[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (HOST_ONLY_ENV.has(name)) continue;
    const problem = envValueProblem(name, value);
    if (problem !== null) {
      findings.push({ level: 'warning', code: 'ENV_VALUE_NOT_REBUILDABLE', message: `${name}=${JSON.stringify(value).slice(0, 80)} cannot be carried into a rebuild: ${problem}.`, fix: `unset ${name}, or give it a value a rebuild can carry, and capture again.` });
    }
  }
  return findings;
}

/**
 * The determinism section of a capture: the allowlisted variables and what the rules
 * (data/findings.json, loaded by loadFindingRules) find in them and the rest of the capture.
 * With the run's record when the training ran (capture passes it once the run is over).
 */
export function buildDeterminism(environment: Readonly<Record<string, string | undefined>>, rest: Omit<FindingsInput, 'env' | 'record'> & { record?: FindingsInput['record'] }, rules: FindingRules): DeterminismInfo {
  const env = selectDeterminismEnv(environment);
  return { env, findings: [...evaluateFindings({ ...rest, env, record: rest.record ?? null }, rules), ...notRebuildable(env)] };
}

/** The findings for a whole snapshot, its run record (run.record) included: what capture writes once the training ran. */
export function findingsFor(snapshot: Snapshot, rules: FindingRules): Finding[] {
  const env = snapshot.determinism.env;
  const input: FindingsInput = {
    env,
    frameworks: snapshot.frameworks,
    gpu: snapshot.gpu,
    arch: snapshot.system.arch,
    cpuFlags: snapshot.system.cpu.flags,
    packages: snapshot.packages.map((p) => p.name),
    record: snapshot.run?.record ?? null,
  };
  return [...evaluateFindings(input, rules), ...notRebuildable(env)];
}
