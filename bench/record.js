#!/usr/bin/env node
// The recorder's cost, measured in one run beside its own baselines:
//   1. the Keras example (examples/keras-tiny/train.py) trained with and without the recorder on its
//      PYTHONPATH, the runs interleaved (plain, recorded, plain, recorded...) so machine drift hits
//      both alike. Target: at most 3% or 0.3 s over the training without it, whichever is larger.
//   2. the digest of a 1 GiB float32 array passed to fit: the recorder's digest_array beside a bare
//      hashlib.sha256 over the same bytes (the hash's own speed on this CPU), in the same process;
//      then Model.fit on that array for one step, with and without the recorder, with each
//      process's peak RSS: the recorder streams the array through the hash and never copies it.
//      Target: at least 1 GB/s, and no copy (peak RSS within 64 MiB of the run without it).
// A benchmark, not a test: it prints every sample and a summary table, and exits 0.
//   npm run build && npm run bench:record          (BENCH_RUNS=N, default 9; BENCH_ARRAY_MIB, default 1024)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const python = process.env.BENCH_PYTHON ?? join(root, '.cache', 'envs', 'tf221', 'bin', 'python');
const runs = Number(process.env.BENCH_RUNS ?? 9);
const arrayMib = Number(process.env.BENCH_ARRAY_MIB ?? 1024);
if (!existsSync(join(root, 'dist', 'core', 'recording.js'))) throw new Error('run `npm run build` first');
if (!existsSync(python)) throw new Error('run `npm run test:setup` first (the tf221 venv), or set BENCH_PYTHON');
const { withRecorder } = await import(join(root, 'dist', 'core', 'recording.js'));
const { RECORDER_DIR } = await import(join(root, 'dist', 'adapters', 'probes', 'recorder.js'));

