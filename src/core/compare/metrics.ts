// Metrics documents (a Keras History, an eval summary, a model's config.json) compared value by
// value, walking both documents in lockstep through JsonCursors: numbers against the rule of their
// key path, everything else exactly, and the structure itself (an object is not a list, a key
// spelt "a.b" is not a key "b" inside "a"). Nothing is flattened into per-key objects: the walk
// counts what it judges and keeps only the first non-identical items for the report, so a document
// of 20 million numbers costs the same memory as one of ten.
import { valueCursor, type JsonCursor, type JsonNumber, type JsonValue } from './json-cursor.js';
import type { ItemStatus, MetricDiff, MetricRule } from './model.js';
import { formatMetricPath, type MetricPath, type MetricRules } from './policy.js';

export interface NumberComparison {
  status: 'identical' | 'equivalent' | 'different';
  /** candidate - baseline when finite, else null. */
  difference: number | null;
  message?: string;
}

function isIntegral(value: JsonNumber): boolean {
  return typeof value === 'bigint' || Number.isInteger(value);
}

/**
 * One number against another under a rule.
 * - identical: the same value (bit for bit as a double, exactly for big integers; -0 and 0 are
 *   not identical; NaN and NaN are only when nan_equal).
 * - bitwise: anything else is different. allclose: numpy.isclose, |a - b| <= atol + rtol * |b| with
 *   b the baseline; infinities must be equal. ignore: a change is equivalent.
 * - greater_is_better: a finite change beyond the tolerance in the welcome direction is
 *   equivalent, "better than the baseline". A non-finite value is never "better".
 */
export function compareNumbers(baseline: JsonNumber, candidate: JsonNumber, rule: MetricRule): NumberComparison {
  if (typeof baseline === 'bigint' || typeof candidate === 'bigint') {
    if (baseline === candidate) return { status: 'identical', difference: 0 };
    return compareBig(baseline, candidate, rule);
  }
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
  const finite = Number.isFinite(baseline) && Number.isFinite(candidate);
  if (rule.mode === 'allclose') {
    const within = finite ? Math.abs(candidate - baseline) <= rule.atol + rule.rtol * Math.abs(baseline) : baseline === candidate;
    if (within) return { status: 'equivalent', difference, message: 'within tolerance' };
  }
  if (!finite) return { status: 'different', difference, message: `${Number.isFinite(candidate) ? 'baseline' : 'candidate'} is ${Number.isFinite(candidate) ? baseline : candidate}` };
  if (rule.greater_is_better !== undefined) {
    const better = rule.greater_is_better ? candidate > baseline : candidate < baseline;
    if (better) return { status: 'equivalent', difference, message: 'better than the baseline' };
  }
  if (rule.mode === 'bitwise') {
    return { status: 'different', difference, message: baseline === candidate ? 'sign of zero differs (bitwise)' : 'differs (bitwise)' };
  }
  return { status: 'different', difference, message: `beyond tolerance (atol ${rule.atol}, rtol ${rule.rtol})` };
}

/** Integers beyond 2^53 compared exactly; the difference is exact before it becomes a double. */
function compareBig(baseline: JsonNumber, candidate: JsonNumber, rule: MetricRule): NumberComparison {
  const bothIntegral = isIntegral(baseline) && isIntegral(candidate) && Number.isFinite(Number(baseline)) && Number.isFinite(Number(candidate));
  if (bothIntegral && BigInt(baseline) === BigInt(candidate)) return { status: 'identical', difference: 0 };
  const difference = bothIntegral ? Number(BigInt(candidate) - BigInt(baseline)) : Number(candidate) - Number(baseline);
  const diff = Number.isFinite(difference) ? difference : null;
  if (rule.mode === 'ignore') return { status: 'equivalent', difference: diff, message: 'ignored by the policy' };
  if (Number.isNaN(Number(baseline)) || Number.isNaN(Number(candidate))) return { status: 'different', difference: diff, message: 'one side is NaN' };
  if (rule.mode === 'allclose' && diff !== null && Math.abs(diff) <= rule.atol + rule.rtol * Math.abs(Number(baseline))) {
    return { status: 'equivalent', difference: diff, message: 'within tolerance' };
  }
  if (rule.greater_is_better !== undefined && diff !== null && Number.isFinite(Number(candidate))) {
    if (rule.greater_is_better ? diff > 0 : diff < 0) return { status: 'equivalent', difference: diff, message: 'better than the baseline' };
  }
  return { status: 'different', difference: diff, message: rule.mode === 'bitwise' ? 'differs (bitwise)' : `beyond tolerance (atol ${rule.atol}, rtol ${rule.rtol})` };
}

