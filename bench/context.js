#!/usr/bin/env node
// Benchmark of packing a build context (services/build-context.ts), beside `git archive` of the
// same tree, both measured in the same run:
//
//   npm run bench:context
//   node bench/context.js --files 10000 --size-mib 500 --runs 3
//
// It makes a git repository in a temporary folder: `--files` files in 100 folders, nine in ten
// thousand of them large (a few weights files) and the rest small, `--size-mib` in all, of
// pseudo-random bytes (incompressible, as weights are); commits it; then makes it dirty (edits,
// a new binary file) and writes the patch as capture does, so the patched-tree path is measured.
// Each run is its own process, timed from outside, with peak RSS from /usr/bin/time -f %M:
//   ours      buildContext() of a snapshot of that repository, pack() piped to /dev/null
//   baseline  git archive --format=tar <the same patched tree> > /dev/null
// Target: ours under 200 MB peak RSS. The folder is removed at exit.
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePackRepo, packScript, sh } from './lib/pack-repo.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const fileCount = Number(opt('files', '10000'));
const sizeMiB = Number(opt('size-mib', '500'));
const runs = Number(opt('runs', '3'));
const TARGET_RSS_MB = 200;

if (!existsSync(join(root, 'dist', 'services', 'build-context.js'))) {
  console.error('building dist/ first');
  sh('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
}

const work = mkdtempSync(join(tmpdir(), 'snapshot-bench-context-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

// ---------------------------------------------------------------------------------------------
// The repository

const repo = join(work, 'repo');
const { snapshotPath, tree, made } = makePackRepo({ root, work, repo, fileCount, sizeMiB, name: 'snapshot' });
console.error(`repository: ${made}`);
const script = packScript(root, snapshotPath);

// ---------------------------------------------------------------------------------------------
// The two cases, each a process of its own

function timed(cmd, cmdArgs, stdoutToNull) {
  const out = stdoutToNull ? openSync('/dev/null', 'w') : 'ignore';
  const started = process.hrtime.bigint();
  const r = sh('/usr/bin/time', ['-f', 'RSS_KIB=%M', cmd, ...cmdArgs], { stdio: ['ignore', out, 'pipe'], cwd: root });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (typeof out === 'number') closeSync(out);
  return { wall, rssMiB: Number(/RSS_KIB=(\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024, bytes: Number(/BYTES=(\d+)/.exec(r.stderr)?.[1] ?? NaN) };
}

const cases = {
  ours: () => timed(process.execPath, ['--input-type=module', '-e', script], false),
  'git archive': () => timed('git', ['-C', repo, 'archive', '--format=tar', tree], true),
};
// One warm-up each (page cache), then the cases interleaved so drift hits both alike.
for (const run of Object.values(cases)) run();
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < runs; i++) for (const [name, run] of Object.entries(cases)) samples[name].push(run());
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = (name) => ({ wall: median(samples[name].map((s) => s.wall)), rss: Math.max(...samples[name].map((s) => s.rssMiB)), walls: samples[name].map((s) => s.wall.toFixed(2)).join(' ') });
const ours = summary('ours');
const base = summary('git archive');
const bytes = samples.ours[0].bytes;

console.log(`\npacking a context of ${fileCount} files / ${sizeMiB} MiB (tar ${(bytes / 1048576).toFixed(1)} MiB), ${runs} runs, Node ${process.version}\n`);
console.log('| measurement | snapshot (buildContext + pack) | git archive of the same tree | ratio | target | result |');
console.log('|---|---|---|---|---|---|');
console.log(`| wall time (median; samples) | ${ours.wall.toFixed(2)} s (${ours.walls}) | ${base.wall.toFixed(2)} s (${base.walls}) | ${(ours.wall / base.wall).toFixed(2)} | info | info |`);
console.log(`| throughput | ${(bytes / 1048576 / ours.wall).toFixed(0)} MiB/s | ${(bytes / 1048576 / base.wall).toFixed(0)} MiB/s | — | — | info |`);
console.log(`| peak RSS (max of runs) | ${ours.rss.toFixed(1)} MiB | ${base.rss.toFixed(1)} MiB | — | < ${TARGET_RSS_MB} MB | ${ours.rss * 1.048576 < TARGET_RSS_MB ? 'PASS' : 'FAIL'} |`);
