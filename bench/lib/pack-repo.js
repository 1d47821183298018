// The repository bench/context.js and bench/replay.js pack: `fileCount` files in 100 folders, nine
// in ten thousand of them large (weights files holding four fifths of the bytes) and the rest
// small, `sizeMiB` in all, of pseudo-random bytes (incompressible, as weights are); committed, then
// made dirty (edits, a new staged binary) with the patch written as capture writes it, so the
// patched-tree path is what is measured. One definition, so both benches pack the same tree.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

export function sh(cmd, cmdArgs, options = {}) {
  const r = spawnSync(cmd, cmdArgs, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.error) throw r.error;
  if (r.status !== 0 && !options.allowFail) throw new Error(`${cmd} ${cmdArgs.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r;
}

/**
 * Makes the repository at `repo` and, in `work`, `<name>.yaml` (a snapshot of it, with its patch
 * in `<name>.bundle/`). Returns the snapshot's path, the patched tree's id (for `git archive`, from
 * a scratch index of the bench's own) and a line describing what was made.
 */
export function makePackRepo({ root, work, repo, fileCount, sizeMiB, name }) {
  const started = performance.now();
  const git = (...a) => sh('git', ['-C', repo, '-c', 'user.email=b@example.com', '-c', 'user.name=bench', ...a]);
  const totalBytes = sizeMiB * 1024 * 1024;
  const largeCount = Math.max(1, Math.round(fileCount / 1000));
  const smallCount = fileCount - largeCount;
  // Four fifths of the bytes in the few large files, the rest spread over the small ones.
  const smallBytes = Math.floor((totalBytes * 0.2) / smallCount);
  const largeBytes = Math.floor((totalBytes - smallBytes * smallCount) / largeCount);
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
  // Dirty, as a training run often is: edits, a new binary file.
  for (let i = 0; i < 20; i++) writeFileSync(join(repo, `pkg${String(i).padStart(2, '0')}`, `m${i}.py`), `# edited ${i}\n`);
  writeFileSync(join(repo, 'weights', 'new.bin'), randomBytes(1 << 20));
  git('add', 'weights/new.bin');
  const bundle = join(work, `${name}.bundle`);
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
      patch_file: `${name}.bundle/code.patch`,
      patch_sha256: createHash('sha256').update(patch).digest('hex'),
      patch_size: patch.length,
      patch_error: null,
      staged: ['weights/new.bin'],
      untracked: [],
      submodules: [],
    },
  };
  const snapshotPath = join(work, `${name}.yaml`);
  writeFileSync(snapshotPath, YAML.stringify(snapshot));
  // The same patched tree for the baseline, through a scratch index of the bench's own.
  const env = { ...process.env, GIT_INDEX_FILE: join(work, `${name}.index`) };
  sh('git', ['-C', repo, 'read-tree', 'HEAD'], { env });
  sh('git', ['-C', repo, 'apply', '--cached', patchPath], { env });
  const tree = sh('git', ['-C', repo, 'write-tree'], { env }).stdout.trim();
  const made = `${fileCount} files, ${sizeMiB} MiB (${largeCount} of ${(largeBytes / 1048576).toFixed(1)} MiB, ${smallCount} of ${(smallBytes / 1024).toFixed(1)} KiB), made in ${((performance.now() - started) / 1000).toFixed(1)} s`;
  return { snapshotPath, tree, made };
}

/** The script a measured process runs: buildContext() of the snapshot, pack() to /dev/null, the byte count on stderr. */
export function packScript(root, snapshotPath) {
  return `
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
const { buildContext } = await import(${JSON.stringify(join(root, 'dist', 'services', 'build-context.js'))});
const { readSnapshot } = await import(${JSON.stringify(join(root, 'dist', 'adapters', 'snapshot-file.js'))});
const path = ${JSON.stringify(snapshotPath)};
const snapshot = await readSnapshot(path);
const context = await buildContext({ snapshot, snapshotPath: path, repoDir: snapshot.code.path, noCode: false, commitOnly: false, toolVersion: '0.1.0', timeoutMs: 600000 });
let bytes = 0;
const stream = context.pack();
stream.on('data', (chunk) => { bytes += chunk.length; });
await pipeline(stream, createWriteStream('/dev/null'));
await context.dispose();
process.stderr.write('BYTES=' + bytes + '\\n');
`;
}
