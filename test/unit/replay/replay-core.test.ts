// The pure parts of replay: the snapshot diff and its severities, where paths go, the replay
// environment, the explanation of a verdict, and the host probe's untrusted answer.
import { describe, expect, it } from '@jest/globals';
import { extractMarked, parseHostProbe } from '../../../src/core/parse/host-probe.js';
import { parseEnvFlags, replayEnvironment } from '../../../src/core/replay/environment.js';
import { explain } from '../../../src/core/replay/explain.js';
import { checkInRepo, parseDataRoots, placeReplay } from '../../../src/core/replay/layout.js';
import { replayExitCode } from '../../../src/core/replay/report.js';
import { diffSnapshots } from '../../../src/core/snapshot-diff.js';
import type { Snapshot } from '../../../src/core/model.js';
import { makeSnapshot } from '../../helpers/snapshot-fixture.js';

const clone = (s: Snapshot): Snapshot => structuredClone(s);

describe('diffSnapshots', () => {
  it('finds nothing between a snapshot and itself', () => {
    expect(diffSnapshots(makeSnapshot(), makeSnapshot())).toEqual([]);
  });

  it('ranks what changes numerics first, and paths and host facts as info', () => {
    const a = makeSnapshot();
    const b = clone(a);
    b.python.executable = '/usr/local/bin/python';
    b.system.kernel = '6.1.0';
    b.frameworks.tensorflow = { ...(a.frameworks.tensorflow as NonNullable<Snapshot['frameworks']['tensorflow']>), version: '2.16.1' };
    b.gpu.devices = [{ ...(a.gpu.devices[0] as Snapshot['gpu']['devices'][number]), name: 'NVIDIA A100-SXM4-80GB', compute_capability: '8.0' }];
    b.determinism.env = { ...a.determinism.env, TF_ENABLE_ONEDNN_OPTS: '1' };
    const diff = diffSnapshots(a, b);
    expect(diff.map((d) => [d.field, d.severity])).toEqual([
      ['frameworks.tensorflow.version', 'high'],
      ['determinism.env.TF_ENABLE_ONEDNN_OPTS', 'high'],
      ['gpu.devices.compute_capability', 'high'],
      ['gpu.devices.name', 'medium'],
      ['python.executable', 'info'],
      ['system.kernel', 'info'],
    ]);
    expect(diff.find((d) => d.field === 'gpu.devices.compute_capability')).toMatchObject({ baseline: '9.0', replay: '8.0' });
  });

  it("compares the keras settings in effect: a keras.json holding the defaults is the same as none", () => {
    const a = makeSnapshot();
    const b = clone(a);
    a.frameworks.keras = { ...(a.frameworks.keras as NonNullable<Snapshot['frameworks']['keras']>), config: { backend: 'tensorflow', floatx: 'float32', epsilon: 1e-7, image_data_format: 'channels_last' } };
    expect(diffSnapshots(a, b)).toEqual([]);
    b.frameworks.keras = { ...(b.frameworks.keras as NonNullable<Snapshot['frameworks']['keras']>), config: { floatx: 'float16' } };
    expect(diffSnapshots(a, b).map((d) => [d.field, d.baseline, d.replay])).toEqual([['frameworks.keras.config.floatx', 'float32', 'float16']]);
  });

  it("a host-only variable (KERAS_HOME, CUDA_VISIBLE_DEVICES) and the installer's tooling are never causes", () => {
    const a = makeSnapshot();
    const b = clone(a);
    a.determinism.env = { KERAS_HOME: '/home/a/.keras', CUDA_VISIBLE_DEVICES: '0' };
    b.determinism.env = {};
    b.packages = [...b.packages, { ...(b.packages[1] as Snapshot['packages'][number]), name: 'setuptools', version: '75.0.0' }];
    expect(diffSnapshots(a, b).map((d) => [d.field, d.severity])).toEqual([
      ['packages.setuptools', 'low'],
      ['determinism.env.CUDA_VISIBLE_DEVICES', 'info'],
      ['determinism.env.KERAS_HOME', 'info'],
    ]);
  });

  it('compares package names as pip does, and notes one side missing', () => {
    const a = makeSnapshot();
    const b = clone(a);
    b.packages = b.packages.map((p) => (p.name === 'numpy' ? { ...p, name: 'NumPy', version: '2.0.0' } : p)).filter((p) => p.name !== 'mylib');
    const diff = diffSnapshots(a, b).filter((d) => d.category === 'package');
    expect(diff).toEqual([
      expect.objectContaining({ field: 'packages.numpy', severity: 'high', baseline: '1.26.4', replay: '2.0.0' }),
      expect.objectContaining({ field: 'packages.mylib', severity: 'medium', baseline: '0.1.0', replay: null, why: expect.stringMatching(/^missing in the replay/) }),
    ]);
  });

  it('a fact one side could not read is low, not a cause: an unreadable /proc/cpuinfo is no CPU change', () => {
    const a = makeSnapshot();
    const b = clone(a);
    b.system.cpu.flags = [];
    b.system.glibc = null;
    const diff = diffSnapshots(a, b);
    expect(diff.find((d) => d.field === 'system.cpu.flags')).toBeUndefined();
    expect(diff.find((d) => d.field === 'system.glibc')).toMatchObject({ severity: 'low', why: expect.stringContaining('unknown on one side') });
  });
});

