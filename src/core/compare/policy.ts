// Tolerance policy: a default, rules matched by glob on the output path (first match wins), and
// per-key rules for metrics and per-name rules for tensors. Pure: the adapter parses and
// schema-checks the YAML, this resolves it.
//
// Metric keys are paths of segments (object keys and list indices). In a policy a key is written
// dotted, with '\.' for a dot inside a segment ('\\' for a backslash); '/' is an ordinary character
// in a segment (TensorBoard's "train/loss" is one segment). '*' and '?' match within one segment,
// a segment '**' matches any number of segments; every other character is literal ("loss[1]"). A
// rule key of one segment matches that segment at any depth ("loss" covers history.loss.3, "val_*"
// covers history.val_loss.1, "*loss" covers train/loss); a dotted one matches consecutive segments
// anywhere ("history.loss"). A rule covers everything under what it matches; the longest matching
// rule key wins.
import picomatch from 'picomatch';
import { BITWISE, type MetricRule, type Tolerance } from './model.js';

export interface PolicyTolerance {
  mode?: Tolerance['mode'];
  rtol?: number;
  atol?: number;
  nan_equal?: boolean;
}

export interface PolicyMetricRule extends PolicyTolerance {
  greater_is_better?: boolean;
  /** Which values of a list of numbers are judged: all (default), the last, or the best (needs greater_is_better). */
  at?: 'all' | 'last' | 'best';
}

export interface PolicyDocument {
  version: 1;
  description?: string;
  default?: PolicyTolerance;
  rules?: Array<PolicyTolerance & { match: string; metrics?: Record<string, PolicyMetricRule>; tensors?: Record<string, PolicyTolerance> }>;
  metrics?: Record<string, PolicyMetricRule>;
  tensors?: Record<string, PolicyTolerance>;
}

/** numpy.isclose's defaults, used when a rule says allclose without numbers. */
export const ALLCLOSE_DEFAULTS = { rtol: 1e-5, atol: 1e-8 } as const;

export type MetricPath = readonly (string | number)[];

/** Metric rules for one output, as the comparator asks for them. */
export interface MetricRules {
  rule(path: MetricPath): MetricRule;
  /** The rules of the elements of the list at `parent`, resolved once for the whole list where they cannot differ. */
  elementRules(parent: MetricPath): (index: number) => MetricRule;
}

export interface ResolvedOutputPolicy {
  tolerance: Tolerance;
  /** Which rule decided, for the report: "default" or "rules[2] (**\/*.npy)". */
  source: string;
  /** Metric rules falling back to the output's tolerance. */
  metrics: MetricRules;
  /** Metric rules falling back to exact comparison: a model's configuration is compared exactly unless a rule says otherwise. */
  exactMetrics: MetricRules;
  /** The tolerance of one tensor (an array in an .npz, a dataset, a weight), by its name. */
  tensorTolerance(name: string): Tolerance;
  /** Some rule of this output makes a NaN fail even against itself, so byte-equal files must still be read. */
  nanStrict: boolean;
  /**
   * Whether some metric or tensor rule that could apply to this output has matched nothing yet: a
   * reader that skips a byte-identical output must then still walk its keys or tensors, or the rule
   * is reported as matching nothing when it does match.
   */
  pendingRules(): boolean;
}

export interface Policy {
  forOutput(path: string): ResolvedOutputPolicy;
  /** Rules that matched nothing so far (typos, renamed outputs), named as written. */
  unusedRules(): string[];
}

/**
 * Fills a partial tolerance over a base. Giving rtol or atol without a mode means allclose; a
 * mode of allclose without numbers takes numpy's defaults.
 */
export function completeTolerance(partial: PolicyTolerance | undefined, base: Tolerance): Tolerance {
  if (!partial) return base;
  const mode = partial.mode ?? (partial.rtol !== undefined || partial.atol !== undefined ? 'allclose' : base.mode);
  const fromBase = base.mode === 'allclose';
  return {
    mode,
    rtol: partial.rtol ?? (fromBase ? base.rtol : mode === 'allclose' ? ALLCLOSE_DEFAULTS.rtol : 0),
    atol: partial.atol ?? (fromBase ? base.atol : mode === 'allclose' ? ALLCLOSE_DEFAULTS.atol : 0),
    nan_equal: partial.nan_equal ?? base.nan_equal,
  };
}

