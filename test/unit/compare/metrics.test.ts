import { describe, expect, it } from '@jest/globals';
import { bytesFeed, JsonSyntaxError, StreamCursor, valueCursor, type JsonValue } from '../../../src/core/compare/json-cursor.js';
import { compareJsonCursors, compareJsonDocuments, compareNumbers, RepeatedKeyError, type JsonComparison } from '../../../src/core/compare/metrics.js';
import { BITWISE, type MetricRule } from '../../../src/core/compare/model.js';
import { buildPolicy, type PolicyDocument } from '../../../src/core/compare/policy.js';

const allclose = (rtol: number, atol: number, extra: Partial<MetricRule> = {}): MetricRule => ({ mode: 'allclose', rtol, atol, nan_equal: true, ...extra });

/** Both documents streamed from their text in small chunks, under a policy's metric rules. */
function compareText(baseline: string, candidate: string, policy: PolicyDocument | null = null, chunk = 7): JsonComparison {
  const rules = buildPolicy(policy).forOutput('metrics.json').metrics;
  const cursor = (text: string) => new StreamCursor(bytesFeed(Buffer.from(text, 'utf8'), chunk));
  return compareJsonDocuments(() => [cursor(baseline), cursor(candidate)], rules);
}

function readText(text: string, chunk = 3): JsonValue {
  const cursor = new StreamCursor(bytesFeed(Buffer.from(text, 'utf8'), chunk));
  const value = cursor.readValue();
  cursor.finish();
  return value;
}

describe('StreamCursor: JSON as Python writes it', () => {
  it('reads NaN, Infinity and -Infinity, and keeps them apart from strings', () => {
    const value = readText('{"loss": [NaN, Infinity, -Infinity, 1.5], "note": "NaN stays text", "q": "a\\"NaN"}') as Map<string, JsonValue>;
    const loss = value.get('loss') as number[];
    expect(Number.isNaN(loss[0])).toBe(true);
    expect(loss.slice(1)).toEqual([Infinity, -Infinity, 1.5]);
    expect(value.get('note')).toBe('NaN stays text');
    expect(value.get('q')).toBe('a"NaN');
  });

  it('reads every number form the grammar allows: floats as JSON.parse does, integers as Python ints', () => {
    const floats = ['1.5', '-0.25', '1e5', '1E+5', '2.5e-3', '-1.0E10', '0.1000000000000000055511151231257827', '-0.0', '1.0'];
    expect(readText(`[${floats.join(',')}]`)).toEqual(floats.map((f) => JSON.parse(f)));
    expect(Object.is(readText('-0.0'), -0)).toBe(true);
    expect(readText('[0, -0, 7, -12, 123456789012345]')).toEqual([0n, 0n, 7n, -12n, 123456789012345n]);
  });

  it('reads integers exactly at any size (Python ints), and everything else as doubles', () => {
    const value = readText('[9007199254740993, -9007199254740993, 9007199254740992, 1.5e300, 0.1, 12345678901234567890123]') as unknown[];
    expect(value).toEqual([9007199254740993n, -9007199254740993n, 9007199254740992n, 1.5e300, 0.1, 12345678901234567890123n]);
    expect(readText('[9007199254740991, 100, 100.0]')).toEqual([9007199254740991n, 100n, 100]);
  });

  it('skips a UTF-8 byte order mark, and decodes escapes and multi-byte characters across chunk boundaries', () => {
    const text = '\uFEFF{"k\\u00e9y": "\\ud83d\\ude00 caf\u00e9", "tab": "a\\tb"}';
    const value = readText(text, 1) as Map<string, JsonValue>;
    expect([...value.entries()]).toEqual([
      ['kéy', '😀 café'],
      ['tab', 'a\tb'],
    ]);
  });

  it('keeps the last of a repeated key, as Python does', () => {
    expect([...(readText('{"a": 1, "b": 2, "a": 3}') as Map<string, JsonValue>).entries()]).toEqual([
      ['b', 2n],
      ['a', 3n],
    ]);
  });

  it.each([
    ['{"a": nope}', /unexpected character "n"|expected null/],
    ['{"a": NaN', /expected ',' or '}'|unexpected end/],
    ['[01]', /bad number "01"|expected ',' or ']'/],
    ['[1.]', /bad number "1\."/],
    ['[-]', /bad number "-"/],
    ['[1e]', /bad number "1e"/],
    ['[1e+]', /bad number "1e\+"/],
    ['[-01]', /bad number "-01"/],
    ['[00]', /bad number "00"/],
    ['[1.5e3.2]', /bad number "1\.5e3\.2"/],
    ['[+1]', /unexpected character "\+"/],
    ['[1,]', /unexpected character "\]"/],
    ['{"a":1}{"b":2}', /extra data after the document/],
    ['"unterminated', /unterminated string/],
    ['"tab\there"', /control character in a string/],
    ['[' .repeat(1001) + ']'.repeat(1001), /nested deeper than 1000 levels/],
  ])('refuses %j with where it broke', (text, message) => {
    expect(() => readText(text)).toThrow(JsonSyntaxError);
    expect(() => readText(text)).toThrow(message);
    expect(() => readText(text)).toThrow(/at byte \d+ \(line \d+\)/);
  });

  it('walks a value already read whole through the same interface', () => {
    const cursor = valueCursor(new Map<string, JsonValue>([['a', [1, 2]]]));
    cursor.enterObject();
    expect(cursor.nextKey()).toBe('a');
    expect(cursor.kind()).toBe('array');
    const leaves: unknown[] = [];
    cursor.skipValue((path, value) => leaves.push([path.slice(), value]));
    expect(leaves).toEqual([
      [[0], 1],
      [[1], 2],
    ]);
    expect(cursor.nextKey()).toBeNull();
  });
});

