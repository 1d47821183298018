#!/usr/bin/env node
// Benchmarks `snapshot capture` against honest baselines, all measured in the same run:
//   1. wall time and peak RSS of a whole capture vs `python -c "import tensorflow"` and `pip freeze`;
//   2. data hashing throughput of `capture --data <1 GiB>` vs `sha256sum`, and whether memory stays flat;
//   3. many small files: `capture --data` on 20,000 files vs `find | xargs sha256sum`, and `show` of
//      that snapshot vs `show` of one without data (the manifest is a sidecar: show never reads it).
// Prints the machine, the versions, the exact commands, every sample, and a Markdown summary table.
//
// Usage: node bench/capture.js [--runs N] [--data-size-mib N] [--small-files N] [--only all|small] [--python PATH] [--rss-method gnu-time|python]
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 1024 * 1024;
const GNU_TIME = '/usr/bin/time';

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const opts = { runs: 5, dataSizeMib: 1024, smallFiles: 20000, only: 'all', python: null, rssMethod: null };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      i += 1;
      if (i >= argv.length) throw new Error(`${flag} needs a value`);
      return argv[i];
    };
    switch (flag) {
      case '--runs': opts.runs = positiveInt(flag, value()); break;
      case '--data-size-mib': opts.dataSizeMib = positiveInt(flag, value()); break;
      case '--small-files': opts.smallFiles = positiveInt(flag, value()); break;
      case '--only': {
        const o = value();
        if (o !== 'all' && o !== 'small') throw new Error('--only is all or small');
        opts.only = o;
        break;
      }
      case '--python': opts.python = resolve(value()); break;
      case '--rss-method': {
        const m = value();
        if (m !== 'gnu-time' && m !== 'python') throw new Error('--rss-method is gnu-time or python');
        opts.rssMethod = m;
        break;
      }
      case '-h': case '--help':
        process.stdout.write('Usage: node bench/capture.js [--runs N (5)] [--data-size-mib N (1024)] [--small-files N (20000)] [--only all|small] [--python PATH] [--rss-method gnu-time|python]\n');
        process.exit(0);
        break;
      default: throw new Error(`unknown argument ${arg}`);
    }
  }
  return opts;
}

function positiveInt(flag, text) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${text}`);
  return n;
}

// ---------------------------------------------------------------- helpers

const out = (line = '') => process.stdout.write(`${line}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const fmt = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const signed = (n, digits = 1) => (n >= 0 ? `+${fmt(n, digits)}` : fmt(n, digits));
const pf = (b) => (b ? 'PASS' : 'FAIL');
const shellQuote = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const showCmd = (cmd, args) => [cmd, ...args].map(shellQuote).join(' ');

function captureText(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return `unavailable (${r.error.message})`;
  return `${r.stdout}${r.stderr}`.trim();
}

function machine() {
  let model = 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) model = line.split(':').slice(1).join(':').trim();
  } catch { /* not Linux */ }
  if (model === 'unknown' && cpus()[0]) model = cpus()[0].model;
  let memTotal = 'unknown';
  try {
    const kb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))[1]);
    memTotal = `${fmt(kb / 1024 / 1024, 1)} GiB`;
  } catch { /* not Linux */ }
  let shaNi = 'unknown';
  try {
    shaNi = /^flags\s*:.*\bsha_ni\b/m.test(readFileSync('/proc/cpuinfo', 'utf8')) ? 'yes' : 'no';
  } catch { /* not Linux */ }
  return { nproc: captureText('nproc', []), model, memTotal, shaNi };
}

// ---------------------------------------------------------------- measuring one process

/**
 * Runs cmd once; returns { wallS, rssMiB }. Wall time is measured here with hrtime around the spawn.
 * Peak RSS is the kernel's ru_maxrss for the reaped child (wait4), read either by GNU time (%M) or by a
 * Python wrapper calling getrusage(RUSAGE_CHILDREN). Either way it is the largest peak of any single
 * process in the tree (node or one of its python probes), NOT the sum of concurrent processes.
 */
