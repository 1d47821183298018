import { describe, expect, it } from '@jest/globals';
import { compareCsv, MAX_LISTED_CELLS, parseNumericCell } from '../../../src/core/compare/csv.js';
import { BITWISE, type MetricRule } from '../../../src/core/compare/model.js';
import type { MetricRules } from '../../../src/core/compare/policy.js';

const close: MetricRule = { mode: 'allclose', rtol: 0, atol: 1e-3, nan_equal: true };
/** Rules by column name: a cell's path is [column, row]. */
const rules = (map: Record<string, MetricRule>): MetricRules => ({
  rule: (path) => map[String(path[0])] ?? BITWISE,
  elementRules: (parent) => () => map[String(parent[0])] ?? BITWISE,
});

// What keras.callbacks.CSVLogger writes.
const LOG = 'epoch,accuracy,loss,val_loss,note\n0,0.5,0.7,0.8,warmup\n1,0.75,0.5,0.6,\n2,0.8,0.4,0.55,"a, quoted"\n';

describe('parseNumericCell', () => {
  it('accepts decimals and the nan/inf spellings, nothing else', () => {
    expect(parseNumericCell('1.5e-3')).toBe(0.0015);
    expect(parseNumericCell(' -2 ')).toBe(-2);
    expect(parseNumericCell('.5')).toBe(0.5);
    expect(Number.isNaN(parseNumericCell('nan'))).toBe(true);
    expect(Number.isNaN(parseNumericCell('NaN'))).toBe(true);
    expect(parseNumericCell('-inf')).toBe(-Infinity);
    expect(parseNumericCell('Infinity')).toBe(Infinity);
    expect(parseNumericCell('+inf')).toBe(Infinity);
    for (const text of ['', '0x10', '1,5', 'abc', '1e', '1e999']) expect(parseNumericCell(text)).toBeNull();
  });
});

describe('compareCsv', () => {
  it('identical logs: identical, nothing listed', () => {
    expect(compareCsv(LOG, LOG, rules({}))).toEqual({ status: 'identical', metrics: [] });
  });

  it('numeric cells against the column rule, text cells exactly; only the non-identical cells listed', () => {
    const candidate = 'epoch,accuracy,loss,val_loss,note\n0,0.5,0.7,0.8005,warmup\n1,0.75,0.5,0.61,\n2,0.8,0.4,0.55,"a, quoted"\n';
    const result = compareCsv(LOG, candidate, rules({ val_loss: close }));
    expect(result.status).toBe('different');
    expect(result.metrics).toEqual([
      { key: 'val_loss.0', status: 'equivalent', baseline: 0.8, candidate: 0.8005, difference: expect.any(Number), tolerance: close, message: 'within tolerance' },
      { key: 'val_loss.1', status: 'different', baseline: 0.6, candidate: 0.61, difference: expect.any(Number), tolerance: close, message: 'beyond tolerance (atol 0.001, rtol 0)' },
    ]);
    expect(result.message).toBe('1 of 12 numeric cells differ beyond tolerance, column val_loss; 1 of 12 numeric cells within tolerance or better');
  });

  it('a text change in a numeric-looking column with an empty cell, and text columns', () => {
    const candidate = LOG.replace('warmup', 'warm-up');
    const result = compareCsv(LOG, candidate, rules({}));
    expect(result.status).toBe('different');
    expect(result.metrics).toEqual([{ key: 'note.0', status: 'different', baseline: 'warmup', candidate: 'warm-up', difference: null, tolerance: null }]);
    expect(result.message).toBe('1 of 3 text cells differ, column note');
  });

  it('directions apply per column', () => {
    const candidate = LOG.replace('2,0.8,0.4', '2,0.9,0.3');
    const result = compareCsv(LOG, candidate, rules({ accuracy: { ...BITWISE, greater_is_better: true }, loss: { ...BITWISE, greater_is_better: false } }));
    expect(result.status).toBe('equivalent');
    expect(result.metrics.map((m) => [m.key, m.status, m.message])).toEqual([
      ['accuracy.2', 'equivalent', 'better than the baseline'],
      ['loss.2', 'equivalent', 'better than the baseline'],
    ]);
  });

  it('NaN cells: equal with nan_equal', () => {
    const a = 'loss\nnan\n0.5\n';
    expect(compareCsv(a, a, rules({})).status).toBe('identical');
    expect(compareCsv(a, 'loss\nNaN\n0.5\n', rules({})).status).toBe('identical');
    expect(compareCsv(a, a, rules({ loss: { ...close, nan_equal: false } })).status).toBe('different');
  });

  it('headers and row counts must match exactly', () => {
    expect(compareCsv(LOG, LOG.replace('val_loss', 'val_los'), rules({}))).toEqual({
      status: 'different',
      metrics: [],
      message: 'header differs: baseline [epoch, accuracy, loss, val_loss, note], candidate [epoch, accuracy, loss, val_los, note]',
    });
    expect(compareCsv(LOG, LOG + '3,0.9,0.3,0.5,\n', rules({}))).toEqual({ status: 'different', metrics: [], message: 'row count differs: baseline 3, candidate 4' });
  });

  it('malformed CSV is an error naming the side', () => {
    const result = compareCsv(LOG, 'a,b\n1,2,3\n', rules({}));
    expect(result.status).toBe('error');
    expect(result.message).toMatch(/^candidate is not valid CSV: /);
  });

  it('caps the listed cells but counts all of them, and the status sees past the cap', () => {
    const rows = 300;
    const a = `x\n${Array.from({ length: rows }, (_, i) => i).join('\n')}\n`;
    const b = `x\n${Array.from({ length: rows }, (_, i) => (i < rows - 1 ? i + 0.0001 : i + 5)).join('\n')}\n`;
    const result = compareCsv(a, b, rules({ x: close }));
    expect(result.metrics).toHaveLength(MAX_LISTED_CELLS);
    expect(result.status).toBe('different');
    expect(result.message).toBe(`1 of ${rows} numeric cells differ beyond tolerance, column x; ${rows - 1} of ${rows} numeric cells within tolerance or better; first ${MAX_LISTED_CELLS} of ${rows} listed`);
  });
});
