// Metrics JSON (a Keras History dict, an eval summary): flattened to dotted keys, then compared
// key by key — numbers against a tolerance and an optional direction, everything else exactly.
import { combineStatuses } from './verdict.js';
import type { MetricDiff, MetricRule, OutputStatus } from './model.js';

/**
 * Nested objects become dotted keys and lists are indexed (`{"history": {"loss": [0.5]}}` gives
 * `history.loss.0`). An empty object or array is a leaf of its own (except the whole document:
 * `{}` has no keys). A top-level scalar has key ''.
 */
export function flattenJson(value: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const visit = (node: unknown, prefix: string): void => {
    if (Array.isArray(node)) {
      if (node.length === 0 && prefix !== '') out.set(prefix, []);
      node.forEach((item, index) => visit(item, join(prefix, String(index))));
    } else if (node !== null && typeof node === 'object') {
      const entries = Object.entries(node as Record<string, unknown>);
      if (entries.length === 0 && prefix !== '') out.set(prefix, {});
      for (const [key, item] of entries) visit(item, join(prefix, key));
    } else if (!out.has(prefix)) {
      // A key spelt with a dot ("a.b") can collide with a nested one; the first one wins.
      out.set(prefix, node);
    }
  };
  visit(value, '');
  return out;
}

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

/**
 * Parses JSON as Python's json module writes it: bare NaN, Infinity and -Infinity (what
 * `json.dump(history.history)` emits for a diverged loss) are accepted as numbers.
 */
export function parseMetricsJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (strictError) {
    const marker = `\u0000snapshot-nonfinite-${Math.random().toString(36).slice(2)}:`;
    let rewritten = '';
    let inString = false;
    let changed = false;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i] as string;
      if (inString) {
        rewritten += ch;
        if (ch === '\\') {
          rewritten += text[i + 1] ?? '';
          i++;
        } else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') {
        inString = true;
        rewritten += ch;
        continue;
      }
      const match = /^(-?Infinity|NaN)/.exec(text.slice(i, i + 9));
      if (match) {
        rewritten += JSON.stringify(marker + match[1]);
        i += match[1]!.length - 1;
        changed = true;
        continue;
      }
      rewritten += ch;
    }
    if (!changed) throw strictError;
    return JSON.parse(rewritten, (_key, value: unknown) => {
      if (typeof value === 'string' && value.startsWith(marker)) {
        const token = value.slice(marker.length);
        return token === 'NaN' ? Number.NaN : token === '-Infinity' ? -Infinity : Infinity;
      }
      return value;
    }) as unknown;
  }
}

export interface NumberComparison {
  status: 'identical' | 'equivalent' | 'different';
  /** candidate - baseline when finite, else null. */
  difference: number | null;
  message?: string;
}

/**
 * One number against another under a rule.
 * - identical: the same value, bit for bit as a double (Object.is: -0 and 0 are NOT identical;
 *   NaN and NaN are, when nan_equal).
 * - bitwise: anything else is different — bitwise means bitwise, so -0 vs 0 is different there
 *   (as it is for tensors, where the bytes differ). In allclose mode -0 vs 0 is equivalent (|a - b| = 0).
 * - allclose: numpy.isclose, |a - b| <= atol + rtol * |b| with b the baseline; infinities must be equal.
 * - ignore: a change is equivalent ("ignored by the policy").
 * - greater_is_better: a change beyond the tolerance in the welcome direction is equivalent,
 *   "better than the baseline".
 */
export function compareNumbers(baseline: number, candidate: number, rule: MetricRule): NumberComparison {
  const raw = candidate - baseline;
  const difference = Number.isFinite(raw) ? raw : null;
  if (Object.is(baseline, candidate)) {
    if (Number.isNaN(baseline) && !rule.nan_equal) return { status: 'different', difference, message: 'NaN on both sides (nan_equal is off)' };
    return { status: 'identical', difference };
  }
  if (rule.mode === 'ignore') return { status: 'equivalent', difference, message: 'ignored by the policy' };
  if (Number.isNaN(baseline) || Number.isNaN(candidate)) {
    return { status: 'different', difference, message: Number.isNaN(baseline) ? 'baseline is NaN' : 'candidate is NaN' };
  }
  let within = false;
  if (rule.mode === 'allclose') {
    if (Number.isFinite(baseline) && Number.isFinite(candidate)) {
      within = Math.abs(candidate - baseline) <= rule.atol + rule.rtol * Math.abs(baseline);
    } else {
      within = baseline === candidate; // inf == inf; -0 == 0 cannot reach here with an infinity
    }
    if (within) return { status: 'equivalent', difference, message: 'within tolerance' };
  }
  if (rule.greater_is_better !== undefined) {
    const better = rule.greater_is_better ? candidate > baseline : candidate < baseline;
    if (better) return { status: 'equivalent', difference, message: 'better than the baseline' };
  }
  if (rule.mode === 'bitwise') {
    return { status: 'different', difference, message: baseline === candidate ? 'sign of zero differs (bitwise)' : 'differs (bitwise)' };
  }
  return { status: 'different', difference, message: `beyond tolerance (atol ${rule.atol}, rtol ${rule.rtol})` };
}

/** Compares two metrics documents key by key; the result is sorted by key (numeric segments numerically). */
export function compareMetrics(baseline: unknown, candidate: unknown, ruleFor: (key: string) => MetricRule): MetricDiff[] {
  const base = flattenJson(baseline);
  const cand = flattenJson(candidate);
  const keys = new Set<string>([...base.keys(), ...cand.keys()]);
  const diffs: MetricDiff[] = [];
  for (const key of keys) {
    const inBase = base.has(key);
    const inCand = cand.has(key);
    const b = base.get(key);
    const c = cand.get(key);
    if (!inCand) {
      diffs.push({ key, status: 'missing', baseline: b, candidate: null, difference: null, tolerance: null, message: 'missing from the candidate' });
      continue;
    }
    if (!inBase) {
      diffs.push({ key, status: 'extra', baseline: null, candidate: c, difference: null, tolerance: null, message: 'only in the candidate' });
      continue;
    }
    diffs.push(compareValues(key, b, c, ruleFor));
  }
  return diffs.sort((x, y) => compareKeys(x.key, y.key));
}

/** One leaf against another: numbers through compareNumbers, anything else exactly. */
export function compareValues(key: string, b: unknown, c: unknown, ruleFor: (key: string) => MetricRule): MetricDiff {
  if (typeof b === 'number' && typeof c === 'number') {
    const rule = ruleFor(key);
    const result = compareNumbers(b, c, rule);
    return { key, status: result.status, baseline: b, candidate: c, difference: result.difference, tolerance: rule, ...(result.message && result.status !== 'identical' ? { message: result.message } : {}) };
  }
  const tb = kind(b);
  const tc = kind(c);
  if (tb !== tc) {
    return { key, status: 'different', baseline: b, candidate: c, difference: null, tolerance: null, message: `type changed: ${tb} in the baseline, ${tc} in the candidate` };
  }
  const same = tb === 'object' || tb === 'array' ? true : b === c;
  return { key, status: same ? 'identical' : 'different', baseline: b, candidate: c, difference: null, tolerance: null };
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Dotted keys in order, with numeric segments compared as numbers (history.loss.2 before history.loss.10). */
export function compareKeys(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Number(x) - Number(y) || (x < y ? -1 : 1);
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** identical if every item is; equivalent if every item is identical, equivalent or extra; else different. */
export function metricsStatus(diffs: readonly MetricDiff[]): Exclude<OutputStatus, 'missing' | 'extra' | 'ignored'> {
  return combineStatuses(diffs.map((d) => d.status));
}
