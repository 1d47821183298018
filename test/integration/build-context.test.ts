// The code tree and the build context from real git repositories: a code folder inside its
// repository, a dirty tree whose patch adds, modifies, deletes and chmods files (text, binary, a
// symlink), a submodule with a patch of its own, a .dockerignore that excludes a folder and brings
// one file back. The tar is read back entry by entry; `snapshot dockerfile`'s folder must hold the
// same entries; the user's repository must be left exactly as it was.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tar from 'tar-stream';
import { compareKeys, orderKey } from '../../src/core/code-tree.js';
import type { Snapshot } from '../../src/core/model.js';
import { buildContext, type BuildContext, type BuildContextInput } from '../../src/services/build-context.js';
import { generateDockerfile } from '../../src/services/dockerfile.js';
import { captureCode } from '../helpers/code-snapshot.js';
import { makeSnapshot } from '../helpers/snapshot-fixture.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'snapshot-context-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const gitIn = (dir: string) => (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'protocol.file.allow=always', ...args], { encoding: 'utf8' });
const BINARY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

interface ReadEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: string;
  linkname: string | null;
  content: Buffer;
}

async function readTarBytes(bytes: Buffer): Promise<ReadEntry[]> {
  const extract = tar.extract();
  const entries: ReadEntry[] = [];
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const h = entry.header;
      entries.push({ name: h.name, type: h.type, mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime.toISOString(), linkname: h.linkname ?? null, content: Buffer.concat(chunks) });
    }
  })();
  extract.end(bytes);
  await done;
  return entries;
}

async function packBytes(context: BuildContext): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of context.pack()) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** What git says about a repository's state: any write into it (objects, index) shows here. */
function repoState(dir: string): string {
  const git = gitIn(dir);
  // --no-optional-locks: status itself would otherwise refresh (write) the index.
  return [git('--no-optional-locks', 'status', '--porcelain=v1', '--ignore-submodules=none'), git('count-objects', '-v'), lstatSync(join(git('rev-parse', '--absolute-git-dir').trim(), 'index')).mtimeMs].join('\n');
}

const contextInput = (snapshot: Snapshot, snapshotPath: string, repoDir: string | null): BuildContextInput => ({
  snapshot,
  snapshotPath,
  repoDir,
  target: 'cpu',
  noCode: false,
  commitOnly: false,
  toolVersion: '0.1.0',
  timeoutMs: 60_000,
});