export interface MetricCounts {
  /** Values judged (leaves of both documents, and lists judged by their last or best value). */
  compared: number;
  identical: number;
  equivalent: number;
  different: number;
  missing: number;
  extra: number;
  /** Values on one side only, or that differ, under a rule with mode ignore. */
  ignored: number;
}

export interface JsonComparison {
  status: ItemStatus;
  /** The first non-identical items, at most maxListed of them. */
  listed: MetricDiff[];
  counts: MetricCounts;
  /** Counts in words, and how many were listed. */
  message?: string;
  /** Keys dropped as volatile ('metadata.json: date_saved'), with how often. */
  dropped: Map<string, number>;
}

export interface JsonCompareOptions {
  /** Non-identical items listed; the counts cover them all (default 200). */
  maxListed?: number;
  /** Keys to leave out, by their parent path (volatile parts of a format: a save time, Python object ids). */
  dropKey?: (parent: MetricPath, key: string) => boolean;
}

export const MAX_LISTED_METRICS = 200;

/** A number as the report shows it: an integer within 2^53 as a number, beyond it as its digits. */
export function shownNumber(value: JsonNumber): number | string {
  if (typeof value !== 'bigint') return value;
  return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value.toString();
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** How a value of one side is shown in the report: scalars as they are, containers summarised. */
export function reportValue(value: JsonValue): unknown {
  if (typeof value === 'bigint') return shownNumber(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value instanceof Map) return `an object with ${value.size} key${value.size === 1 ? '' : 's'}`;
  return value;
}

const DESCRIBE_KIND: Record<string, string> = { object: 'an object', array: 'a list', string: 'a string', number: 'a number', boolean: 'a boolean', null: 'null' };

class Walk {
  readonly counts: MetricCounts = { compared: 0, identical: 0, equivalent: 0, different: 0, missing: 0, extra: 0, ignored: 0 };
  readonly listed: MetricDiff[] = [];
  /** Volatile keys dropped, per side: a key counts as many places as the side with more of them. */
  private readonly droppedBySide = [new Map<string, number>(), new Map<string, number>()] as const;
  private readonly path: Array<string | number> = [];
  private readonly maxListed: number;

  constructor(
    private readonly rules: MetricRules,
    private readonly options: JsonCompareOptions,
  ) {
    this.maxListed = options.maxListed ?? MAX_LISTED_METRICS;
  }

  get dropped(): Map<string, number> {
    const [a, b] = this.droppedBySide;
    return new Map([...new Set([...a.keys(), ...b.keys()])].map((key) => [key, Math.max(a.get(key) ?? 0, b.get(key) ?? 0)]));
  }

  private record(status: Exclude<MetricDiff['status'], 'error'> | 'ignored', baseline: unknown, candidate: unknown, difference: number | null, rule: MetricRule | null, message?: string, at?: readonly (string | number)[]): void {
    this.counts.compared++;
    this.counts[status]++;
    if (status === 'identical' || this.listed.length >= this.maxListed) return;
    const key = formatMetricPath(at ?? this.path);
    this.listed.push({ key, status: status === 'ignored' ? 'equivalent' : status, baseline, candidate, difference, tolerance: rule, ...(message ? { message } : {}) });
  }

  /** A value one side lacks: each of its leaves, missing or extra, unless the policy ignores it. */
  private oneSided(cursor: JsonCursor, side: 'missing' | 'extra'): void {
    const base = [...this.path];
    cursor.skipValue((below, value) => {
      const at = [...base, ...below];
      const rule = this.rules.rule(at);
      const shown = reportValue(value);
      if (rule.mode === 'ignore') this.record('ignored', side === 'missing' ? shown : null, side === 'extra' ? shown : null, null, rule, `${side === 'missing' ? 'missing from the candidate' : 'only in the candidate'}; ignored by the policy`, at);
      else this.record(side, side === 'missing' ? shown : null, side === 'extra' ? shown : null, null, null, side === 'missing' ? 'missing from the candidate' : 'only in the candidate', at);
    });
  }

  value(a: JsonCursor, b: JsonCursor, rule?: MetricRule): void {
    const ka = a.kind();
    const kb = b.kind();
    if (ka !== kb) {
      const va = ka === 'object' || ka === 'array' ? (a.skipValue(), DESCRIBE_KIND[ka]) : reportValue(a.readValue());
      const vb = kb === 'object' || kb === 'array' ? (b.skipValue(), DESCRIBE_KIND[kb]) : reportValue(b.readValue());
      this.typeChanged(va, vb, DESCRIBE_KIND[ka] as string, DESCRIBE_KIND[kb] as string, rule);
      return;
    }
    // A container's own keys resolve their rules; a rule handed down is for scalars.
    if (ka === 'object') return this.object(a, b);
    if (ka === 'array') return this.array(a, b);
    const resolved = rule ?? this.rules.rule(this.path);
    if (ka === 'number') {
      const x = a.readNumber();
      const y = b.readNumber();
      // An int and a float are two types, as in Python: 1 is not 1.0.
      if (typeof x === 'bigint' && typeof y !== 'bigint') return this.typeChanged(shownNumber(x), y, 'an integer', 'a float', resolved);
      if (typeof x !== 'bigint' && typeof y === 'bigint') return this.typeChanged(x, shownNumber(y), 'a float', 'an integer', resolved);
      const result = compareNumbers(x, y, resolved);
      this.record(result.status, shownNumber(x), shownNumber(y), result.difference, resolved, result.status === 'identical' ? undefined : result.message);
      return;
    }
    const x = a.readValue();
    const y = b.readValue();
    if (x === y) this.record('identical', x, y, null, null);
    else if (resolved.mode === 'ignore') this.record('ignored', x, y, null, resolved, 'ignored by the policy');
    else this.record('different', x, y, null, null);
  }

  /** A value whose type differs on the two sides: a difference, unless the policy ignores the key. */
  private typeChanged(shownA: unknown, shownB: unknown, typeA: string, typeB: string, rule?: MetricRule): void {
    const resolved = rule ?? this.rules.rule(this.path);
    const message = `type changed: ${typeA} in the baseline, ${typeB} in the candidate`;
    this.record(resolved.mode === 'ignore' ? 'ignored' : 'different', shownA, shownB, null, null, resolved.mode === 'ignore' ? `${message}; ignored by the policy` : message);
  }

  private object(a: JsonCursor, b: JsonCursor): void {
    a.enterObject();
    b.enterObject();
    const parent = [...this.path];
    const drop = this.options.dropKey;
    const next = (cursor: JsonCursor): string | null => {
      const tally = this.droppedBySide[cursor === a ? 0 : 1];
      for (;;) {
        const key = cursor.nextKey();
        if (key === null || drop === undefined || !drop(parent, key)) return key;
        tally.set(key, (tally.get(key) ?? 0) + 1);
        cursor.skipValue();
      }
    };
    let ka = next(a);
    let kb = next(b);
    // The keys compared as they came: a key that comes again later would replace what was
    // judged (Python keeps the last of a repeated key), so the walk must start over (RepeatedKeyError).
    const judged = new Set<string>();
    const repeated = (key: string): never => {
      throw new RepeatedKeyError(parent, key);
    };
    // The same keys in the same order: compare as they come, holding only the keys.
    while (ka !== null && kb !== null && ka === kb) {
      if (judged.has(ka)) repeated(ka);
      judged.add(ka);
      this.path.push(ka);
      this.value(a, b);
      this.path.pop();
      ka = next(a);
      kb = next(b);
    }
    if (ka === null && kb === null) return;
    // Keys diverge: the rest of both objects is read whole and matched by key (the last of a
    // key repeated in the rest counts, as in Python).
    const rest = (cursor: JsonCursor, first: string | null): Map<string, JsonValue> => {
      const out = new Map<string, JsonValue>();
      for (let key = first; key !== null; key = next(cursor)) {
        if (judged.has(key)) repeated(key);
        const value = cursor.readValue();
        out.delete(key);
        out.set(key, value);
      }
      return out;
    };
    const ra = rest(a, ka);
    const rb = rest(b, kb);
    for (const [key, value] of ra) {
      this.path.push(key);
      const other = rb.get(key);
      if (other === undefined) this.oneSided(valueCursor(value), 'missing');
      else this.value(valueCursor(value), valueCursor(other));
      this.path.pop();
    }
    for (const [key, value] of rb) {
      if (ra.has(key)) continue;
      this.path.push(key);
      this.oneSided(valueCursor(value), 'extra');
      this.path.pop();
    }
  }

  private array(a: JsonCursor, b: JsonCursor): void {
    const own = this.rules.rule(this.path);
    if (own.at !== undefined) return this.judgedList(a, b, own as MetricRule & { at: 'last' | 'best' });
    this.elements(a, b);
  }

  /** Two lists element by element (any `at` of the list's rule already dealt with). */
  private elements(a: JsonCursor, b: JsonCursor): void {
    a.enterArray();
    b.enterArray();
    const ruleOf = this.rules.elementRules(this.path);
    let index = 0;
    let moreA = a.nextElement();
    let moreB = b.nextElement();
    while (moreA && moreB) {
      this.path.push(index);
      // Scalars take their rule from the list's (resolved once); containers resolve their own keys.
      this.value(a, b, ruleOf(index));
      this.path.pop();
      index++;
      moreA = a.nextElement();
      moreB = b.nextElement();
    }
    for (const [cursor, more, side] of [
      [a, moreA, 'missing'],
      [b, moreB, 'extra'],
    ] as const) {
      let has = more;
      let i = index;
      while (has) {
        this.path.push(i++);
        this.oneSided(cursor, side);
        this.path.pop();
        has = cursor.nextElement();
      }
    }
  }

  /**
   * A list of numbers judged by one value, as the rule says: the last, or the best (by
   * greater_is_better). Every value is still checked for identity: a list whose other values moved
   * is never identical, only equivalent at best.
   */
  private judgedList(a: JsonCursor, b: JsonCursor, rule: MetricRule & { at: 'last' | 'best' }): void {
    const read = (cursor: JsonCursor): JsonValue[] => {
      const value = cursor.readValue();
      return Array.isArray(value) ? value : [];
    };
    const la = read(a);
    const lb = read(b);
    const numeric = (list: JsonValue[]) => list.length > 0 && list.every((v) => typeof v === 'number' || typeof v === 'bigint');
    if (!numeric(la) || !numeric(lb)) {
      // Not a list of numbers (empty, mixed, nested): every value is judged, as without `at`.
      this.elements(valueCursor(la), valueCursor(lb));
      return;
    }
    const pick = (list: JsonValue[]): number => {
      if (rule.at === 'last') return list.length - 1;
      let best = 0;
      for (let i = 1; i < list.length; i++) {
        const v = Number(list[i]);
        const w = Number(list[best]);
        if (Number.isNaN(w) || (rule.greater_is_better ? v > w : v < w)) best = i;
      }
      return best;
    };
    const ia = pick(la);
    const ib = pick(lb);
    const x = la[ia] as JsonNumber;
    const y = lb[ib] as JsonNumber;
    const intA = typeof x === 'bigint';
    const result: NumberComparison = intA !== (typeof y === 'bigint') ? { status: rule.mode === 'ignore' ? 'equivalent' : 'different', difference: null, message: `type changed: ${intA ? 'an integer' : 'a float'} in the baseline, ${intA ? 'a float' : 'an integer'} in the candidate` } : compareNumbers(x, y, rule);
    // The same list: the same type and bits in every place; with nan_equal off a NaN never equals anything.
    const same = (v: JsonValue, w: JsonValue) => (typeof v === 'bigint' || typeof w === 'bigint' ? v === w : Object.is(v, w) && (rule.nan_equal || !Number.isNaN(v)));
    const sameList = la.length === lb.length && la.every((v, i) => same(v, lb[i] as JsonValue));
    const where = rule.at === 'last' ? `the last of ${la.length === lb.length ? la.length : `${la.length} vs ${lb.length}`} values` : `the best of ${la.length === lb.length ? la.length : `${la.length} vs ${lb.length}`} values (baseline index ${ia}, candidate index ${ib})`;
    let status: NumberComparison['status'] = result.status;
    const notes = [`judged ${where}`];
    if (result.message && result.status !== 'identical') notes.push(result.message);
    if (status === 'identical' && !sameList) {
      status = 'equivalent';
      notes.push(la.length !== lb.length ? 'the lists differ in length' : !rule.nan_equal && [...la, ...lb].some((v) => typeof v === 'number' && Number.isNaN(v)) ? 'the list holds a NaN, which never equals anything with nan_equal off' : 'other values differ; the policy judges one');
    }
    this.record(status, shownNumber(x), shownNumber(y), result.difference, rule, notes.join('; '));
  }
}

function statusOf(counts: MetricCounts): ItemStatus {
  if (counts.different > 0 || counts.missing > 0) return 'different';
  if (counts.equivalent > 0 || counts.extra > 0 || counts.ignored > 0) return 'equivalent';
  return 'identical';
}

function countsMessage(counts: MetricCounts, listed: number): string | undefined {
  const parts: string[] = [];
  const of = `of ${counts.compared} value${counts.compared === 1 ? '' : 's'}`;
  if (counts.different > 0) parts.push(`${counts.different} ${of} differ beyond tolerance`);
  if (counts.missing > 0) parts.push(`${counts.missing} missing from the candidate`);
  if (counts.extra > 0) parts.push(`${counts.extra} only in the candidate`);
  if (counts.equivalent > 0) parts.push(`${counts.equivalent} within tolerance or better`);
  if (counts.ignored > 0) parts.push(`${counts.ignored} ignored by the policy`);
  const notIdentical = counts.compared - counts.identical;
  if (notIdentical > listed) parts.push(`first ${listed} of ${notIdentical} listed`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/**
 * A key that comes again in an object after the walk judged it: Python keeps the last of a
 * repeated key, so what was judged may not be what json.load sees. compareJsonDocuments starts over.
 */
export class RepeatedKeyError extends Error {
  constructor(
    readonly parent: MetricPath,
    readonly key: string,
  ) {
    super(`the key ${JSON.stringify(key)} repeats in the object at ${parent.length === 0 ? 'the top level' : formatMetricPath(parent)}`);
  }
}

/**
 * Walks two documents in lockstep and judges every value; syntax errors throw (JsonSyntaxError),
 * and so does a key repeated in an object after it was judged (RepeatedKeyError): use
 * compareJsonDocuments for documents that may hold one.
 */
export function compareJsonCursors(a: JsonCursor, b: JsonCursor, rules: MetricRules, options: JsonCompareOptions = {}): JsonComparison {
  const walk = new Walk(rules, options);
  walk.value(a, b);
  a.finish();
  b.finish();
  const message = countsMessage(walk.counts, walk.listed.length);
  return { status: statusOf(walk.counts), listed: walk.listed, counts: walk.counts, ...(message ? { message } : {}), dropped: walk.dropped };
}

/** Two values already read whole (tests, small documents). */
export function compareJsonValues(a: JsonValue, b: JsonValue, rules: MetricRules, options: JsonCompareOptions = {}): JsonComparison {
  return compareJsonCursors(valueCursor(a), valueCursor(b), rules, options);
}

/** Both documents, opened afresh each time it is called (a second pass reads them again from the start). */
export type OpenJsonPair = () => readonly [JsonCursor, JsonCursor];

/**
 * Two documents as json.load sees them. They are walked in lockstep, streamed; when a key repeats
 * in an object (rare: JSON written by hand or by a buggy writer) they are read again, whole, with
 * the last of each repeated key, as Python keeps it, and compared from there. Only that case holds
 * the documents in memory, as json.load itself does.
 */
export function compareJsonDocuments(open: OpenJsonPair, rules: MetricRules, options: JsonCompareOptions = {}): JsonComparison {
  let repeated: RepeatedKeyError;
  try {
    const [a, b] = open();
    return compareJsonCursors(a, b, rules, options);
  } catch (error) {
    if (!(error instanceof RepeatedKeyError)) throw error;
    repeated = error;
  }
  const [a, b] = open();
  const va = a.readValue();
  a.finish();
  const vb = b.readValue();
  b.finish();
  const result = compareJsonValues(va, vb, rules, options);
  const note = `${repeated.message}: read whole, the last of a repeated key counts (as in json.load)`;
  return { ...result, message: result.message ? `${result.message}; ${note}` : note };
}
