#!/usr/bin/env node
// Benchmark of `snapshot build` / `snapshot replay` beside the docker CLI doing the same work,
// every figure measured in the same run:
//
//   npm run bench:replay
//   node bench/replay.js [--runs N] [--cold-runs N] [--code-runs N] [--pack-runs N] [--only cold,warm,code,run,pack]
//
//   cold  `snapshot build --no-cache` vs `docker build --no-cache` of the folder `snapshot dockerfile`
//         writes for the same snapshot and flags (TensorFlow installed from the loopback index)
//   warm  the same, cached: every step must come from the cache (median of --runs)
//   code  after a code-only change (a commit touching train.py, a new capture): each tool builds a
//         change of its own, so neither finds the other's new layers in the cache; the classic
//         builder's "Using cache" lines say which steps were rebuilt
//   run   `docker run --rm -v data:...:ro IMAGE sh -c "<captured command>"` vs the run_ms that
//         `snapshot replay --json` reports (result.durations.run_ms), same image
//   pack  buildContext() + pack() of a 10,000-file / 500 MiB repository vs `git archive` of the same
//         tree, with peak RSS from /usr/bin/time -f %M (the approach of bench/context.js)
//
// The project is examples/keras-tiny in a temporary git repository, captured with the TensorFlow
// 2.21 venv (.cache/envs/tf221, or --python). The engine builds on snapshot-test/debian:bookworm with
// the distribution's Python (--python-from apt) and pip from /opt/pypi, served on 127.0.0.1 by
// `python3 -m http.server`. Both tools use the classic builder (our engine adapter speaks the classic
// /build API; the CLI gets DOCKER_BUILDKIT=0), and both add one label step (ours: its managed and
// snapshot-id labels; the CLI's: dev.snapshot.bench=1). Wall time is hrtime around each process,
// node start-up included, as a user runs it. Every image this script builds is tagged
// snapshot-bench/replay:* and removed at exit by id (with the snapshot-replay:<id> tags our builds
// give); so is the temporary folder. The CLI's images carry dev.snapshot.bench=1; ours carry the
// product's own labels only (`snapshot build` takes no --label).
//
// How to read it: the engine, the page cache and the two cores are shared with whatever else runs
// on the machine; the load average is printed at start, at each cold build and at the end. A single
// cold pair is at the mercy of that load (the second build of a pair has been both the faster and
// the slower one); use --cold-runs 3 or more on a quiet machine before trusting a cold ratio.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { makePackRepo, packScript } from './lib/pack-repo.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(root, 'bin', 'run.js');
const BASE_IMAGE = process.env.SNAPSHOT_TEST_BASE_IMAGE ?? 'snapshot-test/debian:bookworm';
const INDEX_ROOT = process.env.SNAPSHOT_TEST_INDEX_ROOT ?? '/opt/pypi';
const BENCH_LABEL = 'dev.snapshot.bench=1';
const BENCH_REPO = 'snapshot-bench/replay';
const TARGET = { cold: 1.05, warm: 1.15, packRssMB: 200 };

// ---------------------------------------------------------------------------------------------
// Arguments

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const positive = (name, fallback) => {
  const n = Number(opt(name, fallback));
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
};
if (args.includes('-h') || args.includes('--help')) {
  process.stdout.write('Usage: node bench/replay.js [--runs N (5)] [--cold-runs N (1)] [--code-runs N (3)] [--pack-runs N (3)] [--only cold,warm,code,run,pack] [--python PATH] [--pack-files N] [--pack-size-mib N]\n');
  process.exit(0);
}
const runs = positive('runs', '5');
const coldRuns = positive('cold-runs', '1');
const codeRuns = positive('code-runs', '3');
const packRuns = positive('pack-runs', '3');
const packFiles = positive('pack-files', '10000');
const packSizeMiB = positive('pack-size-mib', '500');
const only = new Set(opt('only', 'cold,warm,code,run,pack').split(','));
for (const o of only) if (!['cold', 'warm', 'code', 'run', 'pack'].includes(o)) throw new Error(`--only takes cold, warm, code, run, pack (comma-separated), not ${o}`);
const python = resolve(opt('python', existsSync(join(root, '.cache/envs/tf221/bin/python')) ? join(root, '.cache/envs/tf221/bin/python') : '/work/main/.cache/envs/tf221/bin/python'));

