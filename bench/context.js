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
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

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

function sh(cmd, cmdArgs, options = {}) {
  const r = spawnSync(cmd, cmdArgs, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.error) throw r.error;
  if (r.status !== 0 && !options.allowFail) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r;
}

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
const git = (...a) => sh('git', ['-C', repo, '-c', 'user.email=b@example.com', '-c', 'user.name=bench', ...a]);
const totalBytes = sizeMiB * 1024 * 1024;
const largeCount = Math.max(1, Math.round(fileCount / 1000));
const smallCount = fileCount - largeCount;
// Four fifths of the bytes in the few large files, the rest spread over the small ones.
const smallBytes = Math.floor((totalBytes * 0.2) / smallCount);
const largeBytes = Math.floor((totalBytes - smallBytes * smallCount) / largeCount);

function generate() {
  const started = performance.now();
  mkdirSync(repo);
  git('init', '-q');
  for (let d = 0; d < 100; d++) mkdirSync(join(repo, `pkg${String(d).padStart(2, '0')}`));
  for (let i = 0; i < smallCount; i++) writeFileSync(join(repo, `pkg${String(i % 100).padStart(2, '0')}`, `m${i}.py`), randomBytes(smallBytes));
  mkdirSync(join(repo, 'weights'));
  for (let i = 0; i < largeCount; i++) {
    const fd = openSync(join(repo, 'weights', `w${i}.bin`), 'w');
    for (let left = largeBytes; left > 0; left -= 8 << 20) writeFileSync(fd, randomBytes(Math.min(left, 8 << 20)));
    closeSync(fd);
  }
  // Stored, not deflated: the bench measures packing, not how long git add takes to compress.
  git('-c', 'core.compression=0', '-c', 'core.looseCompression=0', 'add', '-A');
  git('commit', '-qm', 'bench');
  // Dirty, as a training run often is: edits, a new binary file, a chmod.
  for (let i = 0; i < 20; i++) writeFileSync(join(repo, `pkg${String(i).padStart(2, '0')}`, `m${i}.py`), `# edited ${i}\n`);
  writeFileSync(join(repo, 'weights', 'new.bin'), randomBytes(1 << 20));
  git('add', 'weights/new.bin');
  const bundle = join(work, 'snapshot.bundle');
  mkdirSync(bundle);
  const patchPath = join(bundle, 'code.patch');
  const fd = openSync(patchPath, 'w');
  sh('git', ['-C', repo, 'diff', 'HEAD', '--binary', '--no-color', '--no-ext-diff', '--no-textconv', '--no-relative', '--ignore-submodules=all', '--src-prefix=a/', '--dst-prefix=b/'], { stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  const patch = readFileSync(patchPath);
  const snapshot = YAML.parse(readFileSync(join(root, 'examples', 'snapshots', 'tf221-cpu.yaml'), 'utf8'));
  snapshot.code = {
    path: repo,
    git: {
      commit: git('rev-parse', 'HEAD').stdout.trim(),
      branch: null,
      remote_url: null,
      dirty: true,
      patch_file: 'snapshot.bundle/code.patch',
      patch_sha256: createHash('sha256').update(patch).digest('hex'),
      patch_size: patch.length,
      patch_error: null,
      staged: ['weights/new.bin'],
      untracked: [],
      submodules: [],
    },
  };
  writeFileSync(join(work, 'snapshot.yaml'), YAML.stringify(snapshot));
  // The same patched tree for the baseline, through a scratch index of the bench's own.
  const env = { ...process.env, GIT_INDEX_FILE: join(work, 'bench.index') };
  sh('git', ['-C', repo, 'read-tree', 'HEAD'], { env });
  sh('git', ['-C', repo, 'apply', '--cached', patchPath], { env });
  const tree = sh('git', ['-C', repo, 'write-tree'], { env }).stdout.trim();
  console.error(`repository: ${fileCount} files, ${sizeMiB} MiB (${largeCount} of ${(largeBytes / 1048576).toFixed(1)} MiB, ${smallCount} of ${(smallBytes / 1024).toFixed(1)} KiB), made in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return tree;
}

// ---------------------------------------------------------------------------------------------
// The two cases, each a process of its own

const packScript = `
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
const { buildContext } = await import(${JSON.stringify(join(root, 'dist', 'services', 'build-context.js'))});
const { readSnapshot } = await import(${JSON.stringify(join(root, 'dist', 'adapters', 'snapshot-file.js'))});
const path = ${JSON.stringify(join(work, 'snapshot.yaml'))};
const snapshot = await readSnapshot(path);
const context = await buildContext({ snapshot, snapshotPath: path, repoDir: snapshot.code.path, noCode: false, commitOnly: false, toolVersion: '0.1.0', timeoutMs: 600000 });
let bytes = 0;
const stream = context.pack();
stream.on('data', (chunk) => { bytes += chunk.length; });
await pipeline(stream, createWriteStream('/dev/null'));
await context.dispose();
process.stderr.write('BYTES=' + bytes + '\\n');
`;

function timed(cmd, cmdArgs, stdoutToNull) {
  const out = stdoutToNull ? openSync('/dev/null', 'w') : 'ignore';
  const started = process.hrtime.bigint();
  const r = sh('/usr/bin/time', ['-f', 'RSS_KIB=%M', cmd, ...cmdArgs], { stdio: ['ignore', out, 'pipe'], cwd: root });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (typeof out === 'number') closeSync(out);
  return { wall, rssMiB: Number(/RSS_KIB=(\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024, bytes: Number(/BYTES=(\d+)/.exec(r.stderr)?.[1] ?? NaN) };
}

const tree = generate();
const cases = {
  ours: () => timed(process.execPath, ['--input-type=module', '-e', packScript], false),
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
