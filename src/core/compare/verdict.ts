// From per-output statuses to one verdict. A definite difference outranks an error: one real
// difference is enough to say `different`; otherwise anything that could not be judged makes the
// whole comparison `error`.
import { outputKind } from '../manifest.js';
import type { CompareSummary, ItemStatus, OutputFormat, OutputStatus, Verdict } from './model.js';
import { ExitCode } from '../../errors.js';

export function summarize(statuses: readonly OutputStatus[]): CompareSummary {
  const summary: CompareSummary = { outputs: statuses.length, identical: 0, equivalent: 0, different: 0, missing: 0, extra: 0, error: 0, ignored: 0 };
  for (const status of statuses) summary[status] += 1;
  return summary;
}

export function verdictOf(summary: CompareSummary): Verdict {
  if (summary.different > 0 || summary.missing > 0) return 'different';
  if (summary.error > 0) return 'error';
  // Nothing was actually compared (only extras or ignored outputs): nothing can be vouched for.
  if (summary.identical + summary.equivalent === 0) return 'error';
  return summary.equivalent > 0 ? 'equivalent' : 'identical';
}

/**
 * Folds item statuses (tensors, metrics, parts of an archive) into the status of one output, the
 * same way for every format. An item only the candidate has (an extra array in an .npz, a new key
 * in a metrics file) keeps the output from being identical but is not a failure; model formats
 * that treat an extra weight as another model report it as 'different' before folding.
 */
export function combineStatuses(statuses: Iterable<ItemStatus | 'missing' | 'extra'>): Exclude<OutputStatus, 'missing' | 'extra' | 'ignored'> {
  let error = false;
  let equivalent = false;
  for (const s of statuses) {
    if (s === 'different' || s === 'missing') return 'different';
    if (s === 'error') error = true;
    else if (s === 'equivalent' || s === 'extra') equivalent = true;
  }
  return error ? 'error' : equivalent ? 'equivalent' : 'identical';
}

/** Which reader handles a path: the same classification capture records in baseline manifests. */
export function formatOf(path: string): OutputFormat {
  const kind = outputKind(path);
  return kind === 'metrics' ? 'json' : kind === 'other' ? 'bytes' : kind;
}

/** compare's exit code: 0 identical or equivalent, 1 different, 7 error. */
export function compareExitCode(verdict: Verdict): number {
  return verdict === 'different' ? ExitCode.different : verdict === 'error' ? ExitCode.verdictError : ExitCode.ok;
}