// ---------------------------------------------------------------------------------------------
// Helpers

const log = (line) => process.stderr.write(`[bench] ${line}\n`);
const out = (line = '') => process.stdout.write(`${line}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const fmt = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const pf = (ok) => (ok ? 'PASS' : 'FAIL');
const samplesText = (xs) => `[${xs.map((x) => fmt(x, 2)).join(', ')}]`;

function sh(cmd, cmdArgs, options = {}) {
  const r = spawnSync(cmd, cmdArgs, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (r.error) throw r.error;
  if (r.status !== 0 && !options.allowFail) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed (${r.status}):\n${(r.stderr || r.stdout || '').slice(-3000)}`);
  return r;
}

/** Runs one process to its end, output collected; resolves { wall (s), status, stdout, stderr }. */
function timed(cmd, cmdArgs, options = {}) {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, cmdArgs, { cwd: options.cwd ?? root, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout = [];
    const stderr = [];
    // With options.stamp, the seconds since start at which each "Step n/m" marker arrived.
    const stamps = [];
    const stampOf = (c) => {
      if (!options.stamp) return;
      const at = Number(process.hrtime.bigint() - started) / 1e9;
      for (const m of c.toString('utf8').matchAll(/Step (\d+)\/\d+ : /g)) stamps.push({ step: Number(m[1]), at });
    };
    child.stdout.on('data', (c) => { stdout.push(c); stampOf(c); });
    child.stderr.on('data', (c) => { stderr.push(c); stampOf(c); });
    child.on('error', reject);
    child.on('close', (status) => {
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      const r = { wall, status, stamps, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
      if (status !== 0 && !options.allowFail) reject(new Error(`${cmd} ${cmdArgs.join(' ')} exited ${status}:\n${(r.stderr + r.stdout).slice(-4000)}`));
      else resolvePromise(r);
    });
  });
}

/**
 * The classic builder's steps, from its text output: each instruction and whether the engine took
 * it from its cache (" ---> Using cache"). FROM has no cache line of its own.
 */
function stepsOf(text) {
  return text
    .split(/^Step \d+\/\d+ : /m)
    .slice(1)
    .map((step) => ({ instruction: step.split('\n')[0].trim(), cached: /^ ---> Using cache\s*$/m.test(step) }));
}
/** Adds each step's seconds (from its marker to the next one's, the last to the process end). */
function withTimes(steps, r) {
  const at = new Map(r.stamps.map((x) => [x.step, x.at]));
  return steps.map((s, i) => ({ ...s, secs: (at.get(i + 2) ?? r.wall) - (at.get(i + 1) ?? NaN) }));
}
/** "name 12.3 s" for the n slowest steps of a build. */
const slowest = (steps, n = 3) => [...steps].sort((a, b) => b.secs - a.secs).slice(0, n).map((s) => `${shortStep(s)} ${fmt(s.secs, 1)} s`).join('; ');
/** The rebuilt steps of one build, compactly: "COPY snapshot.yaml /opt/snapshot/, LABEL ×10, COPY code/ ...". */
function describeRebuilt(steps) {
  const parts = [];
  for (const s of rebuilt(steps)) {
    const name = s.instruction.startsWith('LABEL') ? 'LABEL' : shortStep(s);
    const last = parts[parts.length - 1];
    if (last && last.name === name) last.count += 1;
    else parts.push({ name, count: 1 });
  }
  return parts.map((p) => (p.count > 1 ? `${p.name} ×${p.count}` : p.name)).join(', ');
}
const rebuilt = (steps) => steps.filter((s) => !s.cached && !s.instruction.startsWith('FROM'));
const shortStep = (s) => s.instruction.replace(/\s+/g, ' ').slice(0, 40);

// ---------------------------------------------------------------------------------------------
// Set-up: a temporary folder, the package index, the captured project

