import { describe, expect, it } from '@jest/globals';
import { ALLCLOSE_DEFAULTS, buildPolicy, completeTolerance, formatMetricPath, keyRuleMatches, parseMetricKey } from '../../../src/core/compare/policy.js';
import { BITWISE } from '../../../src/core/compare/model.js';
import { combineStatuses, formatOf, summarize, verdictOf } from '../../../src/core/compare/verdict.js';

describe('tolerance policy', () => {
  it('is bitwise everywhere without a policy', () => {
    const policy = buildPolicy(null);
    expect(policy.forOutput('preds.npy').tolerance).toEqual(BITWISE);
    expect(policy.forOutput('metrics.json').metrics.rule(['loss', 0])).toEqual(BITWISE);
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

  it('writes key paths dotted, with dots and backslashes escaped inside segments', () => {
    expect(parseMetricKey('history.val_loss.1')).toEqual(['history', 'val_loss', '1']);
    expect(parseMetricKey('a\\.b.c')).toEqual(['a.b', 'c']);
    expect(parseMetricKey('a\\\\.b')).toEqual(['a\\', 'b']);
    expect(formatMetricPath(['history', 'a.b', 3, 'x\\y'])).toBe('history.a\\.b.3.x\\\\y');
  });

  it('matches key paths: one segment at any depth, dotted runs anywhere, globs within a segment, ** across', () => {
    expect(keyRuleMatches('loss', ['loss'])).toBe(true);
    expect(keyRuleMatches('loss', ['loss', 3])).toBe(true);
    expect(keyRuleMatches('loss', ['history', 'loss', 3])).toBe(true);
    expect(keyRuleMatches('loss', ['val_loss', 3])).toBe(false);
    expect(keyRuleMatches('loss', ['lossy', 0])).toBe(false);
    expect(keyRuleMatches('val_*', ['history', 'val_loss', 1])).toBe(true);
    expect(keyRuleMatches('val_*', ['accuracy', 1])).toBe(false);
    expect(keyRuleMatches('*loss', ['train/loss'])).toBe(true);
    expect(keyRuleMatches('history.loss', ['run', 'history', 'loss', 2])).toBe(true);
    expect(keyRuleMatches('history.*', ['history', 'loss'])).toBe(true);
    expect(keyRuleMatches('a.**.z', ['a', 'b', 'c', 'z'])).toBe(true);
    expect(keyRuleMatches('a.*.z', ['a', 'b', 'c', 'z'])).toBe(false);
    expect(keyRuleMatches('a\\.b', ['a.b'])).toBe(true);
    expect(keyRuleMatches('a\\.b', ['a', 'b'])).toBe(false);
  });

  it('the longest matching rule key wins, and an output rule\'s own metrics before the policy\'s', () => {
    const policy = buildPolicy({
      version: 1,
      metrics: { accuracy: { atol: 0.01, greater_is_better: true }, 'val_*': { atol: 0.05 }, val_accuracy: { atol: 0.03, at: 'last' } },
      rules: [{ match: 'metrics.json', metrics: { val_accuracy: { atol: 0.02 } } }],
    });
    const rules = policy.forOutput('metrics.json').metrics;
    expect(rules.rule(['accuracy', 4])).toEqual({ mode: 'allclose', rtol: ALLCLOSE_DEFAULTS.rtol, atol: 0.01, nan_equal: true, greater_is_better: true });
    expect(rules.rule(['val_accuracy', 4])).toMatchObject({ atol: 0.02 });
    expect(rules.rule(['val_loss', 0])).toMatchObject({ atol: 0.05 });
    expect(rules.rule(['epoch'])).toEqual(BITWISE);
    const other = policy.forOutput('other.json').metrics;
    expect(other.rule(['val_accuracy'])).toMatchObject({ atol: 0.03, at: 'last' });
    // The rules of a list's elements, resolved once for the list.
    expect(other.elementRules(['history', 'val_loss'])(7)).toMatchObject({ atol: 0.05 });
  });

  it('an index in a rule key makes element rules differ by index', () => {
    const rules = buildPolicy({ version: 1, metrics: { 'loss.2': { mode: 'ignore' } } }).forOutput('m.json').metrics;
    const element = rules.elementRules(['loss']);
    expect(element(1).mode).toBe('bitwise');
    expect(element(2).mode).toBe('ignore');
  });

  it('a model config is exact unless a rule names its key', () => {
    const rules = buildPolicy({ version: 1, default: { atol: 0.5 }, metrics: { learning_rate: { rtol: 0.1 } } }).forOutput('m.keras');
    expect(rules.exactMetrics.rule(['config', 'units'])).toEqual(BITWISE);
    expect(rules.exactMetrics.rule(['compile_config', 'optimizer', 'config', 'learning_rate'])).toMatchObject({ mode: 'allclose', rtol: 0.1 });
    expect(rules.metrics.rule(['config', 'units'])).toMatchObject({ atol: 0.5 });
  });

  it('tensor rules by glob over tensor names, on top of the output tolerance', () => {
    const policy = buildPolicy({ version: 1, default: { atol: 1e-5 }, tensors: { 'optimizer/**': { atol: 1e-2 } }, rules: [{ match: 'legacy.h5', tensors: { 'optimizer_weights/**': { mode: 'ignore' } } }] });
    const keras = policy.forOutput('m.keras');
    expect(keras.tensorTolerance('optimizer/vars/3')).toMatchObject({ mode: 'allclose', atol: 1e-2 });
    expect(keras.tensorTolerance('layers/dense/vars/0')).toMatchObject({ atol: 1e-5 });
    expect(policy.forOutput('legacy.h5').tensorTolerance('optimizer_weights/Adam/iter')).toMatchObject({ mode: 'ignore' });
  });

  it('names the rules that matched nothing', () => {
    const policy = buildPolicy({ version: 1, rules: [{ match: 'nothing-here/**', mode: 'ignore' }, { match: '*.json', metrics: { val_acc: { atol: 1 } } }], metrics: { loss: { atol: 1 } }, tensors: { 'optimizer/**': { atol: 1 } } });
    const rules = policy.forOutput('metrics.json');
    rules.metrics.rule(['loss', 0]);
    expect(policy.unusedRules()).toEqual([
      'rules[0] (match "nothing-here/**") matched no output',
      'rules[1].metrics.val_acc matched nothing in the outputs of rules[1]',
      'tensors.optimizer/** matched nothing',
    ]);
  });

  it('a rule ending in ** applies to the list element it names, scalar or not', () => {
    const rules = buildPolicy({ version: 1, metrics: { 'x.1.**': { atol: 1 } } }).forOutput('m.json').metrics;
    const ruleOf = rules.elementRules(['x']);
    expect(ruleOf(0)).toEqual(BITWISE);
    expect(ruleOf(1)).toMatchObject({ mode: 'allclose', atol: 1 });
    expect(rules.rule(['x', 1, 'y'])).toMatchObject({ mode: 'allclose', atol: 1 });
    // Rules whose last segment before a trailing ** is a plain key resolve once for the whole list.
    expect(buildPolicy({ version: 1, metrics: { 'x.**': { atol: 1 } } }).forOutput('m.json').metrics.elementRules(['x'])(5)).toMatchObject({ atol: 1 });
  });

  it('in metric keys only * and ? are wildcards; [ ] { } ( ) ! + @ are themselves', () => {
    for (const key of ['loss[1]', 'a{b,c}', 'f(x)', '!neg', 'a+b', '@at', '+(x)']) {
      expect([key, keyRuleMatches(key, [key])]).toEqual([key, true]);
    }
    expect(keyRuleMatches('loss[1]', ['loss1'])).toBe(false);
    expect(keyRuleMatches('a{b,c}', ['ab'])).toBe(false);
    expect(keyRuleMatches('loss[*]', ['loss[12]'])).toBe(true);
    expect(keyRuleMatches('l?ss', ['loss'])).toBe(true);
    expect(keyRuleMatches('l?ss', ['lss'])).toBe(false);
    expect(keyRuleMatches('*', ['multi\nline'])).toBe(true);
  });

  it('knows while a rule that could apply to an output has matched nothing yet', () => {
    const policy = buildPolicy({ version: 1, metrics: { loss: { atol: 1 } } });
    const rules = policy.forOutput('m.json');
    expect(rules.pendingRules()).toBe(true);
    rules.metrics.rule(['loss']);
    expect(rules.pendingRules()).toBe(false);
    expect(policy.forOutput('other.json').pendingRules()).toBe(false);
  });

  it('knows when a rule makes a NaN fail even against itself', () => {
    expect(buildPolicy(null).forOutput('a.keras').nanStrict).toBe(false);
    expect(buildPolicy({ version: 1, default: { nan_equal: false } }).forOutput('a.keras').nanStrict).toBe(true);
    expect(buildPolicy({ version: 1, tensors: { '**': { nan_equal: false } } }).forOutput('a.keras').nanStrict).toBe(true);
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