describe('compareNumbers', () => {
  it('identical only for the same double; -0 vs 0 is different bitwise and equivalent under allclose', () => {
    expect(compareNumbers(1, 1, BITWISE).status).toBe('identical');
    expect(compareNumbers(0, -0, BITWISE)).toMatchObject({ status: 'different', message: 'sign of zero differs (bitwise)' });
    expect(compareNumbers(0, -0, allclose(0, 0)).status).toBe('equivalent');
  });

  it('uses numpy isclose with the baseline as b', () => {
    expect(compareNumbers(1.0, 1.1, allclose(0.1, 0)).status).toBe('different'); // 0.10000000000000009 > 0.1
    expect(compareNumbers(1.0, 1.05, allclose(0.1, 0)).status).toBe('equivalent');
    expect(compareNumbers(1.1, 1.0, allclose(0.1, 0)).status).toBe('equivalent');
    expect(compareNumbers(0, 1e-9, allclose(0, 1e-8))).toMatchObject({ status: 'equivalent', message: 'within tolerance' });
  });

  it('NaN equals NaN only with nan_equal, in every mode; infinities only themselves', () => {
    expect(compareNumbers(NaN, NaN, allclose(0, 0)).status).toBe('identical');
    expect(compareNumbers(NaN, NaN, allclose(0, 0, { nan_equal: false })).status).toBe('different');
    expect(compareNumbers(NaN, NaN, { ...BITWISE, nan_equal: false }).status).toBe('different');
    expect(compareNumbers(1, NaN, allclose(1, 1))).toMatchObject({ status: 'different', message: 'candidate is NaN', difference: null });
    expect(compareNumbers(Infinity, Infinity, allclose(0, 0)).status).toBe('identical');
    expect(compareNumbers(Infinity, 1e308, allclose(1, 1)).status).toBe('different');
  });

  it('a finite change in the welcome direction is equivalent, "better than the baseline"', () => {
    expect(compareNumbers(0.8, 0.9, { ...BITWISE, greater_is_better: true })).toMatchObject({ status: 'equivalent', message: 'better than the baseline' });
    expect(compareNumbers(0.8, 0.7, { ...BITWISE, greater_is_better: true }).status).toBe('different');
    expect(compareNumbers(0.5, 0.4, allclose(0, 0.01, { greater_is_better: false })).status).toBe('equivalent');
    expect(compareNumbers(0.5, 0.6, allclose(0, 0.01, { greater_is_better: false })).status).toBe('different');
  });

  it('a non-finite candidate is never better than a finite baseline (a loss gone to -inf, an accuracy to +inf)', () => {
    expect(compareNumbers(0.4, -Infinity, allclose(0.1, 0.1, { greater_is_better: false }))).toMatchObject({ status: 'different', message: 'candidate is -Infinity' });
    expect(compareNumbers(0.9, Infinity, allclose(0.1, 0.1, { greater_is_better: true }))).toMatchObject({ status: 'different', message: 'candidate is Infinity' });
    expect(compareNumbers(0.9, NaN, { ...BITWISE, greater_is_better: true }).status).toBe('different');
    expect(compareNumbers(Infinity, 0.5, allclose(0.1, 0.1, { greater_is_better: false })).status).toBe('different');
  });

  it('compares integers beyond 2^53 exactly', () => {
    expect(compareNumbers(9007199254740992, 9007199254740993n, BITWISE)).toMatchObject({ status: 'different', difference: 1 });
    expect(compareNumbers(9007199254740993n, 9007199254740993n, BITWISE).status).toBe('identical');
    expect(compareNumbers(10n ** 20n, 10n ** 20n + 1n, allclose(1e-9, 0)).status).toBe('equivalent');
    expect(compareNumbers(10n ** 20n, 10n ** 20n + 1n, { ...BITWISE, greater_is_better: true })).toMatchObject({ status: 'equivalent', message: 'better than the baseline' });
  });

  it('mode ignore: a change is equivalent', () => {
    expect(compareNumbers(1, 2, { mode: 'ignore', rtol: 0, atol: 0, nan_equal: true })).toMatchObject({ status: 'equivalent', message: 'ignored by the policy' });
  });
});