const work = mkdtempSync(join(tmpdir(), 'snapshot-bench-replay-'));
const images = new Set(); // every image id this script made (ours and the CLI's), removed at exit
const tags = new Set(); // every tag it gave
let server = null;
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  if (server && server.exitCode === null) server.kill('SIGTERM');
  // By tag, then by id: -f removes every tag of an image, and its untagged parents go with it.
  const refs = [...tags, ...images];
  if (refs.length > 0) {
    const r = spawnSync('docker', ['image', 'rm', '-f', ...refs], { encoding: 'utf8' });
    const deleted = (r.stdout.match(/^Deleted: /gm) ?? []).length;
    process.stderr.write(`[bench] removed ${tags.size} tags / ${images.size} images of ours (${deleted} image layers deleted)\n`);
  }
  rmSync(work, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

/** Free TCP port on the loopback interface (bound, read, closed). */
function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function serveIndex() {
  if (!existsSync(join(INDEX_ROOT, 'simple'))) throw new Error(`no package index at ${INDEX_ROOT}/simple`);
  const port = await freePort();
  server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', INDEX_ROOT], { stdio: 'ignore' });
  server.unref(); // it must not keep this process alive: exit stops it
  const url = `http://127.0.0.1:${port}/simple/`;
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((res) => get(url, (r) => { r.resume(); res(r.statusCode === 200); }).on('error', () => res(false)));
    if (ok) return url;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('the package index server did not answer');
}

/** `node bin/run.js --version`, retried: other work may be rebuilding dist/ right now. */
async function cliVersion() {
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
    if (r.status === 0) return r.stdout.trim();
    if (attempt === 4) throw new Error(`node bin/run.js --version fails:\n${r.stderr}`);
    log(`node bin/run.js --version failed; retrying in 30 s`);
    await new Promise((res) => setTimeout(res, 30_000));
  }
}

const project = join(work, 'project');
const context = join(work, 'context'); // the folder `snapshot dockerfile` writes, for the CLI
const gitP = (...a) => sh('git', ['-C', project, '-c', 'user.email=bench@example.com', '-c', 'user.name=bench', ...a]);
/** The environment of a user's shell without an active venv, plus the numerics the baseline had. */
const captureEnv = () => {
  const env = { ...process.env, PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: '0', KERAS_HOME: join(work, 'keras-home') };
  for (const key of ['VIRTUAL_ENV', 'CONDA_PREFIX', 'KERAS_BACKEND']) delete env[key];
  return env;
};
const RUN_COMMAND = 'python train.py --out out --epochs 2';

/** Capture on the host venv (the training runs once), then commit the snapshot beside the code. */
async function capture() {
  const r = await timed(process.execPath, [CLI, 'capture', '--python', python, '--data', 'data', '--run', RUN_COMMAND, '--outputs', 'out', '--force', '--json'], { cwd: project, env: captureEnv() });
  const id = JSON.parse(r.stdout).result.id;
  gitP('add', 'snapshot.yaml', 'snapshot.bundle');
  gitP('commit', '-qm', `snapshot ${id}`);
  return { id, wall: r.wall };
}

function makeProject() {
  cpSync(join(root, 'examples', 'keras-tiny'), project, { recursive: true });
  rmSync(join(project, 'out'), { recursive: true, force: true });
  gitP('init', '-q');
  writeFileSync(join(project, '.gitignore'), 'out/\n');
  gitP('add', '-A');
  gitP('commit', '-qm', 'the training');
}

/** A code-only change: train.py edited and committed, then a new snapshot of the same environment. */
let edits = 0;
async function codeChange() {
  edits += 1;
  appendFileSync(join(project, 'train.py'), `# bench edit ${edits}\n`);
  gitP('commit', '-qam', `edit ${edits}`);
  return capture();
}

// ---------------------------------------------------------------------------------------------
// The two builds

let indexUrl = '';
const buildFlags = () => ['--base-image', BASE_IMAGE, '--python-from', 'apt'];

