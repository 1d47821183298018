// capture --repeat: the training run again here, its outputs judged against the first run's, and,
// where they moved, where the runs parted first (from their records) and which finding explains
// it; --explain's candidate fixes, each a setting a pair of further runs is made with. Pure.
import type { CompareReport } from './compare/model.js';
import type { Finding, RepeatCheck } from './model.js';
import { callText, type RunRecording } from './recording.js';
import { diffRecordings } from './recording-diff.js';

/** The run-to-run verdict from the comparisons of each further run with the first. */
export function repeatVerdict(reports: readonly CompareReport[]): { verdict: RepeatCheck['verdict']; moved: RepeatCheck['moved'] } {
  const moved = new Map<string, RepeatCheck['moved'][number]>();
  let worst: RepeatCheck['verdict'] = 'deterministic';
  const rank = { deterministic: 0, equivalent: 1, nondeterministic: 2, error: 3 } as const;
  for (const report of reports) {
    const v: RepeatCheck['verdict'] = report.verdict === 'identical' ? 'deterministic' : report.verdict === 'equivalent' ? 'equivalent' : report.verdict === 'different' ? 'nondeterministic' : 'error';
    if (rank[v] > rank[worst]) worst = v;
    for (const o of report.outputs) {
      if (o.status === 'identical' || o.status === 'ignored') continue;
      const maxAbs = (o.tensors ?? []).reduce<number | null>((m, t) => (typeof t.max_abs_diff === 'number' && Number.isFinite(t.max_abs_diff) ? Math.max(m ?? 0, t.max_abs_diff) : m), null);
      const known = moved.get(o.path);
      if (known === undefined || (maxAbs !== null && (known.max_abs_diff ?? -1) < maxAbs)) moved.set(o.path, { path: o.path, status: o.status, max_abs_diff: maxAbs, message: o.message ?? null });
    }
  }
  return { verdict: worst, moved: [...moved.values()].sort((a, b) => (a.path < b.path ? -1 : 1)) };
}

/**
 * Where two runs of one training parted first, from their records: the seeds they were given,
 * the data that reached fit, the model, its initial weights; or, all of those equal, only in
 * training (data order, nondeterministic kernels, threads).
 */
export function divergence(first: RunRecording | null, other: RunRecording | null): RepeatCheck['divergence'] {
  if (first === null || other === null) return null;
  const diffs = diffRecordings(first, other);
  const has = (re: RegExp) => diffs.find((d) => re.test(d.field));
  const seeds = has(/^run\.record\.seeds$/);
  if (seeds) return { stage: 'seeds', message: `the runs seeded differently (${seeds.baseline ?? 'none'} then ${seeds.replay ?? 'none'}): a seed drawn at run time, from the clock or os.urandom` };
  const data = has(/\.data\./);
  if (data) return { stage: 'data', message: `other data reached fit (${data.field.replace(/^run\.record\./, '')}): the loading, splitting or preprocessing is not seeded` };
  const arch = has(/\.model\.(config_sha256|params)$/);
  if (arch) return { stage: 'architecture', message: 'the model was built differently from one run to the next' };
  const init = has(/\.model\.initial_weights_sha256$/);
  if (init) return { stage: 'initial_weights', message: 'the initial weights already differed at fit: the initialization is not seeded' };
  if (first.fits.length === 0) return null;
  if (first.fits.length !== other.fits.length) return { stage: 'training', message: `the runs called fit ${first.fits.length} and ${other.fits.length} times: the training took another path` };
  // What the records could not tell apart is said, not taken as equal: a tf.data pipeline's or a
  // generator's elements are never read, and a model built only inside fit has no initial weights yet.
  const unchecked = uncheckedAtFit(first);
  const caveat = unchecked.length === 0 ? '' : ` (not compared: ${unchecked.slice(0, 3).join('; ')}${unchecked.length > 3 ? '; ...' : ''}, so other data or initial weights there are not ruled out)`;
  return { stage: 'training', message: `the same data, model and initial weights reached fit, and the results still differ: the data order or nondeterministic ops (threads, oneDNN, GPU kernels) change training${caveat}` };
}

/** What the record of each fit holds no content digest of: datasets, generators, undigested values, unknown initial weights. */
function uncheckedAtFit(record: RunRecording): string[] {
  const out: string[] = [];
  for (const fit of record.fits) {
    const at = `fit #${fit.index + 1}`;
    const visit = (d: RunRecording['fits'][number]['data']['x'], name: string): void => {
      if (d.kind === 'structure') for (const [k, v] of Object.entries(d.items)) visit(v, `${name}.${k}`);
      else if (d.kind === 'dataset') out.push(`${at} ${name}, a ${d.source} whose elements are not read`);
      else if (d.kind === 'unknown') out.push(`${at} ${name}, not digested`);
    };
    for (const key of ['x', 'y', 'validation'] as const) visit(fit.data[key], key);
    if (fit.model.initial_weights_sha256 === null) out.push(`${at} initial weights, unknown at fit`);
  }
  return out;
}