const work = mkdtempSync(join(tmpdir(), 'bench-record-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const baseEnv = { ...process.env, CUDA_VISIBLE_DEVICES: '', TF_CPP_MIN_LOG_LEVEL: '3', PYTHONHASHSEED: '0', KERAS_HOME: join(work, 'keras-home') };
for (const key of ['VIRTUAL_ENV', 'PYTHONPATH', 'KERAS_BACKEND']) delete baseEnv[key];

function timed(args, env, cwd) {
  const started = process.hrtime.bigint();
  const ran = spawnSync(python, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (ran.status !== 0) throw new Error(`${python} ${args.join(' ')} failed (${ran.status}):\n${ran.stderr.slice(-3000)}`);
  return { ms, stdout: ran.stdout };
}

const DIGEST = `
import hashlib, json, resource, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
import _snapshot_recorder as recorder
n = int(sys.argv[2]) * 1024 * 1024 // 4
x = np.random.default_rng(0).standard_normal(n, dtype=np.float32).reshape(-1, 256)
out = {"bytes": int(x.nbytes)}
for round_ in range(3):
    t = time.perf_counter(); h = hashlib.sha256(); h.update(memoryview(x.reshape(-1).view(np.uint8))); bare = time.perf_counter() - t
    t = time.perf_counter(); d = recorder.digest_array(x); ours = time.perf_counter() - t
    assert d["sha256"] == h.hexdigest(), "the recorder's digest is not the sha256 of the array's bytes"
    out.setdefault("bare_s", []).append(bare); out.setdefault("recorder_s", []).append(ours)
print(json.dumps(out))
`;

const FIT = `
import json, os, resource, sys, time
import numpy as np, keras
n = int(sys.argv[1]) * 1024 * 1024 // 4
x = np.random.default_rng(0).standard_normal(n, dtype=np.float32).reshape(-1, 256)
y = np.zeros((x.shape[0],), dtype=np.float32)
model = keras.Sequential([keras.Input((256,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
model.fit(x, y, epochs=1, steps_per_epoch=1, batch_size=32, shuffle=False, verbose=0)
fit_s = time.perf_counter() - t
print(json.dumps({"fit_s": fit_s, "rss_before_kib": before, "rss_peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
`;

try {
  console.log(`# bench:record on ${cpus()[0]?.model ?? '?'} (${cpus().length} cores), ${python}`);
  const version = spawnSync(python, ['-c', 'import sys, numpy, tensorflow as tf, keras; print(sys.version.split()[0], "numpy", numpy.__version__, "tensorflow", tf.__version__, "keras", keras.__version__)'], { env: baseEnv, encoding: 'utf8' });
  console.log(`# ${version.stdout.trim()}`);

  // 1. The Keras example, with and without the recorder.
  const example = join(root, 'examples', 'keras-tiny');
  const train = (recorded, i) => {
    const out = join(work, `out-${recorded ? 'r' : 'p'}-${i}`);
    const record = join(work, `record-${i}.json`);
    const env = recorded ? withRecorder(baseEnv, RECORDER_DIR, record) : baseEnv;
    const result = timed(['train.py', '--out', out], env, example);
    if (recorded) {
      const fits = JSON.parse(readFileSync(record, 'utf8')).fits.length;
      if (fits !== 1) throw new Error(`the recorded run recorded ${fits} fits, not 1`);
    }
    return result.ms;
  };
  train(false, 'warm');
  train(true, 'warm');
  const plain = [];
  const recorded = [];
  for (let i = 0; i < runs; i += 1) {
    plain.push(train(false, i));
    recorded.push(train(true, i));
  }
  console.log('\n## 1. examples/keras-tiny/train.py, with and without the recorder (wall ms)');
  // On a shared machine the spread of one case is larger than the difference: the minimum is shown too.
  console.log(`  without: ${plain.map((x) => x.toFixed(0)).join(' ')}  median ${median(plain).toFixed(0)}, min ${Math.min(...plain).toFixed(0)}`);
  console.log(`  with:    ${recorded.map((x) => x.toFixed(0)).join(' ')}  median ${median(recorded).toFixed(0)}, min ${Math.min(...recorded).toFixed(0)}`);
  const overheadMs = median(recorded) - median(plain);
  const allowedMs = Math.max(0.03 * median(plain), 300);

  // 2. The digest of a big array, and fit on it.
  const digestScript = join(work, 'digest.py');
  writeFileSync(digestScript, DIGEST);
  const digest = JSON.parse(timed([digestScript, RECORDER_DIR, String(arrayMib)], baseEnv, work).stdout.trim().split('\n').pop());
  const gbps = (s) => digest.bytes / s / 1e9;
  console.log(`\n## 2. digest of a ${arrayMib} MiB float32 array (${digest.bytes} bytes), 3 rounds`);
  console.log(`  bare hashlib.sha256: ${digest.bare_s.map((s) => `${gbps(s).toFixed(2)} GB/s`).join(', ')}`);
  console.log(`  recorder digest_array: ${digest.recorder_s.map((s) => `${gbps(s).toFixed(2)} GB/s`).join(', ')}`);
  const fitScript = join(work, 'fit.py');
  writeFileSync(fitScript, FIT);
  const fitPlain = JSON.parse(timed([fitScript, String(arrayMib)], baseEnv, work).stdout.trim().split('\n').pop());
  const fitRecorded = JSON.parse(timed([fitScript, String(arrayMib)], withRecorder(baseEnv, RECORDER_DIR, join(work, 'fit-record.json')), work).stdout.trim().split('\n').pop());
  const fitRecord = JSON.parse(readFileSync(join(work, 'fit-record.json'), 'utf8'));
  const xDigest = fitRecord.fits[0]?.data?.x;
  if (xDigest?.kind !== 'array' || xDigest.bytes !== digest.bytes) throw new Error(`the recorded fit did not digest the array: ${JSON.stringify(xDigest)}`);
  console.log(`  fit, one step, without the recorder: ${fitPlain.fit_s.toFixed(2)} s, peak RSS ${(fitPlain.rss_peak_kib / 1024).toFixed(0)} MiB`);
  console.log(`  fit, one step, with the recorder:    ${fitRecorded.fit_s.toFixed(2)} s, peak RSS ${(fitRecorded.rss_peak_kib / 1024).toFixed(0)} MiB`);
  const rssDeltaMib = (fitRecorded.rss_peak_kib - fitPlain.rss_peak_kib) / 1024;
  const ours = gbps(median(digest.recorder_s));

  console.log('\n## Summary');
  console.log('| measurement | with the recorder | baseline | target | result |');
  console.log('|---|---|---|---|---|');
  console.log(`| keras-tiny training, min of ${runs} | ${Math.min(...recorded).toFixed(0)} ms | ${Math.min(...plain).toFixed(0)} ms without | +${allowedMs.toFixed(0)} ms at most | ${Math.min(...recorded) - Math.min(...plain) <= allowedMs ? 'met' : 'missed'} (${(Math.min(...recorded) - Math.min(...plain)).toFixed(0)} ms) |`);
  console.log(`| keras-tiny training, median of ${runs} | ${median(recorded).toFixed(0)} ms | ${median(plain).toFixed(0)} ms without | +${allowedMs.toFixed(0)} ms at most | ${overheadMs <= allowedMs ? 'met' : 'missed'} (${overheadMs >= 0 ? '+' : ''}${overheadMs.toFixed(0)} ms, ${((100 * overheadMs) / median(plain)).toFixed(1)}%) |`);
  console.log(`| digest of ${arrayMib} MiB | ${ours.toFixed(2)} GB/s | ${gbps(median(digest.bare_s)).toFixed(2)} GB/s bare sha256 | ≥ 1 GB/s | ${ours >= 1 ? 'met' : 'missed'} |`);
  console.log(`| fit on it, extra wall | ${(fitRecorded.fit_s - fitPlain.fit_s).toFixed(2)} s | ${fitPlain.fit_s.toFixed(2)} s fit without | ≈ the digest | info |`);
  console.log(`| fit on it, peak RSS | ${(fitRecorded.rss_peak_kib / 1024).toFixed(0)} MiB | ${(fitPlain.rss_peak_kib / 1024).toFixed(0)} MiB without | ≤ +64 MiB (no copy) | ${rssDeltaMib <= 64 ? 'met' : 'missed'} (${rssDeltaMib >= 0 ? '+' : ''}${rssDeltaMib.toFixed(0)} MiB) |`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