/** `snapshot build`, as a user runs it; the image is tagged for cleanup. */
async function oursBuild(label, { noCache = false } = {}) {
  const r = await timed(process.execPath, [CLI, 'build', 'snapshot.yaml', ...buildFlags(), '--build-arg', `PIP_INDEX_URL=${indexUrl}`, '--build-network', 'host', ...(noCache ? ['--no-cache'] : []), '--json'], { cwd: project, stamp: true });
  const report = JSON.parse(r.stdout).result;
  const id = report.facts.image_id;
  images.add(id);
  tags.add(`snapshot-replay:${report.snapshot.id.slice(0, 12)}`);
  const tag = `${BENCH_REPO}:ours-${label}`;
  sh('docker', ['tag', id, tag]);
  tags.add(tag);
  // Under --json stderr holds JSON lines: the build events rebuild the classic builder's text.
  const text = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'build')
    .map((e) => e.text)
    .join('\n');
  return { wall: r.wall, buildMs: report.facts.build_ms, imageId: id, steps: withTimes(stepsOf(text), r), firstStepAt: r.stamps[0]?.at ?? NaN };
}

/** `snapshot dockerfile` into the context folder (what a CLI user writes before `docker build`). */
async function writeContext() {
  const r = await timed(process.execPath, [CLI, 'dockerfile', 'snapshot.yaml', ...buildFlags(), '--output-dir', context, '--force'], { cwd: project });
  return r.wall;
}

async function cliBuild(label, { noCache = false } = {}) {
  const tag = `${BENCH_REPO}:cli-${label}`;
  const r = await timed('docker', ['build', ...(noCache ? ['--no-cache'] : []), '--network', 'host', '--build-arg', `PIP_INDEX_URL=${indexUrl}`, '--label', BENCH_LABEL, '-t', tag, context], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, stamp: true });
  tags.add(tag);
  const id = sh('docker', ['image', 'inspect', '-f', '{{.Id}}', tag]).stdout.trim();
  images.add(id);
  return { wall: r.wall, imageId: id, steps: withTimes(stepsOf(r.stdout), r), firstStepAt: r.stamps[0]?.at ?? NaN };
}

// ---------------------------------------------------------------------------------------------
// Phases; each returns Summary rows

const summary = [];
const row = (what, ours, base, ratio, target, result) => summary.push(`| ${what} | ${ours} | ${base} | ${ratio} | ${target} | ${result} |`);
let lastImage = null; // our latest image, for the run phase

async function benchCold() {
  out(`## cold build (--no-cache), ${coldRuns} run(s) each, alternating which goes first (the CLI in odd runs)`);
  const ours = [];
  const cli = [];
  for (let i = 1; i <= coldRuns; i++) {
    // Odd runs the CLI first, even runs ours first.
    let c;
    let o;
    for (const who of i % 2 ? ['cli', 'ours'] : ['ours', 'cli']) {
      log(`cold ${i}/${coldRuns}: ${who === 'cli' ? 'docker build' : 'snapshot build'} --no-cache (load ${fmt(loadavg()[0])})`);
      if (who === 'cli') c = await cliBuild(`cold-${i}`, { noCache: true });
      else o = await oursBuild(`cold-${i}`, { noCache: true });
    }
    for (const [who, b] of [['cli', c], ['ours', o]]) {
      const cachedSteps = b.steps.filter((s) => s.cached);
      if (cachedSteps.length > 0) out(`  WARNING: ${who} cold build ${i} took ${cachedSteps.length} step(s) from the cache`);
    }
    cli.push(c.wall);
    ours.push(o.wall);
    out(`  run ${i}: docker build ${fmt(c.wall)} s (${c.steps.length} steps, first step at ${fmt(c.firstStepAt)} s), snapshot build ${fmt(o.wall)} s (${o.steps.length} steps, first step at ${fmt(o.firstStepAt)} s; engine build_ms ${fmt(o.buildMs / 1000)} s)`);
    out(`    slowest steps, docker build:   ${slowest(c.steps)}`);
    out(`    slowest steps, snapshot build: ${slowest(o.steps)}`);
    lastImage = o.imageId;
  }
  const ratio = median(ours) / median(cli);
  out(`  median: ours ${fmt(median(ours))} s, docker build ${fmt(median(cli))} s, ratio ${fmt(ratio, 3)}`);
  out();
  row(`cold build (--no-cache, TensorFlow from the local index), ${coldRuns} run(s)`, `${fmt(median(ours))} s ${samplesText(ours)}`, `${fmt(median(cli))} s ${samplesText(cli)}`, fmt(ratio, 3), `≤ ${TARGET.cold}`, pf(ratio <= TARGET.cold));
}