describe('a dirty monorepo with a submodule, a binary file, a symlink and a .dockerignore', () => {
  let repo: string;
  let codeDir: string;
  let snapshot: Snapshot;
  let snapshotPath: string;
  let before: { repo: string; sub: string };
  let entries: ReadEntry[];
  let bytes: Buffer;
  let context: BuildContext;

  beforeAll(async () => {
    const lib = join(work, 'libsrc');
    mkdirSync(lib);
    const libGit = gitIn(lib);
    libGit('init', '-q');
    writeFileSync(join(lib, 'core.py'), 'VALUE = 1\n');
    libGit('add', '-A');
    libGit('commit', '-qm', 'lib');

    repo = join(work, 'mono');
    codeDir = join(repo, 'models', 'tiny');
    mkdirSync(codeDir, { recursive: true });
    mkdirSync(join(repo, 'data', 'sub'), { recursive: true });
    mkdirSync(join(repo, 'lib-extra'));
    const git = gitIn(repo);
    git('init', '-q');
    writeFileSync(join(repo, '.dockerignore'), '# not for the image\ndata\n!data/keep.txt\n*.log\n');
    writeFileSync(join(repo, 'data', 'a.csv'), 'x,y\n');
    writeFileSync(join(repo, 'data', 'keep.txt'), 'keep me\n');
    writeFileSync(join(repo, 'data', 'sub', 'b.csv'), 'b\n');
    writeFileSync(join(repo, 'train.log'), 'noise\n');
    writeFileSync(join(codeDir, 'train.py'), 'print("committed")\n');
    writeFileSync(join(repo, 'common.py'), 'X = 1\n');
    writeFileSync(join(repo, 'delete-me.py'), 'gone\n');
    writeFileSync(join(repo, 'run.sh'), '#!/bin/sh\necho run\n');
    writeFileSync(join(repo, 'tool.sh'), '#!/bin/sh\necho tool\n');
    chmodSync(join(repo, 'tool.sh'), 0o755);
    writeFileSync(join(repo, 'model.bin'), BINARY);
    symlinkSync('common.py', join(repo, 'link.py'));
    // lib.py and lib-extra/ sort between the submodule's own entry (lib) and its files (lib/...).
    writeFileSync(join(repo, 'lib.py'), 'LIB = 1\n');
    writeFileSync(join(repo, 'lib-extra', 'x.txt'), 'x\n');
    git('add', '-A');
    git('submodule', '-q', 'add', lib, 'lib');
    git('commit', '-qm', 'first');

    // The uncommitted changes the training ran with: modify, delete, add, chmod, binary.
    writeFileSync(join(repo, 'common.py'), 'X = 2\n');
    writeFileSync(join(codeDir, 'train.py'), 'print("patched")\n');
    unlinkSync(join(repo, 'delete-me.py'));
    writeFileSync(join(repo, 'added.py'), 'NEW = True\n');
    chmodSync(join(repo, 'run.sh'), 0o755);
    writeFileSync(join(repo, 'model.bin'), Buffer.concat([BINARY.subarray(128), Buffer.from([0, 0, 7])]));
    writeFileSync(join(repo, 'new.bin'), Buffer.from([0, 255, 0, 254]));
    git('add', 'added.py', 'new.bin');
    // The submodule's own changes.
    writeFileSync(join(repo, 'lib', 'core.py'), 'VALUE = 2\n');
    writeFileSync(join(repo, 'lib', 'extra.py'), 'E = 1\n');
    gitIn(join(repo, 'lib'))('add', 'extra.py');

    ({ snapshot, snapshotPath } = await captureCode(codeDir, join(work, 'snap')));
    before = { repo: repoState(repo), sub: repoState(join(repo, 'lib')) };
    context = await buildContext(contextInput(snapshot, snapshotPath, codeDir));
    bytes = await packBytes(context);
    entries = await readTarBytes(bytes);
  });
  afterAll(() => context?.dispose());

  const entry = (name: string) => {
    const found = entries.find((e) => e.name === name);
    if (found === undefined) throw new Error(`no ${name} in ${entries.map((e) => e.name).join(', ')}`);
    return found;
  };

  it('holds the whole repository at the commit with the patch applied, the submodule with its own', () => {
    expect(entries.map((e) => e.name)).toEqual([
      'Dockerfile',
      'code/',
      'code/.dockerignore',
      'code/.gitmodules',
      'code/added.py',
      'code/common.py',
      'code/data/',
      'code/data/keep.txt',
      'code/lib-extra/',
      'code/lib-extra/x.txt',
      'code/lib.py',
      'code/lib/',
      'code/lib/core.py',
      'code/lib/extra.py',
      'code/link.py',
      'code/model.bin',
      'code/models/',
      'code/models/tiny/',
      'code/models/tiny/train.py',
      'code/new.bin',
      'code/run.sh',
      'code/tool.sh',
      'requirements.txt',
      'snapshot.yaml',
      'snapshot_probe.py',
      'snapshot_recorder/',
      'snapshot_recorder/_snapshot_recorder.py',
      'snapshot_recorder/sitecustomize.py',
    ]);
    expect(entry('code/common.py').content.toString()).toBe('X = 2\n');
    expect(entry('code/models/tiny/train.py').content.toString()).toBe('print("patched")\n');
    expect(entry('code/added.py').content.toString()).toBe('NEW = True\n');
    expect(entry('code/lib/core.py').content.toString()).toBe('VALUE = 2\n');
    expect(entry('code/lib/extra.py').content.toString()).toBe('E = 1\n');
    expect(entry('code/lib.py').content.toString()).toBe('LIB = 1\n');
  });

  it('keeps binary files byte for byte, the executable bit, and symlinks as links', () => {
    expect(entry('code/model.bin').content).toEqual(Buffer.concat([BINARY.subarray(128), Buffer.from([0, 0, 7])]));
    expect(entry('code/new.bin').content).toEqual(Buffer.from([0, 255, 0, 254]));
    expect(entry('code/run.sh').mode).toBe(0o755);
    expect(entry('code/tool.sh').mode).toBe(0o755);
    expect(entry('code/common.py').mode).toBe(0o644);
    expect(entry('code/link.py')).toMatchObject({ type: 'symlink', linkname: 'common.py', mode: 0o777 });
  });

  it('honours the .dockerignore: a folder left out with one file brought back, a root glob', () => {
    const names = entries.map((e) => e.name);
    expect(names.filter((n) => n.startsWith('code/data'))).toEqual(['code/data/', 'code/data/keep.txt']);
    expect(names).not.toContain('code/train.log');
    expect(context.code).toMatchObject({ included: true, dockerignore: ['data', '!data/keep.txt', '*.log'] });
  });

  it('is sorted, dated 1980, owned by root, with normalised modes', () => {
    const keys = entries.map((e) => orderKey(e.name.replace(/\/$/, ''), e.type === 'directory' ? 'directory' : 'file'));
    expect([...keys].sort(compareKeys)).toEqual(keys);
    for (const e of entries) {
      expect([e.name, e.uid, e.gid, e.mtime]).toEqual([e.name, 0, 0, '1980-01-01T00:00:00.000Z']);
      expect([e.name, [0o644, 0o755, 0o777].includes(e.mode)]).toEqual([e.name, true]);
    }
  });

  it('gives the same bytes every time: packed twice, and from a fresh context', async () => {
    expect(sha256(await packBytes(context))).toBe(sha256(bytes));
    const again = await buildContext(contextInput(snapshot, snapshotPath, codeDir));
    try {
      expect(sha256(await packBytes(again))).toBe(sha256(bytes));
    } finally {
      await again.dispose();
    }
  });

  it('starts the image in the code folder inside the repository, and says what the code is', () => {
    expect(context.plan.files.Dockerfile).toMatch(/^WORKDIR \/workspace\/code\/models\/tiny$/m);
    expect(context.plan.files.Dockerfile).toContain('# Submodule lib at commit');
    expect(context.code).toMatchObject({ included: true, patched: true, subdir: 'models/tiny', submodules: [{ path: 'lib', patched: true }] });
    expect(entry('Dockerfile').content.toString()).toBe(context.plan.files.Dockerfile);
  });

  it('leaves the repository and the submodule exactly as they were: no object, no index write', () => {
    expect(repoState(repo)).toBe(before.repo);
    expect(repoState(join(repo, 'lib'))).toBe(before.sub);
  });

  it('writes the same entries as the folder `snapshot dockerfile` makes', async () => {
    const out = join(work, 'ctx-folder');
    const result = await generateDockerfile({ snapshotPath, outputDir: out, target: 'cpu', codeDir, noCode: false, commitOnly: false, force: false, cwd: work, toolVersion: '0.1.0', timeoutMs: 60_000 });
    expect(result.code).toMatchObject({ included: true, patched: true, dockerignore: true });
    const onDisk = (dir: string, prefix = ''): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
        const name = `${prefix}${d.name}`;
        return d.isDirectory() ? [`${name}/`, ...onDisk(join(dir, d.name), `${name}/`)] : [name];
      });
    const tarNames = entries.map((e) => e.name);
    expect(onDisk(out).sort()).toEqual([...tarNames].sort());
    for (const e of entries) {
      const path = join(out, e.name);
      const info = lstatSync(path);
      expect([e.name, info.mode & 0o777, info.mtime.toISOString()]).toEqual([e.name, e.type === 'symlink' ? info.mode & 0o777 : e.mode, '1980-01-01T00:00:00.000Z']);
      if (e.type === 'file') expect([e.name, sha256(readFileSync(path))]).toEqual([e.name, sha256(e.content)]);
      if (e.type === 'symlink') expect(readlinkSync(path)).toBe(e.linkname);
    }
  });
});

