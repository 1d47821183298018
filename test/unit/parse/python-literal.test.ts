import { describe, expect, it } from '@jest/globals';
import { parsePythonLiteral, pythonMappingEntries, pythonModuleAssignments } from '../../../src/core/parse/index.js';

describe('parsePythonLiteral', () => {
  it('reads scalars', () => {
    expect(parsePythonLiteral("'a\\'b'")).toBe("a'b");
    expect(parsePythonLiteral('"tab\\there"')).toBe('tab\there');
    expect(parsePythonLiteral("r'C:\\path'")).toBe('C:\\path');
    expect(parsePythonLiteral("u'x' 'y'")).toBe('xy');
    expect(parsePythonLiteral("'''multi\nline'''")).toBe('multi\nline');
    expect(parsePythonLiteral('"\\x41\\u00e9"')).toBe('Aé');
    expect(parsePythonLiteral('-12.5')).toBe(-12.5);
    expect(parsePythonLiteral('1_000')).toBe(1000);
    expect(parsePythonLiteral('True')).toBe(true);
    expect(parsePythonLiteral('False')).toBe(false);
    expect(parsePythonLiteral('None')).toBeNull();
  });

  it('reads containers, tuples and calls', () => {
    expect(parsePythonLiteral("['a', 'b',]")).toEqual(['a', 'b']);
    expect(parsePythonLiteral('(1,)')).toEqual([1]);
    expect(parsePythonLiteral('(1)')).toBe(1);
    expect(parsePythonLiteral('()')).toEqual([]);
    expect(parsePythonLiteral("{'k': [None]}")).toEqual({ kind: 'dict', entries: [['k', [null]]] });
    expect(parsePythonLiteral("collections.OrderedDict([('a', 1)])")).toEqual({ kind: 'call', callee: 'collections.OrderedDict', args: [[['a', 1]]] });
    expect(parsePythonLiteral('some_name')).toEqual({ kind: 'name', name: 'some_name' });
  });

  it('returns undefined for broken input', () => {
    for (const bad of ['', "'open", '[1, 2', '{1: }', '1 2', '@', '-', "'a\nb'", '"\\x4"']) {
      expect(parsePythonLiteral(bad)).toBeUndefined();
    }
  });
});

describe('pythonModuleAssignments / pythonMappingEntries', () => {
  it('collects top-level literal assignments only', () => {
    const src = "a = 1\nb: int = 2\n  c = 3\nd = f(x)\nif a == 1:\n    e = 4\nb = 'last'\n";
    const got = pythonModuleAssignments(src);
    expect([...got.keys()]).toEqual(['a', 'b', 'd']);
    expect(got.get('b')).toBe('last');
  });

  it('turns dicts, OrderedDict calls and pair lists into entries', () => {
    expect(pythonMappingEntries(parsePythonLiteral("{'a': 1}"))).toEqual([['a', 1]]);
    expect(pythonMappingEntries(parsePythonLiteral("dict([('a', 1)])"))).toEqual([['a', 1]]);
    expect(pythonMappingEntries(parsePythonLiteral('OrderedDict()'))).toEqual([]);
    expect(pythonMappingEntries(parsePythonLiteral('[1, 2]'))).toBeNull();
    expect(pythonMappingEntries(parsePythonLiteral('Counter([])'))).toBeNull();
    expect(pythonMappingEntries(undefined)).toBeNull();
    expect(pythonMappingEntries('x')).toBeNull();
  });
});
