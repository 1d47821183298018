#!/usr/bin/env node
// Benchmarks of `snapshot compare`, each beside a baseline measured in the same run:
//   npy      two 1 GiB float32 arrays, against `cmp`
//   metrics  metrics JSON of 1M and 20M numbers, against `python -c "json.load"` on both files
//   outputs  10,000 small outputs (JSON, CSV, text, bytes; 1% of them changed), against `diff -r`
//
//   npm run bench:compare
//   node bench/compare.js --runs 5 --size-mib 256 --python /path/to/python --only metrics,outputs
//
// Files are generated once into .cache/bench-compare/<N>MiB/ with NumPy (through open_memmap, in
// chunks: never a whole array in Python memory) and reused. The CLI runs from dist/ (built
// with `npx tsc -p tsconfig.json` when missing) in its own node process, timed from outside, with
// peak RSS from /usr/bin/time -f %M.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const runs = Number(opt('runs', '3'));
const only = new Set(opt('only', 'npy,metrics,outputs').split(','));
const sizeMiB = Number(opt('size-mib', '1024'));
const python = opt('python', join(root, '.cache/envs/tf221/bin/python'));
const dataDir = join(root, '.cache/bench-compare', `${sizeMiB}MiB`);
const elements = (sizeMiB * 1024 * 1024) / 4;
const files = { base: join(dataDir, 'base.npy'), same: join(dataDir, 'same.npy'), noisy: join(dataDir, 'noisy.npy') };

function sh(cmd, cmdArgs, options = {}) {
  const r = spawnSync(cmd, cmdArgs, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.error) throw r.error;
  return r;
}

