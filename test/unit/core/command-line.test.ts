import { describe, expect, it } from '@jest/globals';
import { inlineAssignments } from '../../../src/core/command-line.js';

describe('inlineAssignments', () => {
  it('finds NAME=value before a command word, in every command of a line', () => {
    expect(inlineAssignments('API_TOKEN=abc FOO=1 python train.py')).toEqual(['API_TOKEN', 'FOO']);
    expect(inlineAssignments('cd src && SEED=3 python train.py; X=1 ls | Y=2 wc')).toEqual(['SEED', 'X', 'Y']);
  });

  it('does not take arguments or quoted text for assignments', () => {
    expect(inlineAssignments('python -c "print(1, flush=True)"')).toEqual([]);
    expect(inlineAssignments('echo a=b')).toEqual([]);
    expect(inlineAssignments('python train.py --lr=0.1 seed=3')).toEqual([]);
    expect(inlineAssignments("python -c 'import os; os.environ[\"A\"]=\"1\"'")).toEqual([]);
  });

  it('says nothing about a line it cannot tokenize', () => {
    expect(inlineAssignments('python "unterminated')).toEqual([]);
  });
});