function measure(method, tmp, cmd, args) {
  return new Promise((resolvePromise, reject) => {
    const rssFile = join(tmp, 'rss.txt');
    rmSync(rssFile, { force: true });
    let exe;
    let exeArgs;
    if (method.name === 'gnu-time') {
      exe = GNU_TIME;
      exeArgs = ['-f', '%M', '-o', rssFile, cmd, ...args];
    } else {
      exe = method.python;
      exeArgs = ['-c', PY_WRAPPER, rssFile, cmd, ...args];
    }
    let stderr = '';
    const start = process.hrtime.bigint();
    const child = spawn(exe, exeArgs, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallS = Number(process.hrtime.bigint() - start) / 1e9;
      if (code !== 0) {
        reject(new Error(`${showCmd(cmd, args)} exited with ${code ?? signal}\n${stderr}`));
        return;
      }
      const kib = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
      resolvePromise({ wallS, rssMiB: kib / 1024 });
    });
  });
}

const PY_WRAPPER = [
  'import resource, subprocess, sys',
  'r = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL)',
  'open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))',
  'sys.exit(r.returncode)',
].join('\n');

/** Sum of VmRSS over a process and all its descendants, polled; one untimed run, informative only. */
function sampledTreeRss(cmd, args, intervalMs = 5) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: 'ignore' });
    let peakKiB = 0;
    const treeKiB = (pid) => {
      let kib = 0;
      try {
        const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) kib += Number(m[1]);
        for (const task of readdirSync(`/proc/${pid}/task`)) {
          const kids = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
          for (const kid of kids ? kids.split(/\s+/) : []) kib += treeKiB(kid);
        }
      } catch { /* the process exited between reads */ }
      return kib;
    };
    const timer = setInterval(() => { peakKiB = Math.max(peakKiB, treeKiB(child.pid)); }, intervalMs);
    child.on('error', (e) => { clearInterval(timer); reject(e); });
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`${showCmd(cmd, args)} exited with ${code}`));
      else resolvePromise(peakKiB / 1024);
    });
  });
}

/** One warm-up of every case, then `runs` interleaved rounds (A B C, A B C, ...) so drift hits all alike. */
async function bench(method, tmp, cases, runs, label) {
  const samples = new Map(cases.map((c) => [c.key, []]));
  process.stderr.write(`[bench] ${label}: warm-up`);
  for (const c of cases) await measure(method, tmp, c.cmd, c.args);
  for (let round = 1; round <= runs; round += 1) {
    process.stderr.write(` ${round}/${runs}`);
    for (const c of cases) samples.get(c.key).push(await measure(method, tmp, c.cmd, c.args));
  }
  process.stderr.write('\n');
  const result = {};
  for (const c of cases) {
    const s = samples.get(c.key);
    result[c.key] = {
      ...c,
      wallS: median(s.map((x) => x.wallS)),
      rssMiB: median(s.map((x) => x.rssMiB)),
      walls: s.map((x) => x.wallS),
      rsss: s.map((x) => x.rssMiB),
    };
  }
  return result;
}

function printSamples(results) {
  for (const r of Object.values(results)) {
    out(`  ${r.key}`);
    out(`    command:      ${showCmd(r.cmd, r.args)}`);
    out(`    wall s:       median ${fmt(r.wallS, 3)}   runs [${r.walls.map((x) => fmt(x, 3)).join(', ')}]`);
    out(`    peak RSS MiB: median ${fmt(r.rssMiB, 1)}   runs [${r.rsss.map((x) => fmt(x, 1)).join(', ')}]`);
  }
}

// ---------------------------------------------------------------- data set

/** Cached data set: min(8, size) files of pseudo-random bytes, reused when every file has the right size. */
function ensureData(sizeMib) {
  const dir = join(root, '.cache', 'bench-data', `${sizeMib}MiB`);
  const fileCount = Math.min(8, sizeMib);
  const sizes = Array.from({ length: fileCount }, (_, i) => Math.floor(sizeMib / fileCount) + (i < sizeMib % fileCount ? 1 : 0));
  const names = sizes.map((_, i) => `part-${String(i).padStart(2, '0')}.bin`);
  const ok = existsSync(dir)
    && readdirSync(dir).sort().join('/') === names.join('/')
    && names.every((n, i) => statSync(join(dir, n)).size === sizes[i] * MiB);
  if (ok) return { dir, files: names.map((n) => join(dir, n)), bytes: sizeMib * MiB, reused: true };

  process.stderr.write(`[bench] generating ${sizeMib} MiB of test data in ${dir}\n`);
  rmSync(dir, { recursive: true, force: true });
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  // One random 1 MiB block, rewritten per MiB with (file, block) stamped into its first 16 bytes, so no
  // two MiB are equal (no dedup or compression shortcut helps) without generating 1 GiB of randomness.
  const block = randomBytes(MiB);
  names.forEach((name, f) => {
    const fd = openSync(join(staging, name), 'w');
    try {
      for (let b = 0; b < sizes[f]; b += 1) {
        block.writeUInt32LE(f, 0);
        block.writeUInt32LE(b, 4);
        block.writeBigUInt64LE(BigInt(f * 1_000_003 + b) * 0x9e3779b97f4a7c15n & 0xffffffffffffffffn, 8);
        writeSync(fd, block);
      }
    } finally {
      closeSync(fd);
    }
  });
  renameSync(staging, dir);
  return { dir, files: names.map((n) => join(dir, n)), bytes: sizeMib * MiB, reused: false };
}