describe('metric documents: the structure is content', () => {
  it('a key spelt with a dot is not a key inside an object', () => {
    expect(compareText('{"a.b":1,"a":{"b":2}}', '{"a.b":1,"a":{"b":999}}').status).toBe('different');
    const moved = compareText('{"a.b":1}', '{"a":{"b":1}}');
    expect(moved.status).toBe('different');
    expect(moved.listed.map((d) => [d.key, d.status])).toEqual([
      ['a\\.b', 'missing'],
      ['a.b', 'extra'],
    ]);
  });

  it('a list is not an object with keys "0", "1"', () => {
    const result = compareText('{"h":[1,2]}', '{"h":{"0":1,"1":2}}');
    expect(result.status).toBe('different');
    expect(result.listed).toEqual([expect.objectContaining({ key: 'h', status: 'different', baseline: 'a list', candidate: 'an object', message: 'type changed: a list in the baseline, an object in the candidate' })]);
  });

  it('integers beyond 2^53 are compared exactly, and reported as their digits', () => {
    const result = compareText('{"seed": 9007199254740993}', '{"seed": 9007199254740992}');
    expect(result.status).toBe('different');
    expect(result.listed[0]).toMatchObject({ key: 'seed', baseline: '9007199254740993', candidate: '9007199254740992', difference: -1 });
  });

  it('keys in another order are the same document', () => {
    expect(compareText('{"loss":[0.5,0.4],"acc":[0.1,0.2],"n":{"x":1,"y":2}}', '{"acc":[0.1,0.2],"n":{"y":2,"x":1},"loss":[0.5,0.4]}')).toMatchObject({ status: 'identical', listed: [] });
    const changed = compareText('{"a":1,"b":2,"c":3}', '{"c":3,"b":5,"a":1}');
    expect(changed.listed.map((d) => [d.key, d.status, d.baseline, d.candidate])).toEqual([['b', 'different', 2, 5]]);
  });

  it('counts every value and lists the first non-identical ones', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i / 7);
    const moved = values.map((v, i) => (i % 2 === 0 ? v + 1 : v));
    const result = compareText(JSON.stringify({ p: values }), JSON.stringify({ p: moved }), null, 64);
    expect(result.counts).toMatchObject({ compared: 1000, identical: 500, different: 500 });
    expect(result.listed).toHaveLength(200);
    expect(result.listed[1]?.key).toBe('p.2');
    expect(result.message).toBe('500 of 1000 values differ beyond tolerance; first 200 of 500 listed');
  });

  it('NaN only equals NaN with nan_equal; with it off, a NaN fails even against a NaN', () => {
    expect(compareText('{"loss": NaN}', '{"loss": NaN}').status).toBe('identical');
    expect(compareText('{"loss": NaN}', '{"loss": NaN}', { version: 1, metrics: { loss: { nan_equal: false } } }).status).toBe('different');
  });

  it('null, booleans and strings are exact whatever the tolerance', () => {
    const result = compareText('{"a":null,"b":true,"c":"x"}', '{"a":null,"b":false,"c":"x"}', { version: 1, default: { atol: 1 } });
    expect(result.listed.map((d) => [d.key, d.status])).toEqual([['b', 'different']]);
  });

  it('keys one side lacks: missing is a difference, extra an addition', () => {
    const result = compareText('{"a":1,"b":{"c":[1,2]}}', '{"a":1,"x":{}}');
    expect(result.listed.map((d) => [d.key, d.status])).toEqual([
      ['b.c.0', 'missing'],
      ['b.c.1', 'missing'],
      ['x', 'extra'],
    ]);
    expect(result.status).toBe('different');
    expect(compareText('{"a":1}', '{"a":1,"new":2}').status).toBe('equivalent');
  });
});

