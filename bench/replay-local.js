#!/usr/bin/env node
// The local engine's overhead: a warm `snapshot replay --engine local` (the venv already cached)
// beside running the same training directly in that venv with the same environment. Target: the
// replay costs at most 1 s more than the training itself. The saved-model reload check (which
// imports the framework again) is timed apart: the warm replay with and without --no-reload. A benchmark, not a test: it prints the
// figures (median of N runs each, N from BENCH_RUNS, default 3) and exits 0.
//   npm run build && node bench/replay-local.js
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'run.js');
const python = join(root, '.cache', 'envs', 'tf221', 'bin', 'python');
const runs = Number(process.env.BENCH_RUNS ?? 3);
const indexRoot = process.env.SNAPSHOT_TEST_INDEX_ROOT ?? '/opt/pypi';
if (!existsSync(join(root, 'dist', 'commands'))) throw new Error('run `npm run build` first');
if (!existsSync(python)) throw new Error('run `npm run test:setup` first (the tf221 venv)');

const work = mkdtempSync(join(tmpdir(), 'bench-replay-local-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const env = { ...process.env, XDG_CACHE_HOME: join(work, 'cache'), VIRTUAL_ENV: undefined, KERAS_HOME: undefined, KERAS_BACKEND: undefined };
for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];

async function main() {
  // The loopback index is served by another process: spawnSync below blocks this one.
  const probe = createServer();
  const port = await new Promise((ok) => probe.listen(0, '127.0.0.1', () => ok(probe.address().port)));
  await new Promise((ok) => probe.close(ok));
  const http = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', indexRoot], { stdio: 'ignore' });
  await new Promise((ok) => setTimeout(ok, 1000));
  try {
    const project = join(work, 'project');
    cpSync(join(root, 'examples', 'keras-tiny'), project, { recursive: true });
    const git = (...args) => execFileSync('git', ['-C', project, '-c', 'user.email=b@e', '-c', 'user.name=b', ...args]);
    git('init', '-q');
    writeFileSync(join(project, '.gitignore'), 'out/\n');
    git('add', '-A');
    git('commit', '-qm', 'bench');
    const cap = spawnSync(process.execPath, [bin, 'capture', '--python', python, '--data', 'data', '--run', 'python train.py --out out', '--outputs', 'out'], { cwd: project, env: { ...env, PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: '0' }, encoding: 'utf8' });
    if (cap.status !== 0) throw new Error(`capture failed: ${cap.stderr}`);
    git('add', '-A');
    git('commit', '-qm', 'snapshot');
    const index = `http://127.0.0.1:${port}/simple/`;
    const replay = (extra = []) => {
      const t = performance.now();
      const r = spawnSync(process.execPath, [bin, 'replay', 'snapshot.yaml', '--engine', 'local', '--pip-index-url', index, '--json', ...extra], { cwd: project, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
      const wall = performance.now() - t;
      const report = JSON.parse(r.stdout).result;
      if (report.verdict !== 'identical') throw new Error(`replay: ${report.verdict} ${report.conclusion}`);
      return { wall, report };
    };
    const cold = replay();
    process.stderr.write(`cold replay (venv built): ${(cold.wall / 1000).toFixed(1)} s\n`);
    const venv = cold.report.environment.facts.venv;
    const warm = [];
    const warmNoReload = [];
    const direct = [];
    let last = cold.report;
    for (let i = 0; i < runs; i++) {
      const w = replay();
      if (!w.report.environment.facts.venv_reused) throw new Error('the warm replay did not reuse the venv');
      warm.push(w.wall);
      last = w.report;
      // The saved-model reload check imports the framework (seconds): measured apart.
      warmNoReload.push(replay(['--no-reload']).wall);
      // The same training, run directly in the same venv, with the replay's environment.
      rmSync(join(project, 'out'), { recursive: true, force: true });
      const t = performance.now();
      const d = spawnSync(join(venv, 'bin', 'python'), ['train.py', '--out', 'out'], { cwd: project, env: { PATH: `${venv}/bin:/usr/bin:/bin`, HOME: env.HOME, VIRTUAL_ENV: venv, KERAS_HOME: join(work, 'kh'), ...last.environment.env }, encoding: 'utf8' });
      direct.push(performance.now() - t);
      if (d.status !== 0) throw new Error(`direct run failed: ${d.stderr}`);
    }
    const w = median(warm);
    const wn = median(warmNoReload);
    const d = median(direct);
    const durations = last.durations;
    const result = {
      runs,
      warm_replay_s: +(w / 1000).toFixed(2),
      direct_training_s: +(d / 1000).toFixed(2),
      overhead_s: +((w - d) / 1000).toFixed(2),
      warm_replay_no_reload_s: +(wn / 1000).toFixed(2),
      overhead_no_reload_s: +((wn - d) / 1000).toFixed(2),
      target_overhead_s: 1,
      last_replay_durations_ms: durations,
      cold_replay_s: +(cold.wall / 1000).toFixed(1),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    http.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
