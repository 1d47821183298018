// Tolerance policy: a default, rules matched by glob on the output path (first match wins), and
// per-key rules for metrics. Pure: the adapter parses and schema-checks the YAML, this resolves it.
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
}

export interface PolicyDocument {
  version: 1;
  description?: string;
  default?: PolicyTolerance;
  rules?: Array<PolicyTolerance & { match: string; metrics?: Record<string, PolicyMetricRule> }>;
  metrics?: Record<string, PolicyMetricRule>;
}

/** numpy.isclose's defaults, used when a rule says allclose without numbers. */
export const ALLCLOSE_DEFAULTS = { rtol: 1e-5, atol: 1e-8 } as const;

export interface ResolvedOutputPolicy {
  tolerance: Tolerance;
  /** Which rule decided, for the report: "default" or "rules[2] (**\/*.npy)". */
  source: string;
  metricRule(key: string): MetricRule;
}

export interface Policy {
  forOutput(path: string): ResolvedOutputPolicy;
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

/**
 * A metric rule key matches a dotted key when it is the key itself, a prefix of it on a segment
 * boundary ("loss" matches "loss.3"), the same name at any depth ("val_accuracy" matches
 * "history.val_accuracy.4"), or a glob over the dotted key ("*.loss").
 */
export function metricKeyMatches(ruleKey: string, key: string): boolean {
  return metricKeyMatcher(ruleKey)(key);
}

/** Compiles a rule key once; the matcher runs for every key of every metrics file. */
function metricKeyMatcher(ruleKey: string): (key: string) => boolean {
  if (ruleKey.includes('*') || ruleKey.includes('?')) {
    const isMatch = picomatch(ruleKey.split('.').join('/'), { dot: true });
    // A glob may also name a prefix of the key: "*.loss" covers "history.loss.3".
    return (key) => {
      const segments = key.split('.');
      for (let end = segments.length; end > 0; end--) if (isMatch(segments.slice(0, end).join('/'))) return true;
      return false;
    };
  }
  const needle = `.${ruleKey}.`;
  return (key) => `.${key}.`.includes(needle);
}

type MetricRules = Array<{ ruleKey: string; rule: PolicyMetricRule; matches: (key: string) => boolean }>;

function compileMetricRules(rules: Record<string, PolicyMetricRule> | undefined): MetricRules {
  return Object.entries(rules ?? {}).map(([ruleKey, rule]) => ({ ruleKey, rule, matches: metricKeyMatcher(ruleKey) }));
}

function metricRuleIn(rules: MetricRules, key: string): PolicyMetricRule | undefined {
  // The most specific matching rule wins: the longest rule key.
  let best: MetricRules[number] | undefined;
  for (const candidate of rules) {
    if (candidate.matches(key) && (best === undefined || candidate.ruleKey.length > best.ruleKey.length)) best = candidate;
  }
  return best?.rule;
}

export function buildPolicy(document: PolicyDocument | null): Policy {
  const fallback = completeTolerance(document?.default, BITWISE);
  const rules = (document?.rules ?? []).map((rule, index) => ({
    rule,
    index,
    isMatch: picomatch(rule.match, { dot: true, matchBase: !rule.match.includes('/') }),
    metrics: compileMetricRules(rule.metrics),
  }));
  const topMetrics = compileMetricRules(document?.metrics);
  return {
    forOutput(path: string): ResolvedOutputPolicy {
      const hit = rules.find((r) => r.isMatch(path));
      const tolerance = hit ? completeTolerance(hit.rule, fallback) : fallback;
      return {
        tolerance,
        source: hit ? `rules[${hit.index}] (${hit.rule.match})` : 'default',
        metricRule(key: string): MetricRule {
          const specific = (hit ? metricRuleIn(hit.metrics, key) : undefined) ?? metricRuleIn(topMetrics, key);
          if (!specific) return tolerance;
          const completed = completeTolerance(specific, tolerance);
          return specific.greater_is_better === undefined ? completed : { ...completed, greater_is_better: specific.greater_is_better };
        },
      };
    },
  };
}