describe('metric rules', () => {
  const history = (acc: number[]) => JSON.stringify({ history: { val_accuracy: acc, 'train/loss': [0.5, 0.4] } });

  it('at: last judges only the last value, and says so; earlier moves keep it from identical', () => {
    const policy: PolicyDocument = { version: 1, metrics: { val_accuracy: { atol: 0.01, at: 'last' } } };
    const result = compareText(history([0.5, 0.8, 0.9]), history([0.5, 0.815, 0.9075]), policy);
    expect(result.status).toBe('equivalent');
    expect(result.listed).toEqual([expect.objectContaining({ key: 'history.val_accuracy', status: 'equivalent', baseline: 0.9, candidate: 0.9075 })]);
    expect(result.listed[0]?.message).toMatch(/^judged the last of 3 values; within tolerance/);
    const same = compareText(history([0.5, 0.8, 0.9]), history([0.5, 0.8, 0.9]), policy);
    expect(same.status).toBe('identical');
    const moved = compareText(history([0.5, 0.8, 0.9]), history([0.5, 0.7, 0.9]), policy);
    expect(moved).toMatchObject({ status: 'equivalent' });
    expect(moved.listed[0]?.message).toMatch(/other values differ; the policy judges one/);
    expect(compareText(history([0.5, 0.8, 0.9]), history([0.5, 0.8, 0.85]), policy).status).toBe('different');
  });

  it('at: best judges the best value by greater_is_better', () => {
    const policy: PolicyDocument = { version: 1, metrics: { val_accuracy: { atol: 0.01, at: 'best', greater_is_better: true } } };
    const result = compareText(history([0.5, 0.91, 0.9]), history([0.5, 0.6, 0.905]), policy);
    expect(result.status).toBe('equivalent');
    expect(result.listed[0]).toMatchObject({ baseline: 0.91, candidate: 0.905 });
    expect(result.listed[0]?.message).toMatch(/best of 3 values \(baseline index 1, candidate index 2\)/);
  });

  it('a one-segment key matches at any depth, globs stay within a segment, "/" is part of a segment', () => {
    const loose = { atol: 10 };
    expect(compareText(history([0.5, 0.8]), history([0.5, 0.9]), { version: 1, metrics: { 'val_*': loose } }).status).toBe('equivalent');
    expect(compareText(history([0.5, 0.8]), history([0.5, 0.9]), { version: 1, metrics: { 'history.val_accuracy': loose } }).status).toBe('equivalent');
    expect(compareText(history([0.5, 0.8]), history([0.5, 0.9]), { version: 1, metrics: { '**.val_accuracy.1': loose } }).status).toBe('equivalent');
    expect(compareText(history([0.5, 0.8]), history([0.5, 0.9]), { version: 1, metrics: { 'val_*.0': loose } }).status).toBe('different');
    const tb = (v: number) => JSON.stringify({ 'train/loss': v });
    expect(compareText(tb(0.5), tb(0.6), { version: 1, metrics: { '*loss': loose } }).status).toBe('equivalent');
    expect(compareText(tb(0.5), tb(0.6), { version: 1, metrics: { 'train/loss': loose } }).status).toBe('equivalent');
    // A literal dot inside a key is written '\.'.
    expect(compareText('{"a.b": 1}', '{"a.b": 2}', { version: 1, metrics: { 'a\\.b': loose } }).status).toBe('equivalent');
    expect(compareText('{"a.b": 1}', '{"a.b": 2}', { version: 1, metrics: { 'a.b': loose } }).status).toBe('different');
  });

  it('mode ignore also covers a key one side lacks, and a value whose type changed', () => {
    const policy: PolicyDocument = { version: 1, metrics: { timing: { mode: 'ignore' } } };
    expect(compareText('{"loss":1,"timing":{"s":3}}', '{"loss":1}', policy).status).toBe('equivalent');
    expect(compareText('{"loss":1}', '{"loss":1,"timing":[1]}', policy).status).toBe('equivalent');
    expect(compareText('{"timing":"3s"}', '{"timing":3}', policy).status).toBe('equivalent');
    expect(compareText('{"loss":1,"timing":3}', '{"timing":3}', policy).status).toBe('different');
  });
});