/** A policy key's segments: split on unescaped dots, '\.' and '\\' unescaped. */
export function parseMetricKey(key: string): string[] {
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < key.length; i++) {
    const c = key[i] as string;
    if (c === '\\' && i + 1 < key.length) {
      current += key[++i];
    } else if (c === '.') {
      segments.push(current);
      current = '';
    } else current += c;
  }
  segments.push(current);
  return segments;
}

/** A path written as policies write keys: dotted, with '.' and '\' escaped inside segments. */
export function formatMetricPath(path: MetricPath): string {
  return path.map((s) => (typeof s === 'number' ? String(s) : s.replace(/\\/g, '\\\\').replace(/\./g, '\\.'))).join('.');
}

// Inside a segment only '*' (any run of characters) and '?' (one character) are wildcards; every
// other character is itself ('[', '{', '(', '!', '+', '@' and '/' included: metric keys such as
// "loss[1]" or "train/loss" are common, and a glob's classes and alternatives would silently
// make them match other keys, or not their own).
const hasGlob = (segment: string) => /[*?]/.test(segment);

type SegmentMatcher = '**' | ((segment: string) => boolean);

function segmentMatcher(pattern: string): SegmentMatcher {
  if (pattern === '**') return '**';
  if (!hasGlob(pattern)) return (segment) => segment === pattern;
  const source = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'))).join('');
  const re = new RegExp(`^${source}$`, 'su');
  return (segment) => re.test(segment);
}

/** Whether matchers match path[start..end) for some end (the run may stop before the path does). */
function matchRun(matchers: readonly SegmentMatcher[], m: number, path: readonly string[], p: number): boolean {
  if (m === matchers.length) return true;
  const matcher = matchers[m] as SegmentMatcher;
  if (matcher === '**') {
    for (let q = p; q <= path.length; q++) if (matchRun(matchers, m + 1, path, q)) return true;
    return false;
  }
  return p < path.length && matcher(path[p] as string) && matchRun(matchers, m + 1, path, p + 1);
}

interface CompiledKeyRule<R> {
  /** The key as written. */
  key: string;
  /** Where it is written in the policy, for warnings: "metrics.val_acc". */
  name: string;
  length: number;
  rule: R;
  matchers: SegmentMatcher[];
  /** Whether an element of a list can match where its list does not (the last segment that is not '**' is a digit or a glob). */
  indexSensitive: boolean;
  used: boolean;
}

function compileKeyRules<R>(rules: Record<string, R> | undefined, where: string): Array<CompiledKeyRule<R>> {
  return Object.entries(rules ?? {}).map(([key, rule]) => {
    const segments = parseMetricKey(key);
    // A trailing '**' can match no segment at all: "x.1.**" covers x.1 itself, so what decides is
    // the last segment before it.
    const last = [...segments].reverse().find((segment) => segment !== '**');
    return { key, name: `${where}${key}`, length: key.length, rule, matchers: segments.map(segmentMatcher), indexSensitive: last !== undefined && (/^\d+$/.test(last) || hasGlob(last)), used: false };
  });
}

/** True when the key rule matches a run of the path's segments anywhere (so it covers what is under it). */
export function keyRuleMatches(key: string, path: MetricPath): boolean {
  const matchers = parseMetricKey(key).map(segmentMatcher);
  const segments = path.map(String);
  for (let start = 0; start <= segments.length; start++) if (matchRun(matchers, 0, segments, start)) return true;
  return false;
}

function matchesPath(rule: CompiledKeyRule<unknown>, segments: readonly string[]): boolean {
  for (let start = 0; start < Math.max(1, segments.length); start++) if (matchRun(rule.matchers, 0, segments, start)) return true;
  return false;
}

/**
 * The longest matching key rule of the first group that has one (an output's own rules, then the
 * policy's). Every rule that matches is marked used, shadowed or not: "matched nothing" means it.
 */
function bestKeyRule<R>(groups: ReadonlyArray<ReadonlyArray<CompiledKeyRule<R>>>, matches: (rule: CompiledKeyRule<R>) => boolean): CompiledKeyRule<R> | undefined {
  let chosen: CompiledKeyRule<R> | undefined;
  for (const group of groups) {
    let best: CompiledKeyRule<R> | undefined;
    for (const candidate of group) {
      if (!matches(candidate)) continue;
      candidate.used = true;
      if (best === undefined || candidate.length > best.length) best = candidate;
    }
    chosen ??= best;
  }
  return chosen;
}

