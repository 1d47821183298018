// What `snapshot compare` produces: a verdict and, per output, what was compared and how far apart
// the two sides are. Every comparator returns these values; the renderers only read them.

export type Verdict = 'identical' | 'equivalent' | 'different' | 'error';

/** Per output: `missing` (in the baseline only) counts as different; `extra` (candidate only) is reported, not failed. */
export type OutputStatus = 'identical' | 'equivalent' | 'different' | 'missing' | 'extra' | 'error' | 'ignored';

/** Per tensor, metric or table cell group. */
export type ItemStatus = 'identical' | 'equivalent' | 'different' | 'error';

export type CompareMode = 'bitwise' | 'allclose' | 'ignore';

/** How close two numbers must be: numpy.allclose semantics, |a - b| <= atol + rtol * |b| (b = baseline). */
export interface Tolerance {
  mode: CompareMode;
  rtol: number;
  atol: number;
  /** NaN on both sides at the same place counts as equal. */
  nan_equal: boolean;
}

export const BITWISE: Tolerance = { mode: 'bitwise', rtol: 0, atol: 0, nan_equal: true };

/** A metric-specific rule: a tolerance, and optionally the direction in which a change is welcome. */
export interface MetricRule extends Tolerance {
  /** true: a higher candidate is never a failure (accuracy); false: a lower one is not (loss). */
  greater_is_better?: boolean;
  /** For a list of numbers (a History): judge only its last value, or its best one (by greater_is_better). Absent: every value. */
  at?: 'last' | 'best';
}

export type OutputFormat = 'json' | 'csv' | 'npy' | 'npz' | 'h5' | 'keras' | 'bytes';

export interface TensorDiff {
  /** '' for a lone .npy; the array name in an .npz; the dataset path in HDF5. */
  name: string;
  status: ItemStatus;
  dtype: { baseline: string; candidate: string };
  shape: { baseline: number[]; candidate: number[] };
  elements: number;
  /** Largest |a - b| over compared elements (NaN/inf pairs excluded); null when nothing was compared. */
  max_abs_diff: number | null;
  /** Largest |a - b| / |b| where b != 0; null when not defined. */
  max_rel_diff: number | null;
  /** Elements outside the tolerance (for bitwise: elements that differ at all). */
  mismatched: number;
  mismatched_fraction: number;
  /** Multi-dimensional index of the first mismatching element in C order. */
  first_mismatch: number[] | null;
  tolerance: Tolerance;
  /** Why it is different or an error when that is not a value difference: "shape differs", "dtype differs", a read error. */
  message?: string;
}

export interface MetricDiff {
  /** The key's path, dotted (object keys with '.' and '\\' escaped as '\\.' and '\\\\'; list items by index): "history.loss.3". */
  key: string;
  status: ItemStatus | 'missing' | 'extra';
  baseline: unknown;
  candidate: unknown;
  /** candidate - baseline for numbers, else null. */
  difference: number | null;
  tolerance: MetricRule | null;
  message?: string;
  /** A short unified diff, for a text entry of an archive that differs. */
  text_diff?: string[];
}

export interface OutputReport {
  /** Path relative to the compared folders, '/' separated. */
  path: string;
  format: OutputFormat;
  status: OutputStatus;
  message?: string;
  tensors?: TensorDiff[];
  metrics?: MetricDiff[];
  /** A short unified-style diff for small text files. */
  text_diff?: string[];
  bytes?: { baseline_sha256: string | null; candidate_sha256: string | null; baseline_size: number | null; candidate_size: number | null };
  /** Parts a format ignores by nature, e.g. "metadata.json: date_saved". */
  ignored?: string[];
}

export interface CompareSummary {
  outputs: number;
  identical: number;
  equivalent: number;
  different: number;
  missing: number;
  extra: number;
  error: number;
  ignored: number;
}

export interface CompareReport {
  verdict: Verdict;
  baseline: string;
  candidate: string;
  policy: string | null;
  summary: CompareSummary;
  outputs: OutputReport[];
}

/**
 * A TensorDiff with no element statistics yet: the starting point of every comparator, and the
 * whole answer when a tensor cannot be compared (an error, a missing dataset).
 */
export function blankTensorDiff(name: string, status: ItemStatus, tolerance: Tolerance, fields: Partial<TensorDiff> = {}): TensorDiff {
  return {
    name,
    status,
    dtype: { baseline: '', candidate: '' },
    shape: { baseline: [], candidate: [] },
    elements: 0,
    max_abs_diff: null,
    max_rel_diff: null,
    mismatched: 0,
    mismatched_fraction: 0,
    first_mismatch: null,
    tolerance,
    ...fields,
  };
}

/**
 * The report as JSON can carry it: JSON has no NaN, no infinities and no negative zero (JSON.stringify
 * turns the first two into null and the last into 0), and no integers beyond 2^53. Those become the
 * strings "NaN", "Infinity", "-Infinity", "-0" and the integer's digits; every other value is unchanged.
 */
export function jsonSafe<T>(value: T): T {
  const visit = (node: unknown): unknown => {
    if (typeof node === 'number') {
      if (Number.isNaN(node)) return 'NaN';
      if (node === Infinity) return 'Infinity';
      if (node === -Infinity) return '-Infinity';
      if (Object.is(node, -0)) return '-0';
      return node;
    }
    if (typeof node === 'bigint') return node.toString();
    if (Array.isArray(node)) return node.map(visit);
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(node as Record<string, unknown>)) out[key] = visit(item);
      return out;
    }
    return node;
  };
  return visit(value) as T;
}