describe('placeReplay', () => {
  it('places the working directory, outputs and data from where they sat in the repository', () => {
    const s = makeSnapshot();
    s.code = { ...(s.code as NonNullable<Snapshot['code']>), repo_root: '/work/project', in_repo: 'examples/mnist' };
    s.run = { ...(s.run as NonNullable<Snapshot['run']>), cwd: '/work/project/examples/mnist', cwd_in_repo: 'examples/mnist', outputs_dir: 'out', outputs_path: '/work/project/examples/mnist/out', outputs_in_repo: 'examples/mnist/out' };
    s.data = [
      { ...(s.data[0] as Snapshot['data'][number]), path: 'data', absolute: '/work/project/examples/mnist/data', in_repo: 'examples/mnist/data' },
      { ...(s.data[0] as Snapshot['data'][number]), path: '/datasets/imagenet', absolute: '/datasets/imagenet', in_repo: null },
      { ...(s.data[0] as Snapshot['data'][number]), path: '/datasets/coco/train', absolute: '/datasets/coco/train', in_repo: null },
    ];
    const layout = placeReplay(s, '/workspace/code', '/home/b/clone', parseDataRoots(['/datasets/coco=/mnt/coco'], '/'));
    expect(layout.workdir).toBe('/workspace/code/examples/mnist');
    expect(layout.outputsPath).toBe('/workspace/code/examples/mnist/out');
    expect(layout.data.map((d) => [d.source, d.target, d.how])).toEqual([
      ['/home/b/clone/examples/mnist/data', '/workspace/code/examples/mnist/data', 'in the repository'],
      ['/datasets/imagenet', '/datasets/imagenet', 'at its captured path'],
      ['/mnt/coco/train', '/datasets/coco/train', '--data-root /datasets/coco=/mnt/coco'],
    ]);
  });

  it('reads an older snapshot (no in-repo places) with the code folder as the root, and says so', () => {
    const s = makeSnapshot();
    s.code = { ...(s.code as NonNullable<Snapshot['code']>), repo_root: null, in_repo: null };
    s.run = { ...(s.run as NonNullable<Snapshot['run']>), cwd_in_repo: null, outputs_in_repo: null, outputs_path: '/work/project/outputs' };
    s.data = [];
    const layout = placeReplay(s, '/workspace/code', null, []);
    expect(layout).toMatchObject({ workdir: '/workspace/code', outputsPath: '/workspace/code/outputs' });
    expect(layout.warnings.join('\n')).toMatch(/older schema/);
  });

  it('refuses paths that leave the repository or carry control characters', () => {
    for (const bad of ['../x', 'a/../../x', '/etc', 'a\nb', 7]) expect(() => checkInRepo(bad, 'run.cwd_in_repo')).toThrow(/^run\.cwd_in_repo: /);
    expect(checkInRepo('a/./b/', 'f')).toBe('a/b');
    expect(() => parseDataRoots(['relative=/x'], '/')).toThrow(/--data-root relative=\/x: expected CAPTURED=HERE/);
    expect(() => parseDataRoots(['/x='], '/')).toThrow(/--data-root/);
  });
});

describe('the replay environment', () => {
  it('is the captured allowlisted variables minus host-only ones, the recipe, and --env; nothing else', () => {
    const s = makeSnapshot();
    s.determinism.env = { CUDA_VISIBLE_DEVICES: '0', PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: '0' };
    const env = replayEnvironment(s, 'cpu', parseEnvFlags(['SEED=3', 'TF_ENABLE_ONEDNN_OPTS=1']));
    expect(env.env).toEqual({ PYTHONHASHSEED: '0', SEED: '3', TF_ENABLE_ONEDNN_OPTS: '1' });
    expect(env.sources).toMatchObject({ SEED: '--env', TF_ENABLE_ONEDNN_OPTS: '--env', PYTHONHASHSEED: 'captured' });
  });

  it('refuses an --env that is not KEY=VALUE', () => {
    for (const bad of ['NOEQUALS', '=x', '1A=x', 'A B=x']) expect(() => parseEnvFlags([bad])).toThrow(/^--env .*expected KEY=VALUE/);
    expect(parseEnvFlags(['A=', 'B=x=y'])).toEqual({ A: '', B: 'x=y' });
  });
});