async function benchWarm() {
  out(`## warm build (cached), 1 warm-up + ${runs} interleaved runs each`);
  const ours = [];
  const cli = [];
  const engineMs = [];
  const firstStep = [];
  const startup = [];
  const notCached = { ours: new Set(), cli: new Set() };
  for (let i = 0; i <= runs; i++) {
    const c = await cliBuild(`warm-${i}`);
    const o = await oursBuild(`warm-${i}`);
    // The floor under any command of ours: node, oclif and the command's imports.
    const v = await timed(process.execPath, [CLI, '--version']);
    lastImage = o.imageId;
    if (i === 0) continue; // warm-up: the first cached build after a --no-cache one
    for (const s of rebuilt(c.steps)) notCached.cli.add(shortStep(s));
    for (const s of rebuilt(o.steps)) notCached.ours.add(shortStep(s));
    cli.push(c.wall);
    ours.push(o.wall);
    engineMs.push(o.buildMs / 1000);
    firstStep.push(o.firstStepAt);
    startup.push(v.wall);
  }
  const ratio = median(ours) / median(cli);
  out(`  docker build:   median ${fmt(median(cli), 3)} s  runs ${samplesText(cli)}`);
  out(`  snapshot build: median ${fmt(median(ours), 3)} s  runs ${samplesText(ours)}`);
  out(`    of which: engine build call (build_ms) ${fmt(median(engineMs), 3)} s; first build event after ${fmt(median(firstStep), 3)} s; \`node bin/run.js --version\` alone ${fmt(median(startup), 3)} s`);
  for (const who of ['cli', 'ours']) out(`  steps not from the cache (${who}): ${notCached[who].size === 0 ? 'none' : [...notCached[who]].join('; ')}`);
  out();
  row(`warm build (all cached), median of ${runs}`, `${fmt(median(ours), 3)} s ${samplesText(ours)}`, `${fmt(median(cli), 3)} s ${samplesText(cli)}`, fmt(ratio, 3), `≤ ${TARGET.warm}`, pf(ratio <= TARGET.warm));
  const allCached = notCached.ours.size === 0 && notCached.cli.size === 0;
  row('warm build, ours split: `--version` start-up / first build event / engine build_ms', `${fmt(median(startup), 3)} / ${fmt(median(firstStep), 3)} / ${fmt(median(engineMs), 3)} s`, '—', '—', '—', 'info');
  row('warm build: steps rebuilt (besides FROM)', notCached.ours.size === 0 ? 'none' : [...notCached.ours].join('; '), notCached.cli.size === 0 ? 'none' : [...notCached.cli].join('; '), '—', 'none', pf(allCached));
}

/** What a code-only change must reuse: every step before the snapshot copy (the environment). */
function dependencyStepsCached(steps) {
  const cut = steps.findIndex((s) => s.instruction.startsWith('COPY snapshot.yaml'));
  const deps = steps.slice(0, cut < 0 ? steps.length : cut).filter((s) => !s.instruction.startsWith('FROM'));
  const pip = steps.find((s) => /pip install/.test(s.instruction));
  const code = steps.find((s) => s.instruction.startsWith('COPY code/'));
  return { ok: cut >= 0 && deps.every((s) => s.cached) && pip?.cached === true && code?.cached === false, pipCached: pip?.cached === true, codeRebuilt: code?.cached === false };
}