describe('what the code layer refuses', () => {
  let repo: string;
  let commit: string;

  beforeAll(() => {
    repo = join(work, 'plain');
    mkdirSync(join(repo, 'data'), { recursive: true });
    const git = gitIn(repo);
    git('init', '-q');
    writeFileSync(join(repo, 'a.py'), 'A = 1\n');
    writeFileSync(join(repo, 'data', 'd.txt'), 'd\n');
    git('add', '-A');
    git('commit', '-qm', 'x');
    commit = git('rev-parse', 'HEAD').trim();
  });

  const snapshotWith = (dir: string, git: Partial<NonNullable<NonNullable<Snapshot['code']>['git']>>): { snapshot: Snapshot; snapshotPath: string } => {
    mkdirSync(dir, { recursive: true });
    const snapshot = makeSnapshot({ code: { path: repo, repo_root: repo, in_repo: '', git: { commit, branch: null, remote_url: null, dirty: false, patch_file: null, patch_sha256: null, patch_size: null, patch_error: null, staged: [], untracked: [], submodules: [], ...git } } });
    return { snapshot, snapshotPath: join(dir, 'snapshot.yaml') };
  };

  it('a patch that does not apply to the commit: CODE_LAYER_FAILED, naming the step', async () => {
    const dir = join(work, 'bad-patch');
    mkdirSync(dir);
    const patch = Buffer.from('diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-NOT THERE\n+B = 2\n');
    writeFileSync(join(dir, 'code.patch'), patch);
    const { snapshot, snapshotPath } = snapshotWith(dir, { dirty: true, patch_file: 'code.patch', patch_sha256: sha256(patch), patch_size: patch.length });
    await expect(buildContext(contextInput(snapshot, snapshotPath, repo))).rejects.toMatchObject({ code: 'CODE_LAYER_FAILED', message: expect.stringMatching(/applying the captured patch .*failed/) });
  });

  it('a submodule path that is a plain folder of the commit, not a submodule: SUBMODULE_NOT_IN_TREE', async () => {
    const { snapshot, snapshotPath } = snapshotWith(join(work, 'fake-sub'), {
      submodules: [{ path: 'data', commit, url: null, initialized: true, dirty: false, patch_file: null, patch_sha256: null, patch_size: null, patch_error: null, untracked: [] }],
    });
    await expect(buildContext(contextInput(snapshot, snapshotPath, repo))).rejects.toMatchObject({ code: 'SUBMODULE_NOT_IN_TREE', message: expect.stringMatching(/submodule data is not a submodule of the repository .*a tree is there/) });
  });

  it('a submodule path that would leave code/ or enter .git: refused as an unsafe value', async () => {
    for (const path of ['../outside', '.git/hooks', 'a//b']) {
      const { snapshot, snapshotPath } = snapshotWith(join(work, 'bad-sub'), {
        submodules: [{ path, commit, url: null, initialized: true, dirty: false, patch_file: null, patch_sha256: null, patch_size: null, patch_error: null, untracked: [] }],
      });
      await expect(buildContext(contextInput(snapshot, snapshotPath, repo))).rejects.toMatchObject({ code: 'UNSAFE_SNAPSHOT_VALUE', message: expect.stringContaining('code.git.submodules[0].path') });
    }
  });

  it('a tree git itself will not archive (an entry named ..): CODE_LAYER_FAILED with git\'s reason', async () => {
    const git = gitIn(repo);
    const blob = execFileSync('git', ['-C', repo, 'hash-object', '-w', '--stdin'], { input: 'x\n', encoding: 'utf8' }).trim();
    const tree = execFileSync('git', ['-C', repo, 'mktree'], { input: `100644 blob ${blob}\t..\n`, encoding: 'utf8' }).trim();
    const crafted = git('commit-tree', tree, '-m', 'crafted').trim();
    const dir = join(work, 'crafted-tree');
    mkdirSync(dir);
    const snapshot = makeSnapshot({ code: { path: repo, repo_root: repo, in_repo: '', git: { commit: crafted, branch: null, remote_url: null, dirty: false, patch_file: null, patch_sha256: null, patch_size: null, patch_error: null, staged: [], untracked: [], submodules: [] } } });
    const context = await buildContext(contextInput(snapshot, join(dir, 'snapshot.yaml'), repo));
    try {
      await expect(packBytes(context)).rejects.toMatchObject({ code: 'CODE_LAYER_FAILED', message: expect.stringMatching(/invalid path/) });
    } finally {
      await context.dispose();
    }
  });

  it('a tar reader that gives up (a failed build) ends the stream and stops git', async () => {
    const { snapshot, snapshotPath } = snapshotWith(join(work, 'destroyed'), {});
    const context = await buildContext(contextInput(snapshot, snapshotPath, repo));
    const stream = context.pack() as unknown as AsyncIterable<Buffer> & { destroy(): void };
    for await (const chunk of stream) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    stream.destroy();
    await context.dispose();
    const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`-C ${repo} archive`));
    expect(left).toEqual([]);
  });

  it('a reader that stops early stops git, and the context can still be disposed', async () => {
    const { snapshot, snapshotPath } = snapshotWith(join(work, 'early'), {});
    const context = await buildContext(contextInput(snapshot, snapshotPath, repo));
    const seen: string[] = [];
    for await (const e of context.entries()) {
      seen.push(e.name);
      if (e.name.startsWith('code/')) break;
    }
    await context.dispose();
    expect(seen).toEqual(['Dockerfile', 'code', 'code/a.py']);
  });
});