describe('explain and the exit code', () => {
  it('maps verdicts to exit codes: 0, 0, 1, and 6 or 7 for an error by its kind', () => {
    expect(replayExitCode('identical', null)).toBe(0);
    expect(replayExitCode('equivalent', null)).toBe(0);
    expect(replayExitCode('different', null)).toBe(1);
    const failure = { stage: 'prepare' as const, code: 'X', message: 'm', hint: null, log_tail: [] };
    expect(replayExitCode('error', { ...failure, kind: 'could-not-run' })).toBe(6);
    expect(replayExitCode('error', { ...failure, kind: 'not-judged' })).toBe(7);
  });

  it('puts a crossing of hardware classes first, and lists no causes for a reproduced result', () => {
    const s = makeSnapshot();
    const crossed = explain({ verdict: 'different', differences: [], snapshot: s, failure: null, hardwareCrossed: true, dataUnverified: false });
    expect(crossed.causes[0]?.message).toMatch(/crossed hardware classes/);
    const same = explain({ verdict: 'identical', differences: diffSnapshots(s, s), snapshot: s, failure: null, hardwareCrossed: false, dataUnverified: false });
    expect(same).toEqual({ causes: [], conclusion: 'the replay reproduced every output bit for bit' });
  });

  it("puts the baseline's own nondeterminism first, and says a deterministic one points at this environment", () => {
    const repeat = (verdict: 'deterministic' | 'nondeterministic'): NonNullable<Snapshot['run']>['repeat'] => ({
      runs: 2,
      policy: null,
      verdict,
      message: verdict === 'deterministic' ? 'every output bit-identical' : 'model.keras moved',
      moved: [],
      divergence: verdict === 'deterministic' ? null : { stage: 'initial_weights', message: 'the initial weights already differ' },
      explained_by: verdict === 'deterministic' ? [] : ['KERAS3_NO_PYTHON_SEED'],
      explain: null,
    });
    const made = makeSnapshot();
    // No untracked file at capture: nothing else to blame.
    const base: Snapshot = { ...made, code: made.code === null ? null : { ...made.code, git: made.code.git === null ? null : { ...made.code.git, untracked: [] } } };
    const withRepeat = (verdict: 'deterministic' | 'nondeterministic'): Snapshot => ({ ...base, run: { ...(base.run as NonNullable<Snapshot['run']>), repeat: repeat(verdict) } });
    const shaky = explain({ verdict: 'different', differences: [], snapshot: withRepeat('nondeterministic'), failure: null, hardwareCrossed: true, dataUnverified: false });
    expect(shaky.causes[0]).toMatchObject({ severity: 'high', field: 'run.repeat' });
    expect(shaky.causes[0]?.message).toMatch(/not deterministic where it was captured: 2 runs there already gave other outputs \(model\.keras moved\); explained by KERAS3_NO_PYTHON_SEED/);
    expect(shaky.conclusion).toMatch(/^most likely cause: the training is not deterministic/);
    const steady = explain({ verdict: 'different', differences: [], snapshot: withRepeat('deterministic'), failure: null, hardwareCrossed: false, dataUnverified: false });
    expect(steady.causes).toEqual([]);
    expect(steady.conclusion).toMatch(/gave the same outputs in 2 runs where it was captured/);
    const unknown = explain({ verdict: 'different', differences: [], snapshot: base, failure: null, hardwareCrossed: false, dataUnverified: false });
    expect(unknown.conclusion).toMatch(/capture it with --repeat 2/);
  });
});