/** Cached small-files data set: n files of 1 to 4 KiB in folders of 200, reused when the count matches. */
function ensureSmallFiles(n) {
  const dir = join(root, '.cache', 'bench-data', `small-${n}`);
  const stamp = join(dir, '.complete');
  if (existsSync(stamp)) return { dir, files: n, bytes: Number(readFileSync(stamp, 'utf8')), reused: true };
  process.stderr.write(`[bench] generating ${n} small files in ${dir}\n`);
  rmSync(dir, { recursive: true, force: true });
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const pool = randomBytes(64 * 1024);
  let bytes = 0;
  for (let i = 0; i < n; i += 1) {
    const folder = join(staging, `shard-${String(Math.floor(i / 200)).padStart(4, '0')}`);
    if (i % 200 === 0) mkdirSync(folder, { recursive: true });
    const size = 1024 + ((i * 2654435761) % (3 * 1024));
    const start = (i * 7919) % (pool.length - size);
    const body = Buffer.from(pool.subarray(start, start + size));
    body.writeUInt32LE(i, 0);
    const fd = openSync(join(folder, `sample-${String(i).padStart(6, '0')}.json`), 'w');
    writeSync(fd, body);
    closeSync(fd);
    bytes += size;
  }
  renameSync(staging, dir);
  const fd = openSync(stamp, 'w');
  writeSync(fd, String(bytes));
  closeSync(fd);
  return { dir, files: n, bytes, reused: false };
}

