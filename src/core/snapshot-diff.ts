// Two snapshots compared field by field: what a replay's environment has that the captured one
// did not. Each difference carries a severity that says how likely it is to change numerics, so a
// `different` verdict can name its likely causes first. Pure: two snapshots in, a list out.
import { HOST_ONLY_ENV, ONEDNN_DEFAULT_CPU_FLAGS } from './determinism.js';
import type { Snapshot } from './model.js';
import { diffRecordings } from './recording-diff.js';

/** high: changes numerics as a rule; medium: may; low: rarely; info: never (paths, names). */
export type Severity = 'high' | 'medium' | 'low' | 'info';

/** `run`: what the training itself did (its record): seeds, the data at fit, the model, its parameters. */
export type DiffCategory = 'run' | 'python' | 'framework' | 'package' | 'gpu' | 'cuda' | 'cpu' | 'numerics-env' | 'system' | 'code' | 'path';

export interface SnapshotDifference {
  /** The snapshot field, dotted: frameworks.tensorflow.version, determinism.env.TF_ENABLE_ONEDNN_OPTS. */
  field: string;
  category: DiffCategory;
  severity: Severity;
  /** As text, null where the side has no value. */
  baseline: string | null;
  replay: string | null;
  /** Why it matters, in one line. */
  why: string;
}

/** CPU flags whose presence changes the kernels a framework picks (oneDNN, XLA:CPU, MKL). */
export const NUMERICS_CPU_FLAGS: readonly string[] = [...new Set(['avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512dq', 'avx512vl', ...ONEDNN_DEFAULT_CPU_FLAGS, 'amx_fp16', 'sse4_1', 'sse4_2'])];

/** Keras 2 and 3 without a keras.json. */
const KERAS_DEFAULTS = { floatx: 'float32', epsilon: 1e-7, image_data_format: 'channels_last' } as const;

const ORDER: Record<Severity, number> = { high: 0, medium: 1, low: 2, info: 3 };

type Value = string | number | boolean | null | undefined;

function show(value: Value | readonly Value[]): string | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.length === 0 ? null : value.map((v) => String(v)).join(', ');
  return String(value);
}

class DiffList {
  readonly items: SnapshotDifference[] = [];

  add(field: string, category: DiffCategory, severity: Severity, a: Value | readonly Value[], b: Value | readonly Value[], why: string): void {
    const [left, right] = [show(a), show(b)];
    if (left === right) return;
    this.items.push({ field, category, severity, baseline: left, replay: right, why });
  }

  /** For facts a probe may fail to read: one side unknown is not a difference to blame, only to note. */
  addKnown(field: string, category: DiffCategory, severity: Severity, a: Value | readonly Value[], b: Value | readonly Value[], why: string): void {
    const [left, right] = [show(a), show(b)];
    if (left === right) return;
    const unknown = left === null || right === null;
    this.items.push({ field, category, severity: unknown ? 'low' : severity, baseline: left, replay: right, why: unknown ? `${why}; unknown on one side` : why });
  }
}