describe("the host probe's answer", () => {
  it('is read between its markers, every field type-checked and capped', () => {
    const marked = `noise SNAP{"host_probe_version":1,"kernel":"6.1","arch":"x86_64","logicalCores":4,"totalMemoryBytes":1024,"cpuinfo":{"probe":{"status":"ok","duration_ms":1},"text":"flags : avx"},"dockerenv":true,"hostname":"h"}SNAP more`;
    const parsed = parseHostProbe(extractMarked(marked, 'SNAP'));
    expect(parsed?.raw).toMatchObject({ kernel: '6.1', arch: 'x86_64', logicalCores: 4, dockerenv: true, cpuinfo: { probe: { status: 'ok' }, text: 'flags : avx' } });
    expect(parsed?.hostname).toBe('h');
    // Missing and malformed parts become errored probes, never a crash.
    expect(parsed?.raw.nvcc.probe).toMatchObject({ status: 'error' });
    const hostile = parseHostProbe({ host_probe_version: 1, kernel: 42, logicalCores: -1, cpuinfo: { probe: { status: 'pwned' }, text: 'x'.repeat(5 * 1024 * 1024) } });
    expect(hostile?.raw).toMatchObject({ kernel: 'unknown', logicalCores: 0, cpuinfo: { probe: { status: 'error' } } });
    expect(hostile?.raw.cpuinfo.text?.length).toBe(4 * 1024 * 1024);
    expect(parseHostProbe({ host_probe_version: 2 })).toBeNull();
    expect(extractMarked('SNAP{not json}SNAP', 'SNAP')).toBeNull();
  });
});

describe('what the review found', () => {
  it('refuses credentials anywhere in a build argument, not only at its start', async () => {
    const { assertNoCredentials } = await import('../../../src/services/engines/docker.js');
    for (const value of ['https://u:p@mirror/simple', 'http://mirror/simple https://u:secret@private/simple', ' https://tok@x/simple', 'https://x/simple?token=abc', 'https://u:p@x/q@']) {
      expect(() => assertNoCredentials({ PIP_EXTRA_INDEX_URL: value })).toThrow(/carries credentials/);
    }
    expect(() => assertNoCredentials({ PIP_INDEX_URL: 'http://127.0.0.1:8080/simple/', HTTP_PROXY: 'http://proxy:3128' })).not.toThrow();
  });

  it('counts as written only what the container added or changed under the outputs folder', async () => {
    const { writtenUnder, parseEnvList } = await import('../../../src/services/engines/docker.js');
    const written = writtenUnder(
      [
        { path: '/workspace/code/out', kind: 'changed' },
        { path: '/workspace/code/out/metrics.json', kind: 'changed' },
        { path: '/workspace/code/out/new/preds.npy', kind: 'added' },
        { path: '/workspace/code/out/gone.txt', kind: 'deleted' },
        { path: '/workspace/code/outside.txt', kind: 'added' },
        { path: '/workspace/code/outputs-2/x', kind: 'added' },
      ],
      '/workspace/code/out',
    );
    expect([...written].sort()).toEqual(['metrics.json', 'new/preds.npy']);
    expect(parseEnvList(['A=1', 'PATH=/x:/y', 'B=', 'junk', '=nope', 'C=a=b'])).toEqual({ A: '1', PATH: '/x:/y', B: '', C: 'a=b' });
  });

  it('places an older snapshot in the subfolder --code names, and refuses outputs at a system folder', () => {
    const s = makeSnapshot();
    s.code = { ...(s.code as NonNullable<Snapshot['code']>), path: '/cap/repo/examples', repo_root: null, in_repo: null };
    s.run = { ...(s.run as NonNullable<Snapshot['run']>), cwd: '/cap/repo/examples', cwd_in_repo: null, outputs_dir: 'out', outputs_path: '/cap/repo/examples/out', outputs_in_repo: null };
    s.data = [];
    expect(placeReplay(s, '/workspace/code', '/clone', [], 'examples')).toMatchObject({ workdir: '/workspace/code/examples', outputsPath: '/workspace/code/examples/out' });
    expect(placeReplay(s, '/workspace/code', '/clone', []).warnings.join('\n')).toMatch(/pass --code CLONE\/SUBFOLDER/);
    for (const [outputs, path] of [['../../..', '/cap/out'], ['../../../usr', '/cap/out'], ['/etc', '/etc'], ['/', '/']]) {
      const bad = { ...s, run: { ...(s.run as NonNullable<Snapshot['run']>), outputs_dir: outputs as string, outputs_path: path as string } };
      expect(() => placeReplay(bad, '/workspace/code', '/clone', [], 'examples')).toThrow(/a system folder/);
    }
  });

  it('bounds what is collected well above the baseline', async () => {
    const { outputBounds } = await import('../../../src/services/replay.js');
    expect(outputBounds(makeSnapshot())).toEqual({ maxOutputBytes: 1024 ** 3, maxOutputFiles: 10_000 });
    const big = makeSnapshot();
    big.run = { ...(big.run as NonNullable<Snapshot['run']>), baseline: { dir: 'b', files: [{ path: 'w.h5', size: 2 * 1024 ** 3, sha256: 'a'.repeat(64), kind: 'h5' }] } };
    expect(outputBounds(big).maxOutputBytes).toBe(8 * 1024 ** 3);
  });
});