describe('metric documents as json.load reads them', () => {
  it('the last of a repeated key counts, on both sides, wherever it comes', () => {
    expect(compareText('{"a":1,"b":0}', '{"a":1,"b":0,"a":7}')).toMatchObject({ status: 'different' });
    expect(compareText('{"a":1,"b":0}', '{"a":1,"b":0,"a":7}').listed).toEqual([expect.objectContaining({ key: 'a', status: 'different', baseline: 1, candidate: 7 })]);
    expect(compareText('{"a":1,"a":2}', '{"a":2}').status).toBe('identical');
    expect(compareText('{"a":1,"a":2}', '{"a":2}').message).toMatch(/the key "a" repeats in the object at the top level: read whole, the last of a repeated key counts/);
    expect(compareText('{"x":{"a":[1,2],"a":[1,3]}}', '{"x":{"a":[1,3]}}').status).toBe('identical');
    // In the part read whole (keys in another order), the last one counts too.
    expect(compareText('{"b":1,"a":1,"a":2}', '{"a":2,"b":1}').status).toBe('identical');
  });

  it('the lockstep walk never judges a repeated key silently: it says so', () => {
    const rules = buildPolicy(null).forOutput('m.json').metrics;
    const cursor = (text: string) => new StreamCursor(bytesFeed(Buffer.from(text, 'utf8')));
    expect(() => compareJsonCursors(cursor('{"a":1,"a":2}'), cursor('{"a":2}'), rules)).toThrow(RepeatedKeyError);
  });

  it('an integer -0 is 0; an int and a float are two types', () => {
    expect(compareText('{"n": -0}', '{"n": 0}').status).toBe('identical');
    expect(compareText('{"n": -0.0}', '{"n": 0.0}').status).toBe('different');
    const changed = compareText('{"n": 1}', '{"n": 1.0}', { version: 1, default: { atol: 1 } });
    expect(changed.status).toBe('different');
    expect(changed.listed).toEqual([expect.objectContaining({ key: 'n', baseline: 1, candidate: 1, message: 'type changed: an integer in the baseline, a float in the candidate' })]);
    expect(compareText('{"n": 1}', '{"n": 1.0}', { version: 1, metrics: { n: { mode: 'ignore' } } }).status).toBe('equivalent');
    expect(compareText('{"n": [1, 2]}', '{"n": [1, 2.0]}', { version: 1, metrics: { n: { at: 'last' } } }).listed[0]?.message).toMatch(/type changed: an integer in the baseline, a float in the candidate/);
  });

  it('at: on lists that are not lists of numbers judges every value, and never recurses', () => {
    const policy: PolicyDocument = { version: 1, metrics: { loss: { at: 'last' } } };
    for (const list of ['[]', '[1, "x", 1]', '[[1, 2], [3, 4]]', '["mse", "mae"]']) {
      expect([list, compareText(`{"loss": ${list}}`, `{"loss": ${list}}`, policy).status]).toEqual([list, 'identical']);
    }
    expect(compareText('{"loss": ["mse", "mae"]}', '{"loss": ["mse", "mse"]}', policy).listed).toEqual([expect.objectContaining({ key: 'loss.1', status: 'different' })]);
  });

  it('at: with nan_equal off, a list holding a NaN is never identical', () => {
    const policy: PolicyDocument = { version: 1, metrics: { loss: { at: 'last', nan_equal: false } } };
    const result = compareText('{"loss": [NaN, 0.5]}', '{"loss": [NaN, 0.5]}', policy);
    expect(result.status).toBe('equivalent');
    expect(result.listed[0]?.message).toMatch(/a NaN, which never equals anything with nan_equal off/);
    expect(compareText('{"loss": [NaN, 0.5]}', '{"loss": [NaN, 0.5]}', { version: 1, metrics: { loss: { at: 'last' } } }).status).toBe('identical');
  });
});