async function benchCode() {
  out(`## code-only change (a commit touching train.py + a new capture), ${codeRuns} change(s) per tool`);
  out('  each build gets a change of its own; the CLI\'s context folder is regenerated (untimed) first');
  const ours = [];
  const cli = [];
  const verdicts = { ours: [], cli: [] };
  const rebuiltLists = { ours: new Set(), cli: new Set() }; // distinct descriptions over the changes
  const captures = [];
  const contexts = [];
  for (let i = 1; i <= codeRuns; i++) {
    // Alternate which tool goes first, so neither always follows the other's build.
    const order = i % 2 ? ['ours', 'cli'] : ['cli', 'ours'];
    for (const who of order) {
      const snap = await codeChange();
      captures.push(snap.wall);
      let b;
      if (who === 'ours') {
        b = await oursBuild(`code-${i}`);
        lastImage = b.imageId;
        ours.push(b.wall);
      } else {
        contexts.push(await writeContext());
        b = await cliBuild(`code-${i}`);
        cli.push(b.wall);
      }
      const check = dependencyStepsCached(b.steps);
      verdicts[who].push(check);
      rebuiltLists[who].add(describeRebuilt(b.steps));
      out(`  change ${i}, ${who === 'ours' ? 'snapshot build' : 'docker build  '}: ${fmt(b.wall, 3)} s; pip install ${check.pipCached ? 'from the cache' : 'REBUILT'}; code layer ${check.codeRebuilt ? 'rebuilt' : 'NOT rebuilt'}; rebuilt: ${describeRebuilt(b.steps)}`);
    }
  }
  const ratio = median(ours) / median(cli);
  out(`  medians: ours ${fmt(median(ours), 3)} s, docker build ${fmt(median(cli), 3)} s (+ snapshot dockerfile ${fmt(median(contexts), 3)} s to regenerate its folder; capture ${fmt(median(captures))} s, untimed)`);
  out();
  row(`code-only change: build, median of ${codeRuns}`, `${fmt(median(ours), 3)} s ${samplesText(ours)}`, `${fmt(median(cli), 3)} s ${samplesText(cli)}`, fmt(ratio, 3), '—', 'info');
  row('code-only change: `snapshot dockerfile` to regenerate the CLI\'s folder', '—', `${fmt(median(contexts), 3)} s`, '—', '—', 'info');
  const okOurs = verdicts.ours.every((v) => v.ok);
  const okCli = verdicts.cli.every((v) => v.ok);
  row('code-only change: only the code layer rebuilt (pip install etc. from the cache)', `${okOurs ? 'yes' : 'NO'}; rebuilt ${[...rebuiltLists.ours].join(' / ')}`, `${okCli ? 'yes' : 'NO'}; rebuilt ${[...rebuiltLists.cli].join(' / ')}`, '—', 'dependency steps cached', pf(okOurs));
}

async function benchRun() {
  out(`## run: docker run --rm of the captured command vs replay's run_ms, same image, 1 warm-up + ${runs} interleaved runs`);
  // The current snapshot's image (cached): the one replay builds too.
  lastImage = (await oursBuild('run')).imageId;
  const snapshot = YAML.parse(readFileSync(join(project, 'snapshot.yaml'), 'utf8'));
  const command = snapshot.run.command;
  const dockerRun = ['run', '--rm', '-v', `${join(project, 'data')}:/workspace/code/data:ro`, '-w', '/workspace/code', lastImage, 'sh', '-c', command];
  const cli = [];
  const runMs = [];
  const totals = [];
  const replayWalls = [];
  let verdicts = [];
  let replayImage = null;
  for (let i = 0; i <= runs; i++) {
    const c = await timed('docker', dockerRun);
    const r = await timed(process.execPath, [CLI, 'replay', 'snapshot.yaml', ...buildFlags(), '--build-arg', `PIP_INDEX_URL=${indexUrl}`, '--build-network', 'host', '--output-dir', join(work, `replay-${i}`), '--json'], { cwd: project, allowFail: true });
    const report = JSON.parse(r.stdout).result;
    replayImage = report.environment?.facts?.image_id ?? null;
    if (replayImage) images.add(replayImage);
    if (i === 0) continue;
    cli.push(c.wall);
    runMs.push(report.durations.run_ms / 1000);
    replayWalls.push(r.wall);
    totals.push(report.durations);
    verdicts.push(report.verdict);
  }
  const ratio = median(runMs) / median(cli);
  const d = (key) => median(totals.map((t) => t[key])) / 1000;
  out(`  command: docker ${dockerRun.join(' ')}`);
  out(`  docker run wall:      median ${fmt(median(cli), 3)} s  runs ${samplesText(cli)}`);
  out(`  replay run_ms:        median ${fmt(median(runMs), 3)} s  runs ${samplesText(runMs)}`);
  out(`  replay (medians, s):  doctor ${fmt(d('doctor_ms'))}, build ${fmt(d('prepare_ms'))}, verify ${fmt(d('verify_ms'))}, run ${fmt(d('run_ms'))}, probe ${fmt(d('probe_ms'))}, compare ${fmt(d('compare_ms'))}, total ${fmt(d('total_ms'))}; whole replay process ${fmt(median(replayWalls))} s`);
  out(`  verdicts: ${verdicts.join(', ')}; replay image ${replayImage === lastImage ? 'is' : 'is NOT'} the image docker run used`);
  out();
  row(`run: replay run_ms vs \`docker run --rm\` wall, median of ${runs}`, `${fmt(median(runMs), 3)} s ${samplesText(runMs)}`, `${fmt(median(cli), 3)} s ${samplesText(cli)}`, fmt(ratio, 3), '—', 'info');
  row('replay total (build cached, verify, run, probe, compare)', `${fmt(d('total_ms'))} s (probe ${fmt(d('probe_ms'))} s; process ${fmt(median(replayWalls))} s)`, '—', '—', '—', `info (${[...new Set(verdicts)].join('/')})`);
}

