// One fold from the items a reader judged (tensors, metric keys, archive entries) to the report of
// an output, the same for every format: its status, and one message that says why, with the real
// reason of an error first. The domain rules about items one side lacks live here too.
import type { ItemStatus, MetricDiff, OutputFormat, OutputReport, OutputStatus, TensorDiff } from './model.js';
import { combineStatuses } from './verdict.js';

/**
 * What an item only the candidate has means, by format. In a model (.h5, .keras) or a single
 * array file (.npy) it is another model or another content: different. In a bag of named arrays
 * (.npz) or a metrics document it is an addition that keeps the output from being identical but
 * is no failure.
 */
export const EXTRA_ITEM_MEANS: Record<OutputFormat, 'equivalent' | 'different'> = {
  json: 'equivalent',
  csv: 'different',
  npy: 'different',
  npz: 'equivalent',
  h5: 'different',
  keras: 'different',
  bytes: 'different',
};

/** What the tensors of a format are called in messages. */
const TENSOR_NOUN: Record<OutputFormat, string> = { json: 'values', csv: 'cells', npy: 'arrays', npz: 'arrays', h5: 'datasets', keras: 'weights', bytes: 'parts' };

/** Tensors holding optimizer state (Keras 3 `optimizer/vars/*`, legacy `optimizer_weights/*`): they drift more across hardware and matter less. */
export function isOptimizerState(name: string): boolean {
  return /^(optimizer|optimizer_weights)\//.test(name) || /\.h5:(optimizer|optimizer_weights)\//.test(name);
}

/** Tensor reasons told in an output's message; the rest are counted. */
const MAX_TENSOR_REASONS = 3;

export interface OutputParts {
  tensors?: TensorDiff[];
  /** Metric-like items (keys, attributes, archive entries): only the ones worth listing. */
  metrics?: MetricDiff[];
  /** A status and counts message for items judged but not all listed (a capped metrics document). */
  summarized?: { status: ItemStatus | 'missing' | 'extra'; message?: string };
  /** Faults: each makes the output an error unless something is definitely different. */
  errors?: string[];
  notes?: string[];
  ignored?: string[];
  bytes?: OutputReport['bytes'];
  text_diff?: string[];
}

function count(items: readonly { status: string }[], status: string): number {
  let n = 0;
  for (const item of items) if (item.status === status) n++;
  return n;
}

/** "2 of 5 weights not identical (1 different, 1 equivalent)". */
function tensorSummary(tensors: readonly TensorDiff[], noun: string): string | null {
  const off = tensors.filter((t) => t.status !== 'identical');
  if (off.length === 0) return null;
  const kinds = (['different', 'equivalent', 'error'] as const).map((s) => [s, count(off, s)] as const).filter(([, n]) => n > 0);
  const detail = kinds.length > 1 ? ` (${kinds.map(([s, n]) => `${n} ${s}`).join(', ')})` : kinds.length === 1 && kinds[0]?.[0] !== 'different' ? ` (${kinds[0]?.[0]})` : '';
  return `${off.length} of ${tensors.length} ${noun} not identical${detail}`;
}

function metricSummary(metrics: readonly MetricDiff[]): string | null {
  const off = metrics.filter((m) => m.status !== 'identical');
  if (off.length === 0) return null;
  return `${off.length} item${off.length === 1 ? '' : 's'} not identical`;
}

/** The report of one output from what its reader judged. */
export function foldOutput(path: string, format: OutputFormat, parts: OutputParts): OutputReport {
  const tensors = parts.tensors ?? [];
  const metrics = parts.metrics ?? [];
  const errors = parts.errors ?? [];
  const extraMeans = EXTRA_ITEM_MEANS[format];
  const status: OutputStatus = combineStatuses([
    ...tensors.map((t) => t.status),
    ...metrics.map((m) => (m.status === 'extra' && extraMeans === 'different' ? 'different' : m.status)),
    ...(parts.summarized ? [parts.summarized.status === 'extra' && extraMeans === 'different' ? ('different' as const) : parts.summarized.status] : []),
    ...errors.map(() => 'error' as const),
  ]);
  // The reason of a fault first, then what differs, then notes. The reasons of a few tensors that
  // failed or differ in structure (dtype, shape, presence) are told, not only counted.
  const explained = (t: TensorDiff) => t.message !== undefined && (t.status === 'error' || (t.status === 'different' && t.mismatched === 0));
  const reasons = tensors.filter(explained).slice(0, MAX_TENSOR_REASONS).map((t) => (t.name === '' ? (t.message as string) : `${t.name}: ${t.message}`));
  // A lone tensor whose reason was told needs no "1 of 1 ... not identical" after it.
  const counted = tensors.length === 1 && reasons.length === 1 ? null : tensorSummary(tensors, TENSOR_NOUN[format]);
  const messages = [
    ...errors,
    ...reasons,
    counted,
    parts.summarized?.message ?? metricSummary(metrics),
    ...(parts.notes ?? []),
  ].filter((m): m is string => m !== null && m !== undefined && m !== '');
  return {
    path,
    format,
    status,
    ...(messages.length > 0 ? { message: [...new Set(messages)].join('; ') } : {}),
    ...(tensors.length > 0 ? { tensors } : {}),
    ...(metrics.length > 0 ? { metrics } : {}),
    ...(parts.ignored && parts.ignored.length > 0 ? { ignored: parts.ignored } : {}),
    ...(parts.bytes ? { bytes: parts.bytes } : {}),
    ...(parts.text_diff && parts.text_diff.length > 0 ? { text_diff: parts.text_diff } : {}),
  };
}

/** Items one side lacks, as metric-like items: missing is a difference, extra as the format says. */
export function absentItems(missing: readonly string[], extra: readonly string[], what: string): MetricDiff[] {
  return [
    ...missing.map((key): MetricDiff => ({ key, status: 'missing', baseline: null, candidate: null, difference: null, tolerance: null, message: `${what} missing from the candidate` })),
    ...extra.map((key): MetricDiff => ({ key, status: 'extra', baseline: null, candidate: null, difference: null, tolerance: null, message: `${what} only in the candidate` })),
  ];
}