/** Names are compared as pip does: case-insensitively, with -, _ and . the same. */
function normalise(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const PACKAGING_TOOLS = new Set(['pip', 'setuptools', 'wheel', 'distribute']);

const FRAMEWORK_PACKAGES = new Set(['tensorflow', 'tensorflow-cpu', 'tensorflow-gpu', 'tf-nightly', 'tf-keras', 'keras', 'torch', 'jax', 'jaxlib', 'numpy', 'scipy', 'ml-dtypes', 'tensorflow-intel', 'intel-extension-for-tensorflow']);

function packages(list: DiffList, a: Snapshot, b: Snapshot): void {
  const left = new Map(a.packages.map((p) => [normalise(p.name), p]));
  const right = new Map(b.packages.map((p) => [normalise(p.name), p]));
  for (const name of [...new Set([...left.keys(), ...right.keys()])].sort()) {
    const [p, q] = [left.get(name), right.get(name)];
    // nvidia-* wheels carry CUDA and cuDNN themselves: a different one changes kernels.
    const numerics = FRAMEWORK_PACKAGES.has(name) || name.startsWith('nvidia-') || name.startsWith('jax-cuda');
    // The installer's own tooling: the image gets its own, and the training does not run it.
    const tooling = PACKAGING_TOOLS.has(name);
    const severity: Severity = numerics ? 'high' : tooling ? 'low' : 'medium';
    const why = numerics ? 'a numerics library: other kernels, other round-off' : tooling ? "the installer's own tooling" : 'other code in the training environment';
    list.add(`packages.${name}`, 'package', severity, p?.version ?? null, q?.version ?? null, p && q ? why : p ? `missing in the replay: ${why}` : `only in the replay: ${why}`);
  }
}

function frameworks(list: DiffList, a: Snapshot, b: Snapshot): void {
  const [fa, fb] = [a.frameworks, b.frameworks];
  const tfa = fa.tensorflow?.build_info;
  const tfb = fb.tensorflow?.build_info;
  list.add('frameworks.tensorflow.version', 'framework', 'high', fa.tensorflow?.version, fb.tensorflow?.version, 'another TensorFlow: other kernels and defaults');
  list.addKnown('frameworks.tensorflow.build_info.cuda_version', 'cuda', 'high', tfa?.cuda_version, tfb?.cuda_version, 'TensorFlow built against another CUDA');
  list.addKnown('frameworks.tensorflow.build_info.cudnn_version', 'cuda', 'high', tfa?.cudnn_version, tfb?.cudnn_version, 'TensorFlow built against another cuDNN');
  list.add('frameworks.keras.version', 'framework', 'high', fa.keras?.version, fb.keras?.version, 'another Keras: other layer defaults and initialisers');
  list.add('frameworks.keras.backend', 'framework', 'high', fa.keras?.backend, fb.keras?.backend, 'another Keras backend computes everything differently');
  // What Keras uses, not what a file spelled out: no keras.json (or no key in it) is Keras's default.
  const effective = (keras: Snapshot['frameworks']['keras'], key: 'floatx' | 'epsilon' | 'image_data_format') => (keras === null ? null : (keras.config?.[key] ?? KERAS_DEFAULTS[key]));
  for (const key of ['floatx', 'epsilon', 'image_data_format'] as const) {
    list.add(`frameworks.keras.config.${key}`, 'framework', 'high', effective(fa.keras, key), effective(fb.keras, key), `keras.json ${key} changes numerics`);
  }
  list.add('frameworks.torch.version', 'framework', 'high', fa.torch?.version, fb.torch?.version, 'another PyTorch: other kernels');
  list.add('frameworks.torch.cuda', 'cuda', 'high', fa.torch?.cuda, fb.torch?.cuda, 'PyTorch built against another CUDA');
  list.add('frameworks.jax.version', 'framework', 'high', fa.jax?.version, fb.jax?.version, 'another JAX');
  list.add('frameworks.jax.jaxlib', 'framework', 'high', fa.jax?.jaxlib, fb.jax?.jaxlib, 'another jaxlib: other XLA');
  list.add('frameworks.numpy.version', 'framework', 'high', fa.numpy?.version, fb.numpy?.version, 'another NumPy: other random streams and round-off');
}

function gpu(list: DiffList, a: Snapshot, b: Snapshot): void {
  const [ga, gb] = [a.gpu, b.gpu];
  list.add('gpu.available', 'gpu', 'high', ga.available, gb.available, ga.available ? 'captured on a GPU, replayed without one: another hardware class' : 'replayed on a GPU, captured without one: another hardware class');
  const archs = (g: Snapshot['gpu']) => [...new Set(g.devices.map((d) => d.compute_capability ?? '?'))].sort();
  list.add('gpu.devices.compute_capability', 'gpu', 'high', archs(ga), archs(gb), 'another GPU architecture: other kernels (TF32, tensor cores, autotuned algorithms)');
  list.add('gpu.devices.name', 'gpu', 'medium', [...new Set(ga.devices.map((d) => d.name))].sort(), [...new Set(gb.devices.map((d) => d.name))].sort(), 'another GPU model');
  list.add('gpu.devices.count', 'gpu', 'medium', ga.devices.length, gb.devices.length, 'another GPU count: data-parallel reductions sum in another order');
  list.addKnown('gpu.driver_version', 'cuda', 'medium', ga.driver_version, gb.driver_version, 'another NVIDIA driver (its JIT compiles PTX differently)');
  list.addKnown('gpu.cuda_toolkit.version', 'cuda', 'high', ga.cuda_toolkit?.version, gb.cuda_toolkit?.version, 'another CUDA toolkit');
  const cudnn = (g: Snapshot['gpu']) => [...new Set(g.cudnn.map((c) => c.version))].sort();
  list.add('gpu.cudnn', 'cuda', 'high', cudnn(ga), cudnn(gb), 'another cuDNN: other convolution algorithms');
}

function system(list: DiffList, a: Snapshot, b: Snapshot): void {
  const [sa, sb] = [a.system, b.system];
  list.add('system.arch', 'cpu', 'high', sa.arch, sb.arch, 'another CPU architecture');
  const flags = (s: Snapshot['system']) => NUMERICS_CPU_FLAGS.filter((f) => s.cpu.flags.includes(f));
  // Only when both sides list flags: an empty list is an unreadable /proc/cpuinfo, not a CPU without them.
  if (sa.cpu.flags.length > 0 && sb.cpu.flags.length > 0) {
    const [fa, fb] = [flags(sa), flags(sb)];
    const gone = fa.filter((f) => !fb.includes(f));
    const added = fb.filter((f) => !fa.includes(f));
    if (gone.length + added.length > 0) {
      const onednn = [...gone, ...added].some((f) => (ONEDNN_DEFAULT_CPU_FLAGS as readonly string[]).includes(f));
      list.add('system.cpu.flags', 'cpu', 'high', fa, fb, `CPU features that pick other kernels${onednn ? ' (oneDNN turns itself on or off with these)' : ''}: ${[...gone.map((f) => `-${f}`), ...added.map((f) => `+${f}`)].join(' ')}`);
    }
  }
  list.addKnown('system.cpu.model', 'cpu', 'medium', sa.cpu.model, sb.cpu.model, 'another CPU model');
  list.add('system.cpu.logical_cores', 'cpu', 'low', sa.cpu.logical_cores, sb.cpu.logical_cores, 'another core count: thread-parallel reductions may sum in another order');
  list.addKnown('system.glibc', 'system', 'low', sa.glibc, sb.glibc, 'another C library (libm round-off)');
  list.addKnown('system.os', 'system', 'low', sa.os.pretty_name ?? sa.os.id, sb.os.pretty_name ?? sb.os.id, 'another operating system');
  list.add('system.kernel', 'system', 'info', sa.kernel, sb.kernel, 'another kernel');
  list.add('system.memory_total_bytes', 'system', 'info', sa.memory_total_bytes, sb.memory_total_bytes, 'another amount of memory');
  list.add('system.container.inside', 'system', 'info', sa.container.inside, sb.container.inside, 'in a container or not');
}

function numericsEnv(list: DiffList, a: Snapshot, b: Snapshot): void {
  const [ea, eb] = [a.determinism.env, b.determinism.env];
  for (const key of [...new Set([...Object.keys(ea), ...Object.keys(eb)])].sort()) {
    // Which devices, where Keras keeps its files: the host's business, never rebuilt, never a cause.
    if (HOST_ONLY_ENV.has(key)) list.add(`determinism.env.${key}`, 'numerics-env', 'info', ea[key] ?? null, eb[key] ?? null, `${key} is the host's own setting`);
    else list.add(`determinism.env.${key}`, 'numerics-env', 'high', ea[key] ?? null, eb[key] ?? null, `${key} changes numerics or determinism`);
  }
}

function python(list: DiffList, a: Snapshot, b: Snapshot): void {
  list.add('python.version', 'python', 'high', a.python.version, b.python.version, 'another Python: other hash seeds, other float formatting, other wheels');
  list.add('python.implementation', 'python', 'high', a.python.implementation, b.python.implementation, 'another Python implementation');
  list.add('python.environment', 'python', 'info', a.python.environment, b.python.environment, 'another kind of environment');
  list.add('python.executable', 'path', 'info', a.python.executable, b.python.executable, 'another path');
  list.add('python.prefix', 'path', 'info', a.python.prefix, b.python.prefix, 'another path');
}

/** The code: the replay runs the captured commit and patch, so a difference here is named as it is. */
function code(list: DiffList, a: Snapshot, b: Snapshot): void {
  list.add('code.git.commit', 'code', 'high', a.code?.git?.commit, b.code?.git?.commit, 'other code');
  list.add('code.git.patch_sha256', 'code', 'high', a.code?.git?.patch_sha256, b.code?.git?.patch_sha256, 'other uncommitted changes');
  list.add('code.path', 'path', 'info', a.code?.path, b.code?.path, 'another path');
}

/** Every difference between the captured environment `a` and the replay's `b`, most likely cause first. */
export function diffSnapshots(a: Snapshot, b: Snapshot): SnapshotDifference[] {
  const list = new DiffList();
  python(list, a, b);
  frameworks(list, a, b);
  numericsEnv(list, a, b);
  gpu(list, a, b);
  system(list, a, b);
  packages(list, a, b);
  code(list, a, b);
  // What the training did, when both runs were recorded: ranked with the environment by severity.
  list.items.push(...diffRecordings(a.run?.record, b.run?.record));
  return sortDifferences(list.items);
}

/** Most severe first; within a severity, the order they were found in. */
export function sortDifferences(items: readonly SnapshotDifference[]): SnapshotDifference[] {
  return items.map((item, index) => ({ item, index })).sort((x, y) => ORDER[x.item.severity] - ORDER[y.item.severity] || x.index - y.index).map(({ item }) => item);
}

export function severityCounts(differences: readonly SnapshotDifference[]): Record<Severity, number> {
  const counts: Record<Severity, number> = { high: 0, medium: 0, low: 0, info: 0 };
  for (const d of differences) counts[d.severity]++;
  return counts;
}

/** What `snapshot diff` reports: the two snapshots and what differs between them. */
export interface SnapshotDiffResult {
  a: { path: string; id: string; created_at: string };
  b: { path: string; id: string; created_at: string };
  differences: SnapshotDifference[];
  counts: Record<Severity, number>;
}
