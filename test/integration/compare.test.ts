// `snapshot compare` through the built CLI on real training outputs: the seeded Keras example
// trained twice with one seed and once with another, plus crafted damage, in a real TF venv.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, repoRoot, runCli, tfPython } from '../helpers/cli.js';

let work: string;
const train = join(repoRoot, 'examples', 'keras-tiny', 'train.py');
const env = { ...process.env, PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: '0', TF_CPP_MIN_LOG_LEVEL: '3' };

function trainInto(dir: string, seed: number): void {
  execFileSync(tfPython, [train, '--out', dir, '--seed', String(seed), '--epochs', '2', '--legacy-h5'], { env, stdio: 'ignore' });
}

function python(code: string): string {
  return execFileSync(tfPython, ['-c', code], { env, encoding: 'utf8' });
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'snapshot-compare-'));
  trainInto(join(work, 'a'), 42);
  trainInto(join(work, 'b'), 42);
  trainInto(join(work, 'c'), 7);
  // d: the same outputs as a, with noise of 1e-7 added to the predictions.
  cpSync(join(work, 'a'), join(work, 'd'), { recursive: true });
  python(`import numpy as np; p='${join(work, 'd', 'predictions.npy')}'; x=np.load(p); np.save(p, x + np.float32(1e-7) * np.where(np.arange(x.size).reshape(x.shape) % 2 == 0, 1, -1).astype(x.dtype))`);
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('real Keras outputs', () => {
  it('two trainings with the same seed are identical, although the .keras files differ in bytes', async () => {
    expect(readFileSync(join(work, 'a', 'model.keras'))).not.toEqual(readFileSync(join(work, 'b', 'model.keras')));
    const r = await runCli(['compare', join(work, 'a'), join(work, 'b'), '--json'], { cwd: work });
    expect(r.exitCode).toBe(0);
    expect(r.json.status).toBe(0);
    const report = r.json.result;
    expect(report.verdict).toBe('identical');
    expect(report.summary).toMatchObject({ outputs: 5, identical: 5, different: 0 });
    const keras = report.outputs.find((o: { path: string }) => o.path === 'model.keras');
    expect(keras.status).toBe('identical');
    expect(keras.ignored.join(' ')).toMatch(/date_saved/);
  });

  it('another seed is different, and the tensors that differ are named', async () => {
    const r = await runCli(['compare', join(work, 'a'), join(work, 'c'), '--json'], { cwd: work });
    expect(r.exitCode).toBe(1);
    expect(r.json.status).toBe(1);
    const report = r.json.result;
    expect(report.verdict).toBe('different');
    const weights = report.outputs.find((o: { path: string }) => o.path === 'model.weights.h5');
    expect(weights.status).toBe('different');
    const differing = weights.tensors.filter((t: { status: string }) => t.status === 'different');
    expect(differing.length).toBeGreaterThan(0);
    expect(differing[0].name).toMatch(/dense/);
    expect(differing[0].max_abs_diff).toBeGreaterThan(0);
    expect(differing[0].first_mismatch).not.toBeNull();
    const legacy = report.outputs.find((o: { path: string }) => o.path === 'model.h5');
    expect(legacy.status).toBe('different');
    const metrics = report.outputs.find((o: { path: string }) => o.path === 'metrics.json');
    expect(metrics.status).toBe('different');
    expect(metrics.metrics.some((m: { key: string }) => m.key.startsWith('loss.'))).toBe(true);
  });

  it('noise of 1e-7 is different bitwise and equivalent under allclose atol 1e-6', async () => {
    const bitwise = await runCli(['compare', join(work, 'a'), join(work, 'd'), '--json'], { cwd: work });
    expect(bitwise.json.result.verdict).toBe('different');
    const predictions = bitwise.json.result.outputs.find((o: { path: string }) => o.path === 'predictions.npy');
    expect(predictions.status).toBe('different');
    expect(predictions.tensors[0].mismatched).toBe(64);
    expect(predictions.tensors[0].max_abs_diff).toBeGreaterThan(0);
    expect(predictions.tensors[0].max_abs_diff).toBeLessThan(1e-6);

    const policy = join(work, 'allclose.yaml');
    writeFileSync(policy, 'version: 1\nrules:\n  - match: "*.npy"\n    mode: allclose\n    atol: 1.0e-6\n    rtol: 0\n');
    const close = await runCli(['compare', join(work, 'a'), join(work, 'd'), '--policy', policy, '--json'], { cwd: work });
    expect(close.exitCode).toBe(0);
    expect(close.json.result.verdict).toBe('equivalent');
    const p = close.json.result.outputs.find((o: { path: string }) => o.path === 'predictions.npy');
    expect(p.status).toBe('equivalent');
    expect(p.tensors[0].tolerance).toMatchObject({ mode: 'allclose', atol: 1e-6, rtol: 0 });
  });

  it('writes JUnit XML and a Markdown summary, and a readable table', async () => {
    const junit = join(work, 'report.xml');
    const markdown = join(work, 'summary.md');
    const r = await runCli(['compare', join(work, 'a'), join(work, 'c'), '--junit', junit, '--markdown', markdown], { cwd: work });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/different/);
    expect(r.stdout).toMatch(/model\.weights\.h5/);
    expect(r.stdout.includes('\u001b[')).toBe(false); // no colour when stdout is not a terminal
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuite[^>]*tests="5"/);
    expect(xml).toMatch(/<failure/);
    expect(readFileSync(markdown, 'utf8')).toMatch(/different/i);
  });

  it('appends to the GitHub job summary instead of replacing what other steps wrote', async () => {
    const summary = join(work, 'step-summary.md');
    writeFileSync(summary, '## Build\nearlier step\n');
    const r = await runCli(['compare', join(work, 'a'), join(work, 'b'), '--markdown', summary], { cwd: work, env: { GITHUB_STEP_SUMMARY: summary } });
    expect(r.exitCode).toBe(0);
    const text = readFileSync(summary, 'utf8');
    expect(text.startsWith('## Build\nearlier step\n')).toBe(true);
    expect(text).toMatch(/identical/);
  });

  it('uses the baseline a capture kept when BASELINE is a snapshot file', async () => {
    const project = join(work, 'project');
    cpSync(join(repoRoot, 'examples', 'keras-tiny'), project, { recursive: true });
    const captured = await runCli(['capture', '--python', tfPython, '--run', 'python train.py --out out --epochs 2 --seed 42', '--outputs', 'out'], {
      cwd: project,
      env: cleanEnv({ PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: '0' }),
      timeoutMs: 180_000,
    });
    expect(captured.exitCode).toBe(0);
    const r = await runCli(['compare', 'snapshot.yaml', join(work, 'b'), '--json'], { cwd: project });
    expect(r.json.result.baseline).toBe(join(project, 'snapshot.bundle', 'baseline'));
    // b also has model.h5, which the capture's run did not write: reported as extra, not failed.
    expect(r.json.result.summary).toMatchObject({ identical: 4, extra: 1 });
    expect(r.json.result.verdict).toBe('identical');
    // A baseline file edited after capture is flagged.
    writeFileSync(join(project, 'snapshot.bundle', 'baseline', 'metrics.json'), '{}');
    const edited = await runCli(['compare', 'snapshot.yaml', join(work, 'b'), '--json'], { cwd: project });
    expect(edited.json.warnings.join('\n')).toMatch(/metrics\.json has changed since capture/);
  }, 240_000);
});

