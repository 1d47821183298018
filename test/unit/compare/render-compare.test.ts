import { describe, expect, it } from '@jest/globals';
import { create } from 'xmlbuilder2';
import type { CompareReport, MetricDiff, OutputReport, TensorDiff } from '../../../src/core/compare/model.js';
import { BITWISE } from '../../../src/core/compare/model.js';
import { escapeMarkdown, formatNumber, renderCompareTable, renderMarkdown } from '../../../src/render/compare.js';
import { renderJUnit } from '../../../src/render/junit.js';

const loose = { mode: 'allclose' as const, rtol: 1e-5, atol: 1e-8, nan_equal: true };

const kernel: TensorDiff = {
  name: 'layers/dense/vars/0',
  status: 'different',
  dtype: { baseline: '<f4', candidate: '<f4' },
  shape: { baseline: [3, 4], candidate: [3, 4] },
  elements: 12,
  max_abs_diff: 0.125,
  max_rel_diff: 0.5,
  mismatched: 3,
  mismatched_fraction: 0.25,
  first_mismatch: [0, 2],
  tolerance: loose,
};
const bias: TensorDiff = { ...kernel, name: 'layers/dense/vars/1', status: 'identical', shape: { baseline: [4], candidate: [4] }, elements: 4, max_abs_diff: 0, max_rel_diff: 0, mismatched: 0, mismatched_fraction: 0, first_mismatch: null };
const valLoss: MetricDiff = { key: 'val_loss.2', status: 'equivalent', baseline: 0.55, candidate: 0.5, difference: -0.05, tolerance: { ...BITWISE, greater_is_better: false }, message: 'better than the baseline' };

const outputs: OutputReport[] = [
  { path: 'model.keras', format: 'keras', status: 'different', message: '1 of 2 weights not identical', tensors: [kernel, bias], ignored: ['metadata.json: date_saved'] },
  { path: 'history.json', format: 'json', status: 'equivalent', metrics: [valLoss] },
  { path: 'w.weights.h5', format: 'h5', status: 'identical', tensors: [bias] },
  { path: 'eval|`x`.txt', format: 'bytes', status: 'missing', message: 'in the baseline but missing from the candidate' },
  { path: 'new.txt', format: 'bytes', status: 'extra', message: 'only in the candidate' },
  { path: 'broken.h5', format: 'h5', status: 'error', message: 'candidate /x/broken.h5 is not an HDF5 file (no HDF5 signature)' },
  { path: 'tb/events.out', format: 'bytes', status: 'ignored', message: 'ignored by the policy (tb/**)' },
  { path: 'log.txt', format: 'bytes', status: 'different', text_diff: ['--- baseline', '+++ candidate', '@@ -1,1 +1,1 @@', '-a ```', '+b'] },
];
const report: CompareReport = {
  verdict: 'different',
  baseline: '/runs/a',
  candidate: '/runs/b',
  policy: 'policy.yaml',
  summary: { outputs: 8, identical: 1, equivalent: 1, different: 2, missing: 1, extra: 1, error: 1, ignored: 1 },
  outputs,
};

describe('formatNumber', () => {
  it('integers as is, others to 6 significant digits, tiny and huge in exponent form', () => {
    expect([formatNumber(3), formatNumber(0.1 + 0.2), formatNumber(1.19209e-7), formatNumber(null), formatNumber(NaN), formatNumber(-Infinity), formatNumber(0)]).toEqual(['3', '0.3', '1.192e-7', '-', 'nan', '-inf', '0']);
  });
});

