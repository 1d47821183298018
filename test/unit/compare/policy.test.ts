import { describe, expect, it } from '@jest/globals';
import { ALLCLOSE_DEFAULTS, buildPolicy, completeTolerance, metricKeyMatches } from '../../../src/core/compare/policy.js';
import { BITWISE } from '../../../src/core/compare/model.js';
import { combineStatuses, formatOf, summarize, verdictOf } from '../../../src/core/compare/verdict.js';

describe('tolerance policy', () => {
  it('is bitwise everywhere without a policy', () => {
    const policy = buildPolicy(null);
    expect(policy.forOutput('preds.npy').tolerance).toEqual(BITWISE);
    expect(policy.forOutput('metrics.json').metricRule('loss.0')).toEqual(BITWISE);
    expect(policy.forOutput('x').source).toBe('default');
  });

  it('fills tolerances: numbers alone mean allclose, allclose alone takes numpy defaults', () => {
    expect(completeTolerance({ atol: 1e-6 }, BITWISE)).toEqual({ mode: 'allclose', rtol: ALLCLOSE_DEFAULTS.rtol, atol: 1e-6, nan_equal: true });
    expect(completeTolerance({ mode: 'allclose' }, BITWISE)).toEqual({ mode: 'allclose', ...ALLCLOSE_DEFAULTS, nan_equal: true });
    const base = { mode: 'allclose' as const, rtol: 0.1, atol: 0.2, nan_equal: false };
    expect(completeTolerance({ atol: 0.5 }, base)).toEqual({ mode: 'allclose', rtol: 0.1, atol: 0.5, nan_equal: false });
    expect(completeTolerance({ mode: 'ignore' }, base).mode).toBe('ignore');
  });

  it('matches rules by glob, first match wins, and a bare name matches at any depth', () => {
    const policy = buildPolicy({
      version: 1,
      default: { mode: 'allclose', rtol: 1e-3, atol: 1e-4 },
      rules: [
        { match: 'logs/**', mode: 'ignore' },
        { match: '**/predictions*.npy', atol: 1e-2 },
        { match: '*.npy', mode: 'bitwise' },
      ],
    });
    expect(policy.forOutput('logs/train.log').tolerance.mode).toBe('ignore');
    expect(policy.forOutput('eval/predictions-test.npy').tolerance).toMatchObject({ mode: 'allclose', atol: 1e-2, rtol: 1e-3 });
    expect(policy.forOutput('predictions.npy').source).toBe('rules[1] (**/predictions*.npy)');
    expect(policy.forOutput('deep/dir/other.npy').tolerance.mode).toBe('bitwise');
    expect(policy.forOutput('model.keras').tolerance).toMatchObject({ mode: 'allclose', rtol: 1e-3, atol: 1e-4 });
    expect(policy.forOutput('.hidden/a.npy').tolerance.mode).toBe('bitwise');
  });

  it('matches metric keys on segment boundaries, at any depth, or by glob; the most specific wins', () => {
    expect(metricKeyMatches('loss', 'loss')).toBe(true);
    expect(metricKeyMatches('loss', 'loss.3')).toBe(true);
    expect(metricKeyMatches('loss', 'history.loss.3')).toBe(true);
    expect(metricKeyMatches('loss', 'val_loss.3')).toBe(false);
    expect(metricKeyMatches('loss', 'lossy.0')).toBe(false);
    expect(metricKeyMatches('*.loss', 'history.loss.3')).toBe(true);
    expect(metricKeyMatches('val_*', 'val_accuracy.1')).toBe(true);
    expect(metricKeyMatches('val_*', 'accuracy.1')).toBe(false);

    const policy = buildPolicy({
      version: 1,
      metrics: { accuracy: { atol: 0.01, greater_is_better: true }, 'val_*': { atol: 0.05 } },
      rules: [{ match: 'metrics.json', metrics: { val_accuracy: { atol: 0.02 } } }],
    });
    const rules = policy.forOutput('metrics.json');
    expect(rules.metricRule('accuracy.4')).toEqual({ mode: 'allclose', rtol: ALLCLOSE_DEFAULTS.rtol, atol: 0.01, nan_equal: true, greater_is_better: true });
    // The output rule's own metrics win over the top-level ones.
    expect(rules.metricRule('val_accuracy.4')).toMatchObject({ atol: 0.02 });
    expect(rules.metricRule('val_loss.0')).toMatchObject({ atol: 0.05 });
    expect(rules.metricRule('epoch')).toEqual(BITWISE);
    // Another output only sees the top-level metric rules.
    expect(policy.forOutput('other.json').metricRule('val_accuracy.0')).toMatchObject({ atol: 0.05 });
  });
});

describe('verdict', () => {
  it('counts statuses and folds them: different > error > equivalent > identical', () => {
    expect(verdictOf(summarize(['identical', 'identical']))).toBe('identical');
    expect(verdictOf(summarize(['identical', 'equivalent', 'extra', 'ignored']))).toBe('equivalent');
    expect(verdictOf(summarize(['identical', 'error']))).toBe('error');
    expect(verdictOf(summarize(['error', 'different']))).toBe('different');
    expect(verdictOf(summarize(['identical', 'missing']))).toBe('different');
    expect(verdictOf(summarize([]))).toBe('error');
    expect(verdictOf(summarize(['extra', 'ignored']))).toBe('error');
    expect(summarize(['identical', 'missing', 'missing'])).toEqual({ outputs: 3, identical: 1, equivalent: 0, different: 0, missing: 2, extra: 0, error: 0, ignored: 0 });
  });

  it('combines the parts of one output', () => {
    expect(combineStatuses(['identical', 'identical'])).toBe('identical');
    expect(combineStatuses(['identical', 'extra'])).toBe('equivalent');
    expect(combineStatuses(['identical', 'equivalent'])).toBe('equivalent');
    expect(combineStatuses(['equivalent', 'error'])).toBe('error');
    expect(combineStatuses(['error', 'missing'])).toBe('different');
  });

  it('picks the reader from the file name', () => {
    expect(['m.json', 'h.csv', 'p.npy', 'a.npz', 'w.weights.h5', 'x.hdf5', 'm.keras', 'notes.txt'].map(formatOf)).toEqual(['json', 'csv', 'npy', 'npz', 'h5', 'h5', 'keras', 'bytes']);
  });
});