describe('bad input: a clear message naming the file, and every other output still judged', () => {
  let base: string;
  let cand: string;

  beforeAll(() => {
    base = join(work, 'bad-base');
    cand = join(work, 'bad-cand');
    cpSync(join(work, 'a'), base, { recursive: true });
    cpSync(join(work, 'a'), cand, { recursive: true });
    // A truncated .npy, a corrupt zip, random bytes named .h5, NaNs on one side only.
    truncateSync(join(cand, 'predictions.npy'), 200);
    writeFileSync(join(cand, 'model.keras'), readFileSync(join(base, 'model.keras')).subarray(0, 500));
    writeFileSync(join(cand, 'model.h5'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256)));
    python(`import numpy as np; np.save('${join(base, 'nan.npy')}', np.array([1.0, 2.0, 3.0], dtype='float32')); np.save('${join(cand, 'nan.npy')}', np.array([1.0, float('nan'), 3.0], dtype='float32'))`);
    writeFileSync(join(work, 'outside.txt'), 'outside');
    symlinkSync(join(work, 'outside.txt'), join(cand, 'escape.txt'));
    writeFileSync(join(base, 'escape.txt'), 'inside');
  });

  it('reports each damaged output and still judges the others', async () => {
    const r = await runCli(['compare', base, cand, '--json'], { cwd: work });
    const byPath = Object.fromEntries(r.json.result.outputs.map((o: { path: string }) => [o.path, o]));
    expect(byPath['predictions.npy'].status).toBe('error');
    expect(byPath['predictions.npy'].tensors?.[0]?.message ?? byPath['predictions.npy'].message).toMatch(/truncated/i);
    expect(byPath['model.keras'].status).toBe('error');
    expect(byPath['model.keras'].message).toMatch(/zip/i);
    expect(byPath['model.h5'].status).toBe('error');
    expect(byPath['model.h5'].message).toMatch(/HDF5/i);
    expect(byPath['nan.npy'].status).toBe('different');
    expect(byPath['escape.txt'].status).toBe('error');
    expect(byPath['escape.txt'].message).toMatch(/outside the folder/);
    expect(byPath['metrics.json'].status).toBe('identical');
    expect(byPath['model.weights.h5'].status).toBe('identical');
    // A definite difference (nan.npy) outranks the errors.
    expect(r.json.result.verdict).toBe('different');
    expect(r.exitCode).toBe(1);
  });

  it('gives the error verdict and exit 7 when outputs cannot be judged and none differs', async () => {
    const only = join(work, 'only-corrupt');
    mkdirSync(join(only, 'b'), { recursive: true });
    cpSync(join(work, 'a', 'predictions.npy'), join(only, 'p.npy'));
    cpSync(join(work, 'a', 'predictions.npy'), join(only, 'b', 'p.npy'));
    truncateSync(join(only, 'b', 'p.npy'), 100);
    const r = await runCli(['compare', join(only, 'p.npy'), join(only, 'b', 'p.npy'), '--json'], { cwd: work });
    expect(r.exitCode).toBe(7);
    expect(r.json.result.verdict).toBe('error');
  });

  it('refuses a policy with a typo, naming the key, with exit 3', async () => {
    const policy = join(work, 'typo.yaml');
    writeFileSync(policy, 'version: 1\nrules:\n  - match: "*.npy"\n    atoll: 1.0e-6\n');
    const r = await runCli(['compare', join(work, 'a'), join(work, 'b'), '--policy', policy], { cwd: work });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/rules\.0: unknown field 'atoll'/);
  });

  it('reports two files of different kinds as an error', async () => {
    const r = await runCli(['compare', join(work, 'a', 'predictions.npy'), join(work, 'a', 'model.weights.h5'), '--json'], { cwd: work });
    expect(r.exitCode).toBe(7);
    expect(r.json.result.outputs[0].message).toMatch(/different kinds \(\.npy vs \.h5\)/);
  });

  it('says what is wrong with empty folders and missing paths', async () => {
    mkdirSync(join(work, 'empty1'));
    mkdirSync(join(work, 'empty2'));
    const empty = await runCli(['compare', join(work, 'empty1'), join(work, 'empty2'), '--json'], { cwd: work });
    expect(empty.exitCode).toBe(7);
    expect(empty.json.warnings.join('\n')).toMatch(/has no outputs/);
    const missingOutputs = await runCli(['compare', join(work, 'a'), join(work, 'empty2'), '--json'], { cwd: work });
    expect(missingOutputs.exitCode).toBe(1);
    expect(missingOutputs.json.result.summary.missing).toBe(5);
    const nope = await runCli(['compare', join(work, 'nope'), join(work, 'b')], { cwd: work });
    expect(nope.exitCode).toBe(3);
    expect(nope.stderr).toMatch(/BASELINE .*nope: no such file or folder/);
    const mixed = await runCli(['compare', join(work, 'a'), join(work, 'a', 'metrics.json')], { cwd: work });
    expect(mixed.exitCode).toBe(3);
  });
});

