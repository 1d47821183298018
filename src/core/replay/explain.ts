// From a verdict and the environment's differences to its likely causes, most likely first, and a
// one-line conclusion. A `different` with no difference to blame says so: then the training itself
// may be nondeterministic, which only running it twice where it was captured can tell.
import type { Snapshot } from '../model.js';
import { untrackedAtCapture } from '../git.js';
import type { DiffCategory, SnapshotDifference } from '../snapshot-diff.js';
import type { LikelyCause, ReplayFailure, ReplayVerdict } from './report.js';

/** Within a severity: which kind of difference explains a changed result first (what the training itself did, before its environment). */
const CATEGORY_ORDER: readonly DiffCategory[] = ['run', 'numerics-env', 'gpu', 'cuda', 'framework', 'cpu', 'python', 'code', 'package', 'system', 'path'];

function describe(d: SnapshotDifference): string {
  const from = d.baseline ?? '(not set)';
  const to = d.replay ?? '(not set)';
  return `${d.field}: ${from} at capture, ${to} in the replay (${d.why})`;
}

export interface ExplainInput {
  verdict: ReplayVerdict;
  differences: readonly SnapshotDifference[];
  snapshot: Snapshot;
  failure: ReplayFailure | null;
  /** The replay ran on CPU although the capture had GPUs (--gpus none), or the reverse. */
  hardwareCrossed: boolean;
  /** Data files were not checked against their captured sha256 (--no-verify-data). */
  dataUnverified: boolean;
  /** Where the outputs were looked for when the training left no folder there; null otherwise. */
  noOutputsAt?: string | null;
  /** Outputs the training did not write (the code layer's copies), left out of the comparison. */
  untouched?: readonly string[];
}

export function explain(input: ExplainInput): { causes: LikelyCause[]; conclusion: string } {
  const { verdict, differences, snapshot } = input;
  if (verdict === 'error') return { causes: [], conclusion: input.failure?.message ?? 'the replay could not be judged' };
  const ranked = differences
    .filter((d) => d.severity === 'high' || d.severity === 'medium')
    .map((d, index) => ({ d, index }))
    .sort((a, b) => (a.d.severity === b.d.severity ? 0 : a.d.severity === 'high' ? -1 : 1) || CATEGORY_ORDER.indexOf(a.d.category) - CATEGORY_ORDER.indexOf(b.d.category) || a.index - b.index)
    .map(({ d }) => d);
  const causes: LikelyCause[] = [];
  // Nothing to compare explains a `different` before any environment difference does.
  if (input.noOutputsAt) causes.push({ severity: 'high', field: 'run.outputs_dir', message: `the training wrote no outputs folder at ${input.noOutputsAt}, where the replay looked for them (the captured --outputs, from the working directory)` });
  const untouched = input.untouched ?? [];
  if (untouched.length > 0) causes.push({ severity: 'high', field: 'run.outputs_dir', message: `the training did not write ${untouched.slice(0, 5).join(', ')}${untouched.length > 5 ? ', ...' : ''}: only the copies in the code at the captured commit were there, so they were not counted` });
  if (input.hardwareCrossed) causes.push({ severity: 'high', field: 'gpu.available', message: 'the replay crossed hardware classes (GPU at capture, CPU here, or the reverse): kernels and round-off differ by design' });
  for (const d of ranked) {
    if (input.hardwareCrossed && d.field === 'gpu.available') continue;
    causes.push({ severity: d.severity, field: d.field, message: describe(d) });
  }
  const untrackedFiles = untrackedAtCapture(snapshot.code?.git);
  if (untrackedFiles.length > 0) {
    const shown = untrackedFiles.slice(0, 5).map((p) => JSON.stringify(p)).join(', ');
    // After the high ones: a changed numerics setting explains more often than a missing file.
    const at = causes.findIndex((c) => c.severity !== 'high');
    const cause: LikelyCause = { severity: 'high', field: 'code.git.untracked', message: `${untrackedFiles.length} file(s) untracked at capture are not in the replay: ${shown}${untrackedFiles.length > 5 ? ', ...' : ''}` };
    if (at < 0) causes.push(cause);
    else causes.splice(at, 0, cause);
  }
  // The baseline's own run-to-run check: a training that gave other outputs twice where it was
  // captured explains a `different` before any environment difference can.
  const repeat = snapshot.run?.repeat ?? null;
  if (repeat !== null && repeat.verdict === 'nondeterministic') {
    const why = repeat.explain?.fixed_by ?? (repeat.explained_by.length > 0 ? `explained by ${repeat.explained_by.join(', ')}` : repeat.divergence?.message ?? null);
    causes.unshift({ severity: 'high', field: 'run.repeat', message: `the training is not deterministic where it was captured: ${repeat.runs} runs there already gave other outputs (${repeat.message})${why ? `; ${why}` : ''}` });
  }
  if (input.dataUnverified) causes.push({ severity: 'medium', field: 'data', message: 'the data was not checked against its captured sha256 (--no-verify-data): it may not be the data the baseline was trained on' });
  if (verdict === 'identical') return { causes: [], conclusion: 'the replay reproduced every output bit for bit' };
  if (verdict === 'equivalent') return { causes: [], conclusion: "every output is within the policy's tolerance" };
  if (causes.length === 0) {
    if (repeat !== null && repeat.verdict === 'deterministic') {
      return { causes, conclusion: `no recorded environment difference explains it, and the training gave the same outputs in ${repeat.runs} runs where it was captured: something this replay's environment does that the snapshot does not record (a kernel, a library loaded from elsewhere, the hardware's round-off)` };
    }
    return {
      causes,
      conclusion: 'no environment difference explains it: the training itself may be nondeterministic (unseeded randomness, nondeterministic kernels, thread scheduling); capture it with --repeat 2 to check the two runs there',
    };
  }
  return { causes, conclusion: `most likely cause: ${(causes[0] as LikelyCause).message}` };
}