function warmCache(files) {
  // Read everything once so sha256sum and capture both see a warm page cache (we cannot drop it).
  const r = spawnSync('cat', files, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('warm-up read of the data failed');
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));

  if (!existsSync(join(root, 'dist', 'commands'))) {
    process.stderr.write('[bench] dist/ missing: running npm run build\n');
    const b = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
    if (b.status !== 0) throw new Error('npm run build failed');
  }

  let python = opts.python;
  if (!python) {
    const { prepareAll } = await import('../test/setup/prepare-envs.js');
    python = prepareAll().tf;
  }

  const haveGnuTime = existsSync(GNU_TIME);
  const methodName = opts.rssMethod ?? (haveGnuTime ? 'gnu-time' : 'python');
  if (methodName === 'gnu-time' && !haveGnuTime) throw new Error(`${GNU_TIME} is missing; use --rss-method python`);
  const method = { name: methodName, python };
  const methodText = methodName === 'gnu-time'
    ? `${GNU_TIME} -f %M (GNU time: ru_maxrss of the reaped child via wait4)`
    : `python wrapper: resource.getrusage(RUSAGE_CHILDREN).ru_maxrss after subprocess.run (${GNU_TIME} ${haveGnuTime ? 'not chosen' : 'missing'}); small processes read ~10 MiB high: the forked child counts the wrapper's memory until exec`;

  const tmp = mkdtempSync(join(tmpdir(), 'snapshot-bench-'));
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  const onSignal = (sig) => { cleanup(); process.kill(process.pid, sig); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const m = machine();
    out('# snapshot capture benchmark');
    out();
    out(`date:          ${new Date().toISOString()}`);
    out(`machine:       nproc ${m.nproc}, CPU "${m.model}", RAM ${m.memTotal}, SHA-NI ${m.shaNi}, ${process.platform}/${process.arch}`);
    out(`node:          ${process.version} (${process.execPath})`);
    out(`python:        ${captureText(python, ['-V'])} (${python})`);
    out(`git HEAD:      ${captureText('git', ['-C', root, 'rev-parse', '--short', 'HEAD'])}${captureText('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']) ? ' (working tree has local changes)' : ''}`);
    out(`sha256sum:     ${captureText('sha256sum', ['--version']).split('\n')[0]}`);
    const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
    out(`openssl:       ${haveOpenssl ? captureText('openssl', ['version']) : 'missing (info baseline skipped)'}`);
    out(`runs:          median of ${opts.runs} after 1 warm-up, cases interleaved round by round`);
    out(`wall time:     process.hrtime around spawn of the measured command (includes the RSS wrapper's tiny fork/exec)`);
    out(`peak RSS:      ${methodText}`);
    out('               = largest peak of any ONE process in the tree (node or a python probe), not a sum;');
    out('               a sampled tree sum (VmRSS of all descendants, 5 ms polling, 1 extra untimed run) is shown too.');
    out(`cwd:           ${root}`);
    out(`temp folder:   ${tmp} (removed at exit)`);
    out();

    const node = process.execPath;
    const runJs = join(root, 'bin', 'run.js');
    const snap = join(tmp, 'snapshot.yaml');
    const captureArgs = [runJs, 'capture', '--python', python, '--output', snap, '--force'];

    const summary = [];
    if (opts.only === 'all') {
    // ---- 1. capture vs import tensorflow vs pip freeze
    out('## 1. capture vs import tensorflow vs pip freeze');
    const r1 = await bench(method, tmp, [
      { key: 'snapshot capture', cmd: node, args: captureArgs },
      { key: 'import tensorflow', cmd: python, args: ['-c', 'import tensorflow'] },
      { key: 'pip freeze', cmd: python, args: ['-m', 'pip', 'freeze'] },
    ], opts.runs, 'capture vs import tensorflow vs pip freeze');
    printSamples(r1);
    const cap = r1['snapshot capture'];
    const tf = r1['import tensorflow'];
    const pip = r1['pip freeze'];
    const wallRatio = cap.wallS / tf.wallS;
    const wallPass = wallRatio <= 0.5;
    const rssPass = cap.rssMiB < 150;
    const capTree = await sampledTreeRss(node, captureArgs);
    out();
    out(`  capture / import tensorflow wall: ${fmt(wallRatio, 3)}  (target <= 0.5)  ${wallPass ? 'PASS' : 'FAIL'}`);
    out(`  capture / pip freeze wall:        ${fmt(cap.wallS / pip.wallS, 3)}  (info)`);
    out(`  capture peak RSS: ${fmt(cap.rssMiB, 1)} MiB  (target < 150)  ${rssPass ? 'PASS' : 'FAIL'}`);
    out(`  capture sampled process-tree RSS peak (1 run): ${fmt(capTree, 1)} MiB  (info; ${capTree < 150 ? 'also' : 'NOT'} under 150)`);
    out();

    // ---- 2. hashing throughput
    out(`## 2. hashing ${opts.dataSizeMib} MiB: capture --data vs sha256sum`);
    const data = ensureData(opts.dataSizeMib);
    out(`  data: ${data.dir} (${data.files.length} files, ${data.bytes} bytes, ${data.reused ? 'reused from cache' : 'generated now'})`);
    warmCache(data.files);
    out('  page cache: warmed by one `cat` of all files before the runs (not dropped; cannot be)');
    const captureDataArgs = [runJs, 'capture', '--python', python, '--data', data.dir, '--output', snap, '--force'];
    const r2 = await bench(method, tmp, [
      { key: 'sha256sum', cmd: 'sha256sum', args: data.files },
      { key: 'capture --data', cmd: node, args: captureDataArgs },
      { key: 'capture (no --data)', cmd: node, args: captureArgs },
      ...(haveOpenssl ? [{ key: 'openssl dgst -sha256', cmd: 'openssl', args: ['dgst', '-sha256', ...data.files] }] : []),
    ], opts.runs, 'hashing');
    printSamples(r2);
    const sha = r2['sha256sum'];
    const withData = r2['capture --data'];
    const noData = r2['capture (no --data)'];
    const MB = data.bytes / 1e6;
    const shaMBs = MB / sha.wallS;
    const rawMBs = MB / withData.wallS;
    const netS = withData.wallS - noData.wallS;
    const netMBs = netS > 0 ? MB / netS : NaN;
    const rawRatio = rawMBs / shaMBs;
    const netRatio = netMBs / shaMBs;
    const rssDiff = withData.rssMiB - noData.rssMiB;
    const ossl = r2['openssl dgst -sha256'];
    const osslMBs = ossl ? MB / ossl.wallS : NaN;
    const dataTree = await sampledTreeRss(node, captureDataArgs);
    out();
    out(`  sha256sum:              ${fmt(shaMBs, 1)} MB/s  (${fmt(sha.wallS, 3)} s; single-threaded)`);
    out(`  capture --data raw:     ${fmt(rawMBs, 1)} MB/s  (${fmt(withData.wallS, 3)} s, whole capture)  ratio ${fmt(rawRatio, 3)}  ${rawRatio >= 0.8 ? 'PASS' : 'FAIL'} (target >= 0.8, strict: includes probing)`);
    out(`  capture --data net:     ${fmt(netMBs, 1)} MB/s  (${fmt(netS, 3)} s = ${fmt(withData.wallS, 3)} - ${fmt(noData.wallS, 3)})  ratio ${fmt(netRatio, 3)}  ${netRatio >= 0.8 ? 'PASS' : 'FAIL'} (target >= 0.8)`);
    if (ossl) out(`  info baseline: openssl dgst -sha256 ${fmt(osslMBs, 1)} MB/s (${fmt(ossl.wallS, 3)} s; single-threaded, SHA-NI if the CPU has it); capture net / openssl = ${fmt(netMBs / osslMBs, 3)}`);
    out(`  peak RSS with data ${fmt(withData.rssMiB, 1)} MiB vs without ${fmt(noData.rssMiB, 1)} MiB: ${signed(rssDiff)} MiB  (target < 30)  ${rssDiff < 30 ? 'PASS' : 'FAIL'}`);
    out(`  sampled process-tree RSS peak with data (1 run): ${fmt(dataTree, 1)} MiB (info)`);
    out('  (MB = 10^6 bytes; RSS MiB = 2^20 bytes)');
    out();

    summary.push(`| wall time: capture vs \`import tensorflow\` | ${fmt(cap.wallS, 3)} s | ${fmt(tf.wallS, 3)} s | ${fmt(wallRatio, 3)} | ≤ 0.5 | ${pf(wallPass)} |`);
    summary.push(`| wall time: capture vs \`pip freeze\` | ${fmt(cap.wallS, 3)} s | ${fmt(pip.wallS, 3)} s | ${fmt(cap.wallS / pip.wallS, 3)} | — | info |`);
    summary.push(`| peak RSS: capture (largest single process) | ${fmt(cap.rssMiB, 1)} MiB | import tensorflow ${fmt(tf.rssMiB, 1)} MiB | ${fmt(cap.rssMiB / tf.rssMiB, 3)} | < 150 MiB | ${pf(rssPass)} |`);
    summary.push(`| peak RSS: capture process tree, sampled (1 run) | ${fmt(capTree, 1)} MiB | — | — | — | info |`);
    summary.push(`| hashing ${opts.dataSizeMib} MiB, net (capture --data − capture) | ${fmt(netMBs, 1)} MB/s | sha256sum ${fmt(shaMBs, 1)} MB/s | ${fmt(netRatio, 3)} | ≥ 0.8 | ${pf(netRatio >= 0.8)} |`);
    summary.push(`| hashing ${opts.dataSizeMib} MiB, raw (whole capture --data) | ${fmt(rawMBs, 1)} MB/s | sha256sum ${fmt(shaMBs, 1)} MB/s | ${fmt(rawRatio, 3)} | ≥ 0.8 | ${pf(rawRatio >= 0.8)} |`);
    if (ossl) summary.push(`| hashing ${opts.dataSizeMib} MiB, net vs \`openssl dgst -sha256\` | ${fmt(netMBs, 1)} MB/s | openssl ${fmt(osslMBs, 1)} MB/s | ${fmt(netMBs / osslMBs, 3)} | — | info |`);
    summary.push(`| peak RSS: capture with ${opts.dataSizeMib} MiB data vs without | ${fmt(withData.rssMiB, 1)} MiB | ${fmt(noData.rssMiB, 1)} MiB | ${signed(rssDiff)} MiB | < +30 MiB | ${pf(rssDiff < 30)} |`);
    }

    // ---- 3. many small files
    out(`## 3. ${opts.smallFiles} small files: capture --data vs find | xargs sha256sum; show of that snapshot`);
    const small = ensureSmallFiles(opts.smallFiles);
    out(`  data: ${small.dir} (${small.files} files of 1-4 KiB, ${small.bytes} bytes, ${small.reused ? 'reused from cache' : 'generated now'})`);
    spawnSync('sh', ['-c', `find ${shellQuote(small.dir)} -type f -print0 | xargs -0 cat > /dev/null`]);
    const smallSnap = join(tmp, 'small.yaml');
    const plainSnap = join(tmp, 'plain.yaml');
    const captureSmallArgs = [runJs, 'capture', '--python', python, '--data', small.dir, '--output', smallSnap, '--force'];
    const capturePlainArgs = [runJs, 'capture', '--python', python, '--output', plainSnap, '--force'];
    const shaSmall = ['-c', `cd ${shellQuote(small.dir)} && find . -type f ! -name .complete -print0 | xargs -0 sha256sum > /dev/null`];
    const r3 = await bench(method, tmp, [
      { key: 'find | xargs sha256sum', cmd: 'sh', args: shaSmall },
      { key: 'capture --data small', cmd: node, args: captureSmallArgs },
      { key: 'capture (no --data)', cmd: node, args: capturePlainArgs },
    ], opts.runs, 'small files');
    printSamples(r3);
    const r3show = await bench(method, tmp, [
      { key: 'show (20k-file data)', cmd: node, args: [runJs, 'show', smallSnap] },
      { key: 'show (no data)', cmd: node, args: [runJs, 'show', plainSnap] },
    ], opts.runs, 'show');
    printSamples(r3show);
    const shaS = r3['find | xargs sha256sum'];
    const capS = r3['capture --data small'];
    const capP = r3['capture (no --data)'];
    const netSmall = capS.wallS - capP.wallS;
    const smallRatio = netSmall / shaS.wallS;
    const showS = r3show['show (20k-file data)'];
    const showP = r3show['show (no data)'];
    out();
    out(`  find | xargs sha256sum: ${fmt(shaS.wallS, 3)} s`);
    out(`  capture --data net:     ${fmt(netSmall, 3)} s (${fmt(capS.wallS, 3)} - ${fmt(capP.wallS, 3)})  ${fmt(smallRatio, 2)}x sha256sum  ${smallRatio <= 3 ? 'PASS' : 'FAIL'} (target <= 3x)`);
    out(`  peak RSS with the small files ${fmt(capS.rssMiB, 1)} MiB vs without ${fmt(capP.rssMiB, 1)} MiB`);
    out(`  show: ${fmt(showS.wallS, 3)} s with the 20k-file data vs ${fmt(showP.wallS, 3)} s without  ${showS.wallS < 0.5 ? 'PASS' : 'FAIL'} (target < 0.5 s); RSS ${fmt(showS.rssMiB, 1)} vs ${fmt(showP.rssMiB, 1)} MiB`);
    out();
    summary.push(`| ${opts.smallFiles} small files, net (capture --data − capture) | ${fmt(netSmall, 3)} s | find \\| xargs sha256sum ${fmt(shaS.wallS, 3)} s | ${fmt(smallRatio, 2)}× | ≤ 3× | ${pf(smallRatio <= 3)} |`);
    summary.push(`| peak RSS: capture with ${opts.smallFiles} small files vs without | ${fmt(capS.rssMiB, 1)} MiB | ${fmt(capP.rssMiB, 1)} MiB | ${signed(capS.rssMiB - capP.rssMiB)} MiB | — | info |`);
    summary.push(`| \`show\` of that snapshot vs one without data | ${fmt(showS.wallS, 3)} s | ${fmt(showP.wallS, 3)} s | ${fmt(showS.wallS / showP.wallS, 2)} | < 0.5 s | ${pf(showS.wallS < 0.5)} |`);

    // ---- summary
    out('## Summary');
    out();
    out(`Machine: nproc ${m.nproc}, ${m.model}; Node ${process.version}; ${captureText(python, ['-V'])}; median of ${opts.runs} runs; RSS via ${methodName}.`);
    out();
    out('| measurement | snapshot | baseline | ratio | target | result |');
    out('|---|---|---|---|---|---|');
    for (const row of summary) out(row);
  } finally {
    cleanup();
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  process.exitCode = 1;
});