describe('renderCompareTable', () => {
  it('one line per output, details of what is not identical, and the summary', () => {
    const lines = renderCompareTable(report, { color: false });
    expect(lines).toEqual([
      'different   model.keras  (keras)',
      '    1 of 2 weights not identical',
      '    different tensor layers/dense/vars/0  shape [3, 4]  dtype <f4  max abs diff 0.125  max rel diff 0.5  mismatched 3/12 (25.00%)  first mismatch [0, 2]  tolerance allclose rtol=0.00001 atol=1e-8',
      '    1 other tensor identical',
      '    ignored: metadata.json: date_saved',
      'equivalent  history.json  (json)',
      '    equivalent val_loss.2  baseline 0.55  candidate 0.5  difference -0.05  tolerance bitwise, lower is better  (better than the baseline)',
      'identical   w.weights.h5  (h5)',
      'missing     eval|`x`.txt  (bytes)',
      '    in the baseline but missing from the candidate',
      'extra       new.txt  (bytes)',
      '    only in the candidate',
      'error       broken.h5  (h5)',
      '    candidate /x/broken.h5 is not an HDF5 file (no HDF5 signature)',
      'ignored     tb/events.out  (bytes)',
      '    ignored by the policy (tb/**)',
      'different   log.txt  (bytes)',
      '    --- baseline',
      '    +++ candidate',
      '    @@ -1,1 +1,1 @@',
      '    -a ```',
      '    +b',
      '',
      'different: 8 outputs — 1 identical, 1 equivalent, 2 different, 1 missing, 1 extra, 1 error, 1 ignored',
    ]);
  });

  it('colours statuses only when asked', () => {
    const plain = renderCompareTable(report, { color: false }).join('\n');
    expect(plain).not.toContain('\u001b[');
    const coloured = renderCompareTable(report, { color: true });
    expect(coloured[0]).toBe('\u001b[31mdifferent \u001b[0m  model.keras  (keras)');
    expect(coloured).toContain('\u001b[36mequivalent\u001b[0m  history.json  (json)');
    expect(coloured).toContain('\u001b[32midentical \u001b[0m  w.weights.h5  (h5)');
    expect(coloured).toContain('\u001b[33merror     \u001b[0m  broken.h5  (h5)');
    expect(coloured[coloured.length - 1]?.startsWith('\u001b[31mdifferent: 8 outputs')).toBe(true);
  });

  it('caps the items listed per output', () => {
    const metrics: MetricDiff[] = Array.from({ length: 25 }, (_, i) => ({ ...valLoss, key: `loss.${i}`, status: 'different' }));
    const lines = renderCompareTable({ ...report, outputs: [{ path: 'h.json', format: 'json', status: 'different', metrics }] }, { color: false });
    expect(lines.filter((l) => l.startsWith('    different loss.'))).toHaveLength(20);
    expect(lines).toContain('    ... and 5 more');
  });
});

describe('renderMarkdown', () => {
  const md = renderMarkdown(report);

  it('a verdict heading, the summary table and the outputs table', () => {
    const lines = md.split('\n');
    expect(lines[0]).toBe('## ❌ snapshot compare: different');
    expect(md).toContain('| Outputs | Identical | Equivalent | Different | Missing | Extra | Errors | Ignored |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n| 8 | 1 | 1 | 2 | 1 | 1 | 1 | 1 |\n');
    expect(md).toContain('| Status | Path | Format | Detail |\n| --- | --- | --- | --- |\n| different | model.keras | keras | 1 of 2 weights not identical |\n');
    expect(md).toContain('| equivalent | history.json | json | 1 item not identical |');
    expect(md.trimEnd().split('\n').pop()).toBe('different: 8 outputs — 1 identical, 1 equivalent, 2 different, 1 missing, 1 extra, 1 error, 1 ignored');
  });

  it('escapes pipes, backticks and HTML characters in values', () => {
    expect(escapeMarkdown('a|b`c<d>&\nx')).toBe('a\\|b\\`c&lt;d&gt;&amp; x');
    expect(md).toContain('| missing | eval\\|\\`x\\`.txt | bytes | in the baseline but missing from the candidate |');
    expect(md).toContain('#### eval\\|\\`x\\`.txt: missing');
  });

  it('details only for outputs that are not identical, with tensor and metric tables', () => {
    expect(md).not.toContain('#### w.weights.h5');
    expect(md).toContain('#### model.keras: different');
    expect(md).toContain('| Tensor | Status | Shape | Dtype | Max abs diff | Max rel diff | Mismatched | First mismatch | Tolerance | Note |');
    expect(md).toContain('| layers/dense/vars/0 | different | \\[3, 4\\] | &lt;f4 | 0.125 | 0.5 | 3/12 (25.00%) | [0, 2] | allclose rtol=0.00001 atol=1e-8 |  |');
    expect(md).not.toContain('| layers/dense/vars/1 |');
    expect(md).toContain('| val\\_loss.2 | equivalent | 0.55 | 0.5 | -0.05 | bitwise, lower is better | better than the baseline |');
    expect(md).toContain('Ignored: metadata.json: date\\_saved');
  });

  it('fences a text diff with more backticks than it contains', () => {
    expect(md).toContain('````diff\n--- baseline\n+++ candidate\n@@ -1,1 +1,1 @@\n-a ```\n+b\n````');
  });
});