describe('the shipped example policies', () => {
  it.each(['same-hardware', 'cross-gpu', 'gpu-vs-cpu'])('%s.yaml is valid and judges the same-seed outputs as not different', async (name) => {
    const r = await runCli(['compare', join(work, 'a'), join(work, 'b'), '--policy', join(repoRoot, 'examples', 'policies', `${name}.yaml`), '--json'], { cwd: work });
    expect(r.exitCode).toBe(0);
    expect(['identical', 'equivalent']).toContain(r.json.result.verdict);
  });
});

describe('found in review', () => {
  it('reports a corrupt .npz entry as an error instead of crashing while the other side is still opening', async () => {
    const dir = join(work, 'npz-crash');
    mkdirSync(join(dir, 'A'), { recursive: true });
    mkdirSync(join(dir, 'B'), { recursive: true });
    // The baseline's deflated entry is corrupt; the candidate's central directory is long, so the
    // baseline's error arrives before anyone reads from it.
    python(`
import numpy as np, zipfile, io
buf = io.BytesIO(); np.save(buf, np.arange(100000, dtype=np.float32)); data = buf.getvalue()
with zipfile.ZipFile('${join(dir, 'A', 'x.npz')}', 'w', zipfile.ZIP_DEFLATED) as z: z.writestr('a.npy', data)
raw = bytearray(open('${join(dir, 'A', 'x.npz')}', 'rb').read())
for i in range(45, 95): raw[i] = 0xff
open('${join(dir, 'A', 'x.npz')}', 'wb').write(raw)
with zipfile.ZipFile('${join(dir, 'B', 'x.npz')}', 'w', zipfile.ZIP_STORED) as z:
    z.writestr('a.npy', data)
    for i in range(50000): z.writestr('pad%d.txt' % i, b'')
`);
    const r = await runCli(['compare', join(dir, 'A'), join(dir, 'B'), '--json'], { cwd: dir });
    expect(r.exitCode).toBe(7);
    expect(r.json.result.outputs[0].status).toBe('error');
    expect(JSON.stringify(r.json.result.outputs[0])).toMatch(/cannot read entry a\.npy of zip archive .*A\/x\.npz/);
  }, 60_000);

  it('applies mode: ignore to two single files as it does in folders', async () => {
    const dir = join(work, 'ignore-files');
    mkdirSync(dir);
    writeFileSync(join(dir, 'one.log'), 'run 1\n');
    writeFileSync(join(dir, 'two.log'), 'run 2\n');
    writeFileSync(join(dir, 'ignore.yaml'), 'version: 1\ndefault:\n  mode: ignore\n');
    const r = await runCli(['compare', join(dir, 'one.log'), join(dir, 'two.log'), '--policy', join(dir, 'ignore.yaml'), '--json'], { cwd: dir });
    expect(r.json.result.outputs[0].status).toBe('ignored');
    expect(r.exitCode).toBe(7); // nothing was judged
  });

  it('reads a structured field named O as numbers, not as a pickled object array', async () => {
    const dir = join(work, 'structured-o');
    mkdirSync(dir);
    python(`import numpy as np; a = np.zeros(4, dtype=[('O', '<f4')]); np.save('${join(dir, 'a.npy')}', a); a['O'][2] = 1; np.save('${join(dir, 'b.npy')}', a)`);
    const r = await runCli(['compare', join(dir, 'a.npy'), join(dir, 'b.npy'), '--json'], { cwd: dir });
    const tensor = r.json.result.outputs[0].tensors[0];
    expect(tensor).toMatchObject({ status: 'different', mismatched: 1, first_mismatch: [2] });
  });

  it('treats an item only in the candidate the same way in .npz and metrics: not identical, not failed', async () => {
    const dir = join(work, 'extras');
    mkdirSync(join(dir, 'A'), { recursive: true });
    mkdirSync(join(dir, 'B'), { recursive: true });
    python(`import numpy as np; np.savez('${join(dir, 'A', 'x.npz')}', a=np.arange(3)); np.savez('${join(dir, 'B', 'x.npz')}', a=np.arange(3), b=np.arange(2))`);
    writeFileSync(join(dir, 'A', 'm.json'), '{"loss": 1.0}');
    writeFileSync(join(dir, 'B', 'm.json'), '{"loss": 1.0, "new_metric": 2.0}');
    const r = await runCli(['compare', join(dir, 'A'), join(dir, 'B'), '--json'], { cwd: dir });
    const status = Object.fromEntries(r.json.result.outputs.map((o: { path: string; status: string }) => [o.path, o.status]));
    expect(status).toEqual({ 'm.json': 'equivalent', 'x.npz': 'equivalent' });
    expect(r.json.result.verdict).toBe('equivalent');
  });
});