function completeMetricRule(specific: PolicyMetricRule, base: Tolerance): MetricRule {
  const completed: MetricRule = completeTolerance(specific, base);
  if (specific.greater_is_better !== undefined) completed.greater_is_better = specific.greater_is_better;
  if (specific.at !== undefined && specific.at !== 'all') completed.at = specific.at;
  return completed;
}

function metricRules(groups: ReadonlyArray<ReadonlyArray<CompiledKeyRule<PolicyMetricRule>>>, fallback: Tolerance): MetricRules {
  const resolve = (segments: readonly string[]): MetricRule => {
    const hit = bestKeyRule(groups, (rule) => matchesPath(rule, segments));
    return hit ? completeMetricRule(hit.rule, fallback) : fallback;
  };
  return {
    rule: (path) => resolve(path.map(String)),
    elementRules(parent) {
      const segments = [...parent.map(String), '0'];
      const sensitive = groups.some((group) => group.some((r) => r.indexSensitive));
      if (!sensitive) {
        // No rule can tell one element from another: one answer for the whole list.
        const shared = resolve(segments);
        return () => shared;
      }
      return (index) => {
        segments[segments.length - 1] = String(index);
        return resolve(segments);
      };
    },
  };
}

export function buildPolicy(document: PolicyDocument | null): Policy {
  const fallback = completeTolerance(document?.default, BITWISE);
  const rules = (document?.rules ?? []).map((rule, index) => ({
    rule,
    index,
    isMatch: picomatch(rule.match, { dot: true, matchBase: !rule.match.includes('/') }),
    metrics: compileKeyRules(rule.metrics, `rules[${index}].metrics.`),
    tensors: compileKeyRules(rule.tensors, `rules[${index}].tensors.`),
    used: false,
  }));
  const topMetrics = compileKeyRules(document?.metrics, 'metrics.');
  const topTensors = compileKeyRules(document?.tensors, 'tensors.');
  const tensorMatchers = new Map<CompiledKeyRule<PolicyTolerance>, (name: string) => boolean>();
  const tensorMatch = (rule: CompiledKeyRule<PolicyTolerance>, name: string): boolean => {
    let isMatch = tensorMatchers.get(rule);
    if (isMatch === undefined) {
      // Tensor names are '/'-separated paths (layers/dense/vars/0): plain globs over them.
      isMatch = picomatch(rule.key, { dot: true });
      tensorMatchers.set(rule, isMatch);
    }
    return isMatch(name);
  };
  const strictRule = (r: { nan_equal?: boolean }) => r.nan_equal === false;
  return {
    forOutput(path: string): ResolvedOutputPolicy {
      const hit = rules.find((r) => r.isMatch(path));
      if (hit) hit.used = true;
      const tolerance = hit ? completeTolerance(hit.rule, fallback) : fallback;
      const metricGroups = hit ? [hit.metrics, topMetrics] : [topMetrics];
      const tensorGroups = hit ? [hit.tensors, topTensors] : [topTensors];
      return {
        tolerance,
        source: hit ? `rules[${hit.index}] (${hit.rule.match})` : 'default',
        metrics: metricRules(metricGroups, tolerance),
        exactMetrics: metricRules(metricGroups, BITWISE),
        tensorTolerance(name: string): Tolerance {
          const best = bestKeyRule(tensorGroups, (rule) => tensorMatch(rule, name));
          return best ? completeTolerance(best.rule, tolerance) : tolerance;
        },
        nanStrict: !tolerance.nan_equal || [...metricGroups, ...tensorGroups].some((group) => group.some((r) => strictRule(r.rule))),
        pendingRules: () => [...metricGroups, ...tensorGroups].some((group) => group.some((r) => !r.used)),
      };
    },
    unusedRules(): string[] {
      const unused: string[] = [];
      for (const r of rules) {
        if (!r.used) unused.push(`rules[${r.index}] (match ${JSON.stringify(r.rule.match)}) matched no output`);
        else {
          for (const m of [...r.metrics, ...r.tensors]) if (!m.used) unused.push(`${m.name} matched nothing in the outputs of rules[${r.index}]`);
        }
      }
      for (const m of [...topMetrics, ...topTensors]) if (!m.used) unused.push(`${m.name} matched nothing`);
      return unused;
    },
  };
}