const unescapeXml = (text: string): string =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

describe('renderJUnit', () => {
  const xml = renderJUnit(report);
  // Parsed back with the same library: attributes come back as '@name' keys, text under '#',
  // entities left as written (so they are decoded here).
  const doc = create(xml).end({ format: 'object' }) as unknown as {
    testsuites: { '@tests': string; '@failures': string; '@errors': string; '@skipped': string; testsuite: Record<string, unknown> & { testcase: Array<Record<string, unknown>> } };
  };

  it('one testsuite named "snapshot compare" with correct counts', () => {
    const suite = doc.testsuites.testsuite;
    expect(suite['@name']).toBe('snapshot compare');
    expect([suite['@tests'], suite['@failures'], suite['@errors'], suite['@skipped']]).toEqual(['8', '3', '1', '1']);
    expect([doc.testsuites['@tests'], doc.testsuites['@failures'], doc.testsuites['@errors'], doc.testsuites['@skipped']]).toEqual(['8', '3', '1', '1']);
  });

  it('one testcase per output; failure for different/missing, error, skipped for ignored', () => {
    const cases = doc.testsuites.testsuite.testcase;
    expect(cases.map((c) => c['@name'])).toEqual(outputs.map((o) => o.path));
    expect(cases.every((c) => c['@classname'] === 'snapshot.compare')).toBe(true);
    const kinds = cases.map((c) => (c.failure ? 'failure' : c.error ? 'error' : c.skipped ? 'skipped' : 'pass'));
    expect(kinds).toEqual(['failure', 'pass', 'pass', 'failure', 'pass', 'error', 'skipped', 'failure']);
    const failure = cases[0]?.failure as Record<string, string>;
    expect(failure['@message']).toBe('different: 1 of 2 weights not identical');
    expect(failure['@type']).toBe('different');
    expect(unescapeXml(failure['#'] ?? '')).toContain('different tensor layers/dense/vars/0  shape [3, 4]  dtype <f4');
  });

  it('escapes values (the library does) and replaces characters XML cannot hold', () => {
    expect(xml).toContain('name="eval|`x`.txt"');
    expect(xml).toContain('dtype &lt;f4');
    expect(xml).not.toContain('&amp;lt;');
    const odd = renderJUnit({ ...report, outputs: [{ path: 'a\u0001b<"&>', format: 'bytes', status: 'different', message: 'x' }] });
    expect(odd).toContain('name="a\uFFFDb&lt;&quot;&amp;&gt;"');
    expect(() => create(odd)).not.toThrow();
  });
});

describe('a model with thousands of tensors', () => {
  const many: TensorDiff[] = Array.from({ length: 3000 }, (_, i) => ({ ...bias, name: `layers/dense_${i}/vars/0` }));
  many[1234] = { ...kernel, name: 'layers/dense_1234/vars/0' };
  many[2999] = { ...kernel, name: 'layers/dense_2999/vars/0', status: 'error', message: 'cannot read dataset: Read failed' };
  many.push({ ...kernel, name: 'optimizer/vars/7', status: 'equivalent', mismatched: 0 });
  many.push({ ...bias, name: 'optimizer/vars/0' });
  const big: CompareReport = { ...report, outputs: [{ path: 'model.keras', format: 'keras', status: 'error', tensors: many }], summary: { ...report.summary, outputs: 1 } };

  it('shows what is out of tolerance first, folds the identical ones into a count, and groups the optimizer state apart', () => {
    const lines = renderCompareTable(big, { color: false });
    expect(lines.length).toBeLessThan(12);
    const text = lines.join('\n');
    expect(text).toContain('    weights: 3000 tensors, 2998 identical');
    expect(text).toContain('    optimizer state: 2 tensors, 1 identical');
    // The error first, then the difference.
    expect(text.indexOf('error tensor layers/dense_2999/vars/0')).toBeLessThan(text.indexOf('different tensor layers/dense_1234/vars/0'));
    expect(text).not.toContain('layers/dense_5/vars/0');
    const md = renderMarkdown(big);
    expect(md).toContain('weights: 3000 tensors, 2998 identical');
    expect(md.split('\n').filter((l) => l.startsWith('| layers/')).length).toBe(2);
  });
});