// ---------------------------------------------------------------------------------------------
// pack: the repository of bench/context.js (the same layout), our pack vs git archive

async function benchPack() {
  out(`## pack: ${packFiles} files / ${packSizeMiB} MiB, buildContext()+pack() vs git archive, 1 warm-up + ${packRuns} interleaved runs`);
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is required for peak RSS (apt-get install time)');
  const repo = join(work, 'pack-repo');
  const { snapshotPath, tree, made } = makePackRepo({ root, work, repo, fileCount: packFiles, sizeMiB: packSizeMiB, name: 'pack' });
  log(`pack repository: ${made}`);
  const script = packScript(root, snapshotPath);
  const measure = async (cmd, cmdArgs) => {
    const r = await timed('/usr/bin/time', ['-f', 'RSS_KIB=%M', 'sh', '-c', '"$0" "$@" > /dev/null', cmd, ...cmdArgs]);
    return { wall: r.wall, rssMiB: Number(/RSS_KIB=(\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024, bytes: Number(/BYTES=(\d+)/.exec(r.stderr)?.[1] ?? NaN) };
  };
  const cases = {
    ours: () => measure(process.execPath, ['--input-type=module', '-e', script]),
    'git archive': () => measure('git', ['-C', repo, 'archive', '--format=tar', tree]),
  };
  const samples = { ours: [], 'git archive': [] };
  for (let i = 0; i <= packRuns; i++) {
    for (const [name, run] of Object.entries(cases)) {
      const s = await run();
      if (i > 0) samples[name].push(s);
    }
  }
  const wall = (k) => median(samples[k].map((s) => s.wall));
  const rss = (k) => Math.max(...samples[k].map((s) => s.rssMiB));
  const bytes = samples.ours[0].bytes;
  out(`  tar stream ${fmt(bytes / 1048576, 1)} MiB; ours ${fmt(wall('ours'))} s ${samplesText(samples.ours.map((s) => s.wall))}, git archive ${fmt(wall('git archive'))} s ${samplesText(samples['git archive'].map((s) => s.wall))}`);
  out(`  peak RSS (max of runs, largest single process of the tree): ours ${fmt(rss('ours'), 1)} MiB, git archive ${fmt(rss('git archive'), 1)} MiB`);
  out();
  row(`pack ${packFiles} files / ${packSizeMiB} MiB: wall, median of ${packRuns}`, `${fmt(wall('ours'))} s (${fmt(bytes / 1048576 / wall('ours'), 0)} MiB/s)`, `git archive ${fmt(wall('git archive'))} s (${fmt(bytes / 1048576 / wall('git archive'), 0)} MiB/s)`, fmt(wall('ours') / wall('git archive')), '—', 'info');
  row('pack: peak RSS (max of runs)', `${fmt(rss('ours'), 1)} MiB`, `git archive ${fmt(rss('git archive'), 1)} MiB`, '—', `< ${TARGET.packRssMB} MB`, pf(rss('ours') * 1.048576 < TARGET.packRssMB));
}

// ---------------------------------------------------------------------------------------------
// main

async function main() {
  const began = performance.now();
  const version = await cliVersion();
  const dockerNeeded = ['cold', 'warm', 'code', 'run'].some((o) => only.has(o));
  const model = (/model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? '?').trim();
  out('# snapshot build / replay benchmark');
  out();
  out(`date:      ${new Date().toISOString()}`);
  out(`machine:   nproc ${cpus().length}, ${model}; load average at start ${loadavg().map((l) => fmt(l)).join(' ')}`);
  out(`tools:     ${version}, Node ${process.version}${dockerNeeded ? `, docker ${sh('docker', ['version', '--format', 'CLI {{.Client.Version}} / engine {{.Server.Version}} (API {{.Server.APIVersion}})']).stdout.trim()}, classic builder for both` : ''}`);
  out(`git HEAD:  ${sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD']).stdout.trim()}${sh('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']).stdout.trim() ? ' (working tree has local changes)' : ''}`);
  out(`phases:    ${[...only].join(', ')}; cold ${coldRuns}, warm ${runs}, code ${codeRuns}, run ${runs}, pack ${packRuns} run(s)`);
  out(`temp:      ${work} (removed at exit)`);
  out();

  if (dockerNeeded) {
    if (spawnSync('docker', ['image', 'inspect', BASE_IMAGE], { stdio: 'ignore' }).status !== 0) throw new Error(`the base image ${BASE_IMAGE} is missing (scripts/setup-docker.sh builds it)`);
    indexUrl = await serveIndex();
    makeProject();
    // The first capture's training creates KERAS_HOME/keras.json (Keras writes its defaults on
    // import), so a second capture records a config file the first did not see, and its Dockerfile
    // gains steps before the snapshot layer. Capture twice and say so, so that the code-only change
    // below changes only the code.
    await capture();
    await writeContext();
    const firstDockerfile = readFileSync(join(context, 'Dockerfile'), 'utf8');
    const snap = await capture();
    const ctxWall = await writeContext();
    const envPart = (text) => text.split('\nCOPY snapshot.yaml')[0].split('\n').filter((l) => !l.startsWith('#'));
    const before = envPart(firstDockerfile);
    const after = envPart(readFileSync(join(context, 'Dockerfile'), 'utf8'));
    const added = after.filter((l) => !before.includes(l));
    const gone = before.filter((l) => !after.includes(l));
    if (added.length + gone.length > 0) out(`NOTE:      a second capture of the same environment changed the Dockerfile's environment steps (${[...added.map((l) => `+ ${l}`), ...gone.map((l) => `- ${l}`)].join(' | ')}); the bench uses the second snapshot`);
    out(`project:   examples/keras-tiny, captured with ${python} (${fmt(snap.wall)} s), snapshot ${snap.id}`);
    out(`index:     ${indexUrl} (python3 -m http.server over ${INDEX_ROOT})`);
    out(`ours:      node bin/run.js build snapshot.yaml ${buildFlags().join(' ')} --build-arg PIP_INDEX_URL=${indexUrl} --build-network host [--no-cache] --json`);
    out(`CLI:       DOCKER_BUILDKIT=0 docker build [--no-cache] --network host --build-arg PIP_INDEX_URL=${indexUrl} --label ${BENCH_LABEL} -t ${BENCH_REPO}:cli-* <folder of snapshot dockerfile ${buildFlags().join(' ')}> (written in ${fmt(ctxWall, 3)} s, untimed)`);
    out();
    // The wheels into the page cache, so the first build does not pay for reading them alone.
    sh('sh', ['-c', `cat ${INDEX_ROOT}/files/tensorflow_cpu-* > /dev/null 2>&1 || true`]);
    if (only.has('cold')) await benchCold();
    else if (only.has('warm') || only.has('code')) {
      log('priming the cache with one untimed build');
      lastImage = (await oursBuild('prime')).imageId;
    }
    if (only.has('warm')) await benchWarm();
    if (only.has('code')) await benchCode();
    if (only.has('run')) await benchRun();
  }
  if (only.has('pack')) await benchPack();

  out('## Summary');
  out();
  out(`nproc ${cpus().length}, ${model}; Node ${process.version}; load average at end ${loadavg().map((l) => fmt(l)).join(' ')}; whole run ${fmt((performance.now() - began) / 1000, 0)} s`);
  out();
  out('| measurement | snapshot | docker CLI / baseline | ratio | target | result |');
  out('|---|---|---|---|---|---|');
  for (const line of summary) out(line);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error}\n`);
  process.exitCode = 1;
});