/** Which findings explain a divergence at `stage` (their codes, among the snapshot's findings). */
const EXPLAINS: Record<NonNullable<RepeatCheck['divergence']>['stage'], readonly string[]> = {
  seeds: ['NO_SEED_CALL'],
  data: ['NUMPY_RNG_UNSEEDED', 'NO_SEED_CALL', 'KERAS3_PYTHON_RANDOM_UNSEEDED', 'PYTHONHASHSEED_UNSET', 'PYTHONHASHSEED_RANDOM'],
  architecture: ['PYTHONHASHSEED_UNSET', 'PYTHONHASHSEED_RANDOM'],
  initial_weights: ['NO_SEED_CALL', 'KERAS3_PYTHON_RANDOM_UNSEEDED', 'NUMPY_RNG_UNSEEDED'],
  training: ['TF_GPU_NO_OP_DETERMINISM', 'TORCH_GPU_NOT_DETERMINISTIC', 'CUBLAS_WORKSPACE_UNSET', 'ONEDNN_ON', 'THREADS_UNPINNED', 'PYTHONHASHSEED_UNSET', 'XLA_NOT_DETERMINISTIC', 'TF32_ON'],
};

export function explainedBy(div: RepeatCheck['divergence'], findings: readonly Finding[]): string[] {
  const present = new Set(findings.map((f) => f.code));
  const candidates = div === null ? [...new Set(Object.values(EXPLAINS).flat())] : EXPLAINS[div.stage];
  return candidates.filter((code) => present.has(code));
}

/** One fix --explain tries: the variables a pair of runs gets, and what to tell the user when it works. */
export interface CandidateFix {
  code: string;
  /** What it changes, as the progress line says it. */
  label: string;
  env: Record<string, string>;
  /** The advice when this fix made the runs identical. */
  advice: string;
}

/** The recorder's switches --explain turns on: seeding Python's random and numpy where the training seeds its framework, or op determinism. */
export const ALSO_SEED_ENV = { SNAPSHOT_RECORD_ALSO_SEED: '1' } as const;
export const OP_DETERMINISM_ENV = { SNAPSHOT_RECORD_OP_DETERMINISM: '1' } as const;

/**
 * The fixes worth a pair of runs, most likely first: what the divergence points at, then the
 * rest. Python's random is seeded only when the training seeds something (there is a seed to
 * copy); PYTHONHASHSEED only when it is unset.
 */
export function candidateFixes(div: RepeatCheck['divergence'], record: RunRecording | null, env: Readonly<Record<string, string>>): CandidateFix[] {
  const fixes: CandidateFix[] = [];
  const direct = (record?.seeds ?? []).filter((s) => s.via === null);
  // The framework's own seed call is where the user's fix goes (tf.random.set_seed before numpy's).
  const frameworkSeed = ['tf.random.set_seed', 'torch.manual_seed', 'numpy.random.seed'].map((name) => direct.find((s) => s.call === name)).find((s) => s !== undefined);
  if (frameworkSeed !== undefined) {
    const value = frameworkSeed.args[0];
    const seed = typeof value === 'number' || typeof value === 'string' ? String(value) : 'SEED';
    fixes.push({
      code: 'KERAS3_PYTHON_RANDOM_UNSEEDED',
      label: `seeding Python's random and numpy with ${seed} where the training calls ${callText(frameworkSeed)}`,
      env: { ...ALSO_SEED_ENV },
      advice: `adding \`keras.utils.set_random_seed(${seed})\` where you call \`${callText(frameworkSeed)}\` made two runs bit-identical`,
    });
  }
  if (env.PYTHONHASHSEED === undefined || env.PYTHONHASHSEED === 'random') {
    fixes.push({ code: 'PYTHONHASHSEED_UNSET', label: 'PYTHONHASHSEED=0', env: { PYTHONHASHSEED: '0' }, advice: 'exporting PYTHONHASHSEED=0 before the training made two runs bit-identical' });
  }
  fixes.push({ code: 'TF_GPU_NO_OP_DETERMINISM', label: 'op determinism on (tf.config.experimental.enable_op_determinism)', env: { ...OP_DETERMINISM_ENV }, advice: 'calling `tf.config.experimental.enable_op_determinism()` at the start of the training made two runs bit-identical' });
  fixes.push({ code: 'THREADS_UNPINNED', label: 'CPU threads pinned to 1 (OMP_NUM_THREADS, TF_NUM_INTRAOP_THREADS, TF_NUM_INTEROP_THREADS)', env: { OMP_NUM_THREADS: '1', TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' }, advice: 'pinning the CPU threads (OMP_NUM_THREADS=1 TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1) made two runs bit-identical' });
  if (div?.stage === 'training') {
    // Seeds and initial weights agreed: kernels and threads first.
    const order = ['TF_GPU_NO_OP_DETERMINISM', 'THREADS_UNPINNED', 'PYTHONHASHSEED_UNSET', 'KERAS3_PYTHON_RANDOM_UNSEEDED'];
    fixes.sort((a, b) => order.indexOf(a.code) - order.indexOf(b.code));
  }
  return fixes;
}

/** The verdict's one line. */
export function repeatMessage(verdict: RepeatCheck['verdict'], runs: number, moved: RepeatCheck['moved'], div: RepeatCheck['divergence']): string {
  if (verdict === 'deterministic') return `${runs} runs gave bit-identical outputs`;
  if (verdict === 'equivalent') return `${runs} runs gave outputs within the policy's tolerance`;
  if (verdict === 'error') return 'a run failed or its outputs could not be judged';
  const what = moved.slice(0, 3).map((m) => `${m.path}${m.max_abs_diff !== null ? ` (max |diff| ${m.max_abs_diff.toPrecision(3)})` : ''}`).join(', ');
  return `the outputs moved between runs: ${what}${moved.length > 3 ? ', ...' : ''}${div ? `; ${div.message}` : ''}`;
}