function generate() {
  const expectedSize = elements * 4 + 128;
  if (Object.values(files).every((f) => existsSync(f) && statSync(f).size === expectedSize)) return;
  if (!existsSync(python)) throw new Error(`no python with numpy at ${python} (run npm run test:setup, or pass --python)`);
  mkdirSync(dataDir, { recursive: true });
  console.error(`generating ${sizeMiB} MiB float32 arrays in ${dataDir} ...`);
  const script = `
import shutil, sys, numpy as np
from numpy.lib.format import open_memmap
n, base, same, noisy = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rng = np.random.default_rng(2024)
step = 16 * 1024 * 1024
a = open_memmap(base, mode='w+', dtype='<f4', shape=(n,))
for i in range(0, n, step):
    a[i:i + step] = rng.standard_normal(min(step, n - i), dtype=np.float32)
a.flush(); del a
shutil.copyfile(base, same)
a = open_memmap(base, mode='r')
b = open_memmap(noisy, mode='w+', dtype='<f4', shape=(n,))
for i in range(0, n, step):
    c = np.array(a[i:i + step])
    idx = rng.choice(len(c), size=len(c) // 1000, replace=False)   # 0.1% of the elements
    c[idx] = np.nextafter(c[idx], np.float32(np.inf))             # one ulp: ~1e-7 relative
    b[i:i + step] = c
b.flush()
`;
  const r = sh(python, ['-c', script, String(elements), files.base, files.same, files.noisy], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('generation failed');
}

function warm(paths) {
  const buf = Buffer.alloc(8 * 1024 * 1024);
  for (const p of paths) {
    const fd = openSync(p, 'r');
    while (readSync(fd, buf, 0, buf.length, null) > 0);
    closeSync(fd);
  }
}

// The whole CLI is timed, start-up included, as a user runs it: `snapshot compare A B --json`.
const CLI = join(root, 'bin', 'run.js');
const policyDir = mkdtempSync(join(tmpdir(), 'snapshot-bench-compare-'));
const ALLCLOSE_POLICY = join(policyDir, 'allclose.yaml');
writeFileSync(ALLCLOSE_POLICY, 'version: 1\ndefault:\n  mode: allclose\n  rtol: 0\n  atol: 1.0e-6\n');
process.on('exit', () => rmSync(policyDir, { recursive: true, force: true }));

/** The verdict and the tensor line of one `snapshot compare --json` run. */
function summaryOf(stdout) {
  const report = JSON.parse(stdout).result;
  const t = report.outputs[0].tensors?.[0] ?? {};
  return { verdict: report.verdict, status: t.status, mismatched: t.mismatched, max_abs_diff: t.max_abs_diff, message: t.message };
}

/** Wall seconds and peak RSS (KiB) of one command, measured by /usr/bin/time. */
function timed(cmd, cmdArgs) {
  const t0 = process.hrtime.bigint();
  const r = sh('/usr/bin/time', ['-f', 'RSS_KIB=%M', cmd, ...cmdArgs]);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const rss = Number(/RSS_KIB=(\d+)/.exec(r.stderr)?.[1] ?? NaN);
  return { wall, rss, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

const row = (what, ours, base, ratio, target, ok) => `| ${what} | ${ours} | ${base} | ${ratio} | ${target} | ${ok} |`;

/** Runs the cases `runs` times after a warm-up, interleaved; returns the median wall and the largest RSS of each. */
function measure(cases, check) {
  const walls = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const rss = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let round = 0; round <= runs; round++) {
    for (const [name, run] of Object.entries(cases)) {
      const r = run();
      check(name, r);
      if (round > 0) {
        walls[name].push(r.wall);
        rss[name].push(r.rss);
      }
    }
  }
  return Object.fromEntries(Object.keys(cases).map((k) => [k, { wall: median(walls[k]), rss: Math.max(...rss[k]) / 1024, samples: walls[k] }]));
}

function generateMetrics(dir) {
  const sizes = { '1M': 1_000_000, '20M': 20_000_000 };
  const paths = {};
  for (const [label, n] of Object.entries(sizes)) {
    const a = join(dir, `metrics-${label}.a.json`);
    const b = join(dir, `metrics-${label}.b.json`);
    paths[label] = { a, b, n };
    if (existsSync(a) && existsSync(b)) continue;
    console.error(`generating metrics JSON of ${label} numbers ...`);
    // Six significant digits, as a float32 history prints: about 9 bytes a number.
    const script = `
import json, sys, numpy as np
n, a, b = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = np.random.default_rng(1)
v = [round(float(x), 6) for x in rng.random(n)]
json.dump({'history': {'loss': v}}, open(a, 'w'))
v[n // 2] += 0.5
json.dump({'history': {'loss': v}}, open(b, 'w'))
`;
    const r = sh(python, ['-c', script, String(n), a, b], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error('generation failed');
  }
  const tiny = { a: join(dir, 'tiny.a.json'), b: join(dir, 'tiny.b.json') };
  writeFileSync(tiny.a, '{"loss": [0.5]}');
  writeFileSync(tiny.b, '{"loss": [0.5]}');
  return { paths, tiny };
}

function benchMetrics() {
  const dir = join(root, '.cache/bench-compare/metrics');
  mkdirSync(dir, { recursive: true });
  const { paths, tiny } = generateMetrics(dir);
  const lines = [];
  const idle = measure({ tiny: () => timed(process.execPath, [CLI, 'compare', tiny.a, tiny.b, '--json']) }, () => undefined).tiny;
  for (const [label, { a, b, n }] of Object.entries(paths)) {
    warm([a, b]);
    const size = statSync(a).size;
    const results = measure(
      {
        python: () => timed(python, ['-c', 'import json, sys; json.load(open(sys.argv[1])); json.load(open(sys.argv[2]))', a, b]),
        ours: () => timed(process.execPath, [CLI, 'compare', a, b, '--json']),
      },
      (name, r) => {
        if (name === 'python' && r.status !== 0) throw new Error(`python json.load failed: ${r.stderr}`);
        if (name === 'ours') {
          const report = JSON.parse(r.stdout).result;
          if (report.verdict !== 'different' || !/1 of \d+ values differ/.test(report.outputs[0].message ?? '')) throw new Error(`metrics compare said ${JSON.stringify(report.outputs[0]).slice(0, 300)}`);
        }
      },
    );
    const ratio = results.ours.wall / results.python.wall;
    const growth = results.ours.rss - idle.rss;
    const sizeMiB = size / 1024 / 1024;
    lines.push(row(`metrics JSON, ${label} numbers (${sizeMiB.toFixed(0)} MiB a file) vs python json.load of both`, `${results.ours.wall.toFixed(2)} s`, `${results.python.wall.toFixed(2)} s`, ratio.toFixed(2), '≤ 3', ratio <= 3 ? 'PASS' : 'FAIL'));
    lines.push(row(`memory, ${label}: peak RSS over an idle compare (${idle.rss.toFixed(0)} MiB) vs the file size`, `+${growth.toFixed(1)} MiB`, `${sizeMiB.toFixed(0)} MiB`, (growth / sizeMiB).toFixed(2), '< 2', growth / sizeMiB < 2 ? 'PASS' : 'FAIL'));
    lines.push(row(`memory, ${label}: python json.load (information)`, '—', `${results.python.rss.toFixed(0)} MiB`, '—', '—', 'info'));
    void n;
  }
  return lines;
}

function generateOutputs(dir) {
  if (existsSync(join(dir, 'done'))) return;
  console.error('generating 10,000 small outputs ...');
  const script = `
import json, os, sys
root = sys.argv[1]
for side in 'ab':
    for i in range(10000):
        d = os.path.join(root, side, 'd%02d' % (i % 100))
        os.makedirs(d, exist_ok=True)
        changed = side == 'b' and i % 100 == 7
        kind = ('json', 'csv', 'txt', 'bin')[i % 4]
        p = os.path.join(d, 'out%05d.%s' % (i, kind))
        if kind == 'json':
            json.dump({'loss': [0.5, 0.4 + (0.01 if changed else 0)], 'step': i}, open(p, 'w'))
        elif kind == 'csv':
            open(p, 'w').write('epoch,loss\\n0,0.5\\n1,%s\\n' % ('0.41' if changed else '0.4'))
        elif kind == 'txt':
            open(p, 'w').write('run %d finished%s\\n' % (i, ' late' if changed else ''))
        else:
            open(p, 'wb').write(bytes([i % 256]) * 300 + (b'x' if changed else b''))
open(os.path.join(root, 'done'), 'w').write('')
`;
  const r = sh(python, ['-c', script, dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('generation failed');
}

function benchOutputs() {
  const dir = join(root, '.cache/bench-compare/outputs');
  mkdirSync(dir, { recursive: true });
  generateOutputs(dir);
  const [a, b] = [join(dir, 'a'), join(dir, 'b')];
  // Read every file once, so both tools see a warm page cache.
  sh('cat', ['/dev/null']);
  sh('sh', ['-c', `find ${a} ${b} -type f -exec cat {} + > /dev/null`]);
  const results = measure(
    {
      diff: () => timed('diff', ['-r', a, b]),
      ours: () => timed(process.execPath, [CLI, 'compare', a, b, '--json']),
    },
    (name, r) => {
      if (name === 'diff' && r.status !== 1) throw new Error(`diff -r found no difference (exit ${r.status})`);
      if (name === 'ours') {
        const report = JSON.parse(r.stdout).result;
        if (report.summary.outputs !== 10000 || report.summary.different !== 100) throw new Error(`outputs compare said ${JSON.stringify(report.summary)}`);
      }
    },
  );
  const ratio = results.ours.wall / results.diff.wall;
  return [row('10,000 small outputs (100 changed) vs `diff -r`', `${results.ours.wall.toFixed(3)} s`, `${results.diff.wall.toFixed(3)} s`, ratio.toFixed(2), '≤ 5', ratio <= 5 ? 'PASS' : 'FAIL')];
}

function main() {
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is required (apt-get install time)');
  if (!existsSync(join(root, 'dist/commands/compare.js'))) {
    console.error('building dist/ ...');
    sh('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  }
  const cpu = (/model name\s*:\s*(.*)/.exec(sh('cat', ['/proc/cpuinfo']).stdout)?.[1] ?? '?').trim();
  const extra = [];
  if (only.has('metrics')) extra.push(...benchMetrics());
  if (only.has('outputs')) extra.push(...benchOutputs());
  if (!only.has('npy')) {
    console.log(`\nnproc ${sh('nproc', []).stdout.trim()}, ${cpu}, Node ${process.versions.node}, median of ${runs}\n`);
    console.log('| measurement | snapshot | baseline | ratio | target | result |');
    console.log('|---|---|---|---|---|---|');
    for (const line of extra) console.log(line);
    return;
  }
  generate();
  warm(Object.values(files));
  const cases = {
    cmpSame: () => timed('cmp', [files.base, files.same]),
    oursBitwise: () => timed(process.execPath, [CLI, 'compare', files.base, files.same, '--json']),
    oursAllclose: () => timed(process.execPath, [CLI, 'compare', files.base, files.noisy, '--policy', ALLCLOSE_POLICY, '--json']),
  };
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const rss = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  let lastOut = {};
  // One warm-up round, then `runs` interleaved rounds.
  for (let round = 0; round <= runs; round++) {
    for (const [name, run] of Object.entries(cases)) {
      const r = run();
      if (name === 'cmpSame' && r.status !== 0) throw new Error(`cmp found the identical pair different: ${r.stdout}`);
      if (name !== 'cmpSame') {
        if (r.status !== 0) throw new Error(`${name} failed (exit ${r.status}): ${r.stderr}`);
        lastOut[name] = summaryOf(r.stdout);
      }
      if (round > 0) {
        samples[name].push(r.wall);
        rss[name].push(r.rss);
      }
    }
  }
  if (lastOut.oursBitwise.status !== 'identical') throw new Error(`bitwise compare of identical files said ${JSON.stringify(lastOut.oursBitwise)}`);
  if (lastOut.oursAllclose.status !== 'equivalent') throw new Error(`allclose compare of the noisy pair said ${JSON.stringify(lastOut.oursAllclose)}`);

  const bytes = elements * 4 * 2; // both files are read
  const mbps = (s) => `${((bytes / s) / 1e6).toFixed(0)} MB/s`;
  const cmp = median(samples.cmpSame);
  const bit = median(samples.oursBitwise);
  const close = median(samples.oursAllclose);
  const peak = Math.max(...rss.oursBitwise, ...rss.oursAllclose) / 1024;
  console.log(`\nnproc ${sh('nproc', []).stdout.trim()}, ${cpu}, Node ${process.versions.node}, ${sizeMiB} MiB per file, median of ${runs} (samples in s below)\n`);
  console.log('| measurement | snapshot | baseline | ratio | target | result |');
  console.log('|---|---|---|---|---|---|');
  console.log(row('bitwise, identical pair vs `cmp` (same pair)', `${bit.toFixed(3)} s (${mbps(bit)})`, `${cmp.toFixed(3)} s (${mbps(cmp)})`, (cmp / bit).toFixed(2), '≥ 0.8', cmp / bit >= 0.8 ? 'PASS' : 'FAIL'));
  console.log(
    row('allclose atol 1e-6, 0.1% noisy pair vs `cmp` (identical pair)', `${close.toFixed(3)} s (${mbps(close)})`, `${cmp.toFixed(3)} s (${mbps(cmp)})`, (cmp / close).toFixed(2), '≥ 0.5', cmp / close >= 0.5 ? 'PASS' : 'FAIL'),
  );
  console.log(row('peak RSS of the comparing process (largest of all runs)', `${peak.toFixed(1)} MiB`, '—', '—', '< 300 MB', peak * 1.048576 < 300 ? 'PASS' : 'FAIL'));
  for (const line of extra) console.log(line);
  console.log('\nsamples:', JSON.stringify(samples));
  console.log('results:', JSON.stringify(lastOut));
}

main();
