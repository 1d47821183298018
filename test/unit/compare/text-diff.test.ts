import { describe, expect, it } from '@jest/globals';
import { looksLikeText, unifiedTextDiff } from '../../../src/core/compare/text-diff.js';

describe('looksLikeText', () => {
  it('UTF-8 without NUL is text', () => {
    expect(looksLikeText(Buffer.from('loss 0.5 — ok\n'))).toBe(true);
    expect(looksLikeText(Buffer.from([0x61, 0x00, 0x62]))).toBe(false);
    expect(looksLikeText(Buffer.from([0xff, 0xfe, 0x41]))).toBe(false);
    expect(looksLikeText(Buffer.alloc(0))).toBe(true);
  });
});

describe('unifiedTextDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedTextDiff('a\n', 'a\n')).toEqual([]);
  });

  it('a unified diff with three lines of context', () => {
    const a = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n') + '\n';
    const b = a.replace('5\n', 'five\n');
    expect(unifiedTextDiff(a, b)).toEqual(['--- baseline', '+++ candidate', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8']);
  });

  it('notes a missing final newline', () => {
    expect(unifiedTextDiff('a\n', 'a')).toEqual(['--- baseline', '+++ candidate', '@@ -1,1 +1,1 @@', '-a', '+a', '\\ No newline at end of file']);
  });

  it('is cut at maxLines with a count of what was left out', () => {
    const a = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const b = Array.from({ length: 100 }, (_, i) => `LINE ${i}`).join('\n');
    const lines = unifiedTextDiff(a, b, { maxLines: 10 });
    expect(lines).toHaveLength(10);
    expect(lines[9]).toBe('... 196 more lines');
  });
});
