// The code record, for real: the patch of a dirty tree is kept whatever it takes (no probe timeout
// on it, progress while it is written, Ctrl-C and SIGTERM still stop it), a tree that cannot be
// saved is never passed off as captured, and the patch is checked wherever it is read. A stand-in
// git on PATH (test/fixtures/fake-bin/git-diff) fails or blocks only the patch write, on cue.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { cleanEnv, fakeBin, killStartedClis, repoRoot, runCli, startCli } from '../helpers/cli.js';
import { processEnds, processGone } from '../helpers/processes.js';
import { SCHEMA_VERSION } from '../../src/core/model.js';
import { runProcess } from '../../src/adapters/process.js';
import { findPython } from '../helpers/pythons.js';

let work: string;
let python: string;
const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'snapshot-code-'));
  // A plain interpreter: its probe answers in milliseconds, so a short --probe-timeout is safe.
  const found = findPython('3.11');
  if (found === null) throw new Error('no Python 3.11 on this machine (pyenv or PATH)');
  python = found;
});
afterAll(() => {
  killStartedClis();
  rmSync(work, { recursive: true, force: true });
});

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function gitIn(repo: string) {
  return (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { encoding: 'utf8' });
}

/** A repository with train.py committed and then edited: a dirty tree that needs its patch. */
function dirtyRepo(name: string): string {
  const repo = join(work, name);
  mkdirSync(repo, { recursive: true });
  const git = gitIn(repo);
  git('init', '-q');
  writeFileSync(join(repo, 'train.py'), 'print("committed")\n');
  git('add', '-A');
  git('commit', '-qm', 'first');
  writeFileSync(join(repo, 'train.py'), 'print("edited, not committed")\n');
  return repo;
}

/** What the stand-in git does to the patch write. */
function fakeGit(mode: 'fail' | 'block', pidFile = ''): NodeJS.ProcessEnv {
  return cleanEnv({ PATH: `${fakeBin('git-diff')}:${process.env.PATH ?? ''}`, REAL_GIT: realGit, FAKE_GIT_DIFF: mode, FAKE_GIT_PIDFILE: pidFile });
}

const leftovers = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('.') && (f.includes('.staging') || f.endsWith('.tmp')));

describe('a large binary change', () => {
  it('is kept in the patch whole, with its checksum, and named as probably data', async () => {
    const repo = join(work, 'big');
    mkdirSync(repo);
    const git = gitIn(repo);
    git('init', '-q');
    writeFileSync(join(repo, 'train.py'), 'print(1)\n');
    writeFileSync(join(repo, 'weights.bin'), randomBytes(40 * 1024 * 1024));
    git('add', '-A');
    git('commit', '-qm', 'weights');
    const changed = randomBytes(40 * 1024 * 1024);
    writeFileSync(join(repo, 'weights.bin'), changed);
    const out = join(work, 'big-out');
    mkdirSync(out);
    const r = await runCli(['capture', '--python', python, '--code', repo, '--json'], { cwd: out, env: cleanEnv(), timeoutMs: 600_000 });
    expect(r.exitCode).toBe(0);
    const patch = join(out, 'snapshot.bundle', 'code.patch');
    expect(r.json.result.code.git).toMatchObject({ dirty: true, patch_file: 'snapshot.bundle/code.patch', patch_sha256: sha256(patch), patch_size: readFileSync(patch).length, patch_error: null });
    expect(r.json.warnings).toContainEqual(expect.stringMatching(/^weights\.bin in the code repository is 40\.0 MiB of binary data: .*pass them with --data/));
    expect(r.json.warnings.join('\n')).not.toMatch(/train\.py/);
    // The bundle keeps git from rewriting the patch's line endings when it is committed.
    expect(readFileSync(join(out, 'snapshot.bundle', '.gitattributes'), 'utf8')).toBe('*.patch -text\n');
    const clone = join(work, 'big-clone');
    execFileSync('git', ['clone', '-q', repo, clone]);
    execFileSync('git', ['-C', clone, 'apply', patch]);
    expect(readFileSync(join(clone, 'weights.bin')).equals(changed)).toBe(true);
  }, 600_000);
});

describe('uncommitted changes that cannot be saved', () => {
  it('are an error before the training runs, with nothing written', async () => {
    const repo = dirtyRepo('fail');
    const r = await runCli(['capture', '--python', python, '--code', repo, '--run', 'touch training-ran', '--outputs', 'out', '--json'], { cwd: repo, env: fakeGit('fail') });
    expect(r.exitCode).toBe(6);
    expect(r.json.error.code).toBe('PATCH_NOT_SAVED');
    expect(r.json.error.message).toMatch(/could not be saved as a patch: git exited with code 128: fatal: unable to write to standard output: No space left on device/);
    expect(r.json.error.hint).toMatch(/--allow-missing-patch/);
    expect(existsSync(join(repo, 'training-ran'))).toBe(false);
    expect(existsSync(join(repo, 'snapshot.yaml'))).toBe(false);
    expect(existsSync(join(repo, 'snapshot.bundle'))).toBe(false);
    expect(leftovers(repo)).toEqual([]);
  });

  describe('kept with --allow-missing-patch', () => {
    let repo: string;
    let captured: Awaited<ReturnType<typeof runCli>>;

    beforeAll(async () => {
      repo = dirtyRepo('allowed');
      captured = await runCli(['capture', '--python', python, '--code', repo, '--allow-missing-patch', '--json'], { cwd: repo, env: fakeGit('fail') });
    });

    it('record why, and say so', () => {
      expect(captured.exitCode).toBe(0);
      expect(captured.json.result.code.git).toMatchObject({ dirty: true, patch_file: null, patch_sha256: null, patch_size: null });
      expect(captured.json.result.code.git.patch_error).toMatch(/No space left on device/);
      expect(captured.json.warnings.join('\n')).toMatch(/records only the commit.*--allow-missing-patch/);
      expect(existsSync(join(repo, 'snapshot.bundle'))).toBe(false);
    });

    it('are stated by show', async () => {
      const shown = await runCli(['show'], { cwd: repo });
      expect(shown.exitCode).toBe(0);
      expect(shown.stdout).toMatch(/! The code is not the captured tree: the training ran with uncommitted changes that were not saved \(.*No space left on device\)/);
    });

    it('make dockerfile refuse to build the commit as if it were the code', async () => {
      const r = await runCli(['dockerfile', '--json'], { cwd: repo });
      expect(r.exitCode).toBe(3);
      expect(r.json.error.code).toBe('CODE_NOT_CAPTURED');
      expect(r.json.error.message).toMatch(/uncommitted changes that the snapshot does not hold .* so commit [0-9a-f]{12} alone is other code/);
      expect(r.json.error.hint).toMatch(/--commit-only/);
      expect(existsSync(join(repo, 'snapshot.docker'))).toBe(false);
    });

    it('build the commit only with --commit-only, which the output and the image say', async () => {
      const human = await runCli(['dockerfile', '--commit-only', '--output-dir', join(work, 'commit-only')], { cwd: repo });
      expect(human.exitCode).toBe(0);
      expect(human.stdout).toMatch(/Code: commit [0-9a-f]{12} ONLY, without the uncommitted changes the training ran with \(--commit-only\)/);
      expect(human.stderr).toMatch(/Warning: The code is commit [0-9a-f]{12} alone, not the tree the training ran on/);
      expect(readFileSync(join(work, 'commit-only', 'Dockerfile'), 'utf8')).toMatch(/^# The code at commit [0-9a-f]{40} ONLY: the uncommitted changes the training ran with were not captured/m);
      expect(readFileSync(join(work, 'commit-only', 'code', 'train.py'), 'utf8')).toBe('print("committed")\n');
    });
  });
});

describe('the patch has no probe timeout, and Ctrl-C or SIGTERM still stop it', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s while the patch is written: exit %i, nothing written, git stopped', async (signal, code) => {
    const repo = dirtyRepo(`block-${signal}`);
    const pidFile = join(work, `git-${signal}.pid`);
    const cli = startCli(['capture', '--python', python, '--code', repo, '--probe-timeout', '3', '--json'], { cwd: repo, env: fakeGit('block', pidFile) });
    // Progress past the 3 s probe timeout: the patch write outlives it, as a slow disk's would.
    await cli.stderrMatches(/saving the uncommitted changes as a patch: 1\.0 MiB so far \(([4-9]|\d\d+) s\)/);
    const gitPid = Number(readFileSync(pidFile, 'utf8'));
    expect(processGone(gitPid)).toBe(false);
    cli.signal(signal);
    const r = await cli.exited;
    expect(r.exitCode).toBe(code);
    const envelope = JSON.parse(r.stdout);
    expect(envelope).toMatchObject({ status: code, error: { code: 'INTERRUPTED' } });
    expect(envelope.error.message).toBe(`interrupted (${signal}) during probing; nothing was written`);
    expect(existsSync(join(repo, 'snapshot.yaml'))).toBe(false);
    expect(existsSync(join(repo, 'snapshot.bundle'))).toBe(false);
    expect(leftovers(repo)).toEqual([]);
    await processEnds(gitPid);
    expect(processGone(gitPid)).toBe(true);
  }, 120_000);
});

describe('the patch is checked wherever it is read', () => {
  let captured: string;

  beforeAll(async () => {
    const repo = dirtyRepo('checked');
    captured = join(work, 'checked-snap');
    mkdirSync(captured);
    const r = await runCli(['capture', '--python', python, '--code', repo], { cwd: captured, env: cleanEnv() });
    expect(r.exitCode).toBe(0);
  });

  /** A copy of the captured snapshot and bundle whose patch `damage` changes. */
  function copyWith(name: string, damage: (patch: string) => void): string {
    const dir = join(work, name);
    cpSync(captured, dir, { recursive: true });
    damage(join(dir, 'snapshot.bundle', 'code.patch'));
    return dir;
  }

  it('builds from the intact patch', async () => {
    const r = await runCli(['dockerfile', '--output-dir', join(work, 'intact-ctx'), '--json'], { cwd: captured });
    expect(r.exitCode).toBe(0);
    expect(r.json.result.code).toMatchObject({ included: true, patched: true, commitOnly: false });
    expect(readFileSync(join(work, 'intact-ctx', 'code', 'train.py'), 'utf8')).toBe('print("edited, not committed")\n');
  });

  it.each([
    ['edited', (p: string) => writeFileSync(p, readFileSync(p, 'utf8').replace('edited, not committed', 'edited, by someone else'))],
    ['truncated', (p: string) => truncateSync(p, 20)],
  ])('refuses a patch %s since capture, naming it', async (how, damage) => {
    const dir = copyWith(how, damage);
    const r = await runCli(['dockerfile', '--json'], { cwd: dir });
    expect(r.exitCode).toBe(3);
    expect(r.json.error.code).toBe('PATCH_MODIFIED');
    expect(r.json.error.message).toContain(`the captured patch ${join(dir, 'snapshot.bundle', 'code.patch')} is not the one the snapshot recorded`);
    expect(existsSync(join(dir, 'snapshot.docker'))).toBe(false);
  });

  it('refuses a missing patch instead of building the commit alone', async () => {
    const dir = copyWith('missing', (p) => rmSync(p));
    const r = await runCli(['dockerfile', '--json'], { cwd: dir });
    expect(r.exitCode).toBe(3);
    expect(r.json.error.code).toBe('PATCH_MISSING');
    expect(existsSync(join(dir, 'snapshot.docker'))).toBe(false);
  });

  it('builds a stored schema 1 snapshot, whose patch has no checksum, and says it could not be checked', async () => {
    const repo = join(work, 'schema-1-repo');
    execFileSync('bash', [join(repoRoot, 'test', 'fixtures', 'snapshots', 'make-repo.sh'), repo]);
    const dir = join(work, 'schema-1');
    cpSync(join(repoRoot, 'test', 'fixtures', 'snapshots', 'schema-1'), dir, { recursive: true });
    const r = await runCli(['dockerfile', '--code', repo, '--output-dir', join(work, 'schema-1-ctx'), '--json'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.json.warnings.join('\n')).toMatch(/The captured patch .*code\.patch cannot be checked: the snapshot \(an older schema\) recorded no checksum/);
    expect(readFileSync(join(work, 'schema-1-ctx', 'code', 'train.py'), 'utf8')).toContain('"loss": 0.25');
    expect(YAML.parse(readFileSync(join(work, 'schema-1-ctx', 'snapshot.yaml'), 'utf8')).schema).toBe(SCHEMA_VERSION);
  });
});

describe('submodules', () => {
  let repo: string;
  let captured: Awaited<ReturnType<typeof runCli>>;
  let libCommit: string;

  /** A repository of its own, to be added as a submodule. */
  function library(name: string, file: string, text: string): string {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    const git = gitIn(dir);
    git('init', '-q');
    writeFileSync(join(dir, file), text);
    git('add', '-A');
    git('commit', '-qm', `${name} first`);
    return dir;
  }

  beforeAll(async () => {
    const lib = library('sub-lib', 'layers.py', 'WIDTH = 16\n');
    const vendor = library('sub-vendor', 'tool.py', 'print("tool")\n');
    const docs = library('sub-docs', 'index.md', '# docs\n');
    repo = join(work, 'super');
    mkdirSync(repo);
    const git = gitIn(repo);
    git('init', '-q');
    writeFileSync(join(repo, 'train.py'), 'from lib.layers import WIDTH\nprint(WIDTH)\n');
    // file:// submodules need protocol.file.allow (git >= 2.38.1 refuses them by default).
    for (const [url, path] of [[lib, 'lib'], [vendor, 'third_party/vendor'], [docs, 'docs']]) git('-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', url as string, path as string);
    git('commit', '-qm', 'with submodules');
    // One submodule stays as committed, one is edited (a change and a staged new file), one is
    // not checked out at all.
    writeFileSync(join(repo, 'lib', 'layers.py'), 'WIDTH = 32  # edited, not committed\n');
    writeFileSync(join(repo, 'lib', 'extra.py'), 'X = 1\n');
    gitIn(join(repo, 'lib'))('add', 'extra.py');
    git('submodule', 'deinit', '-q', '-f', 'docs');
    // A file the vendored tool reads that was never committed in its repository.
    writeFileSync(join(repo, 'third_party', 'vendor', 'local_config.py'), 'KEY = 1\n');
    libCommit = gitIn(join(repo, 'lib'))('rev-parse', 'HEAD').trim();
    captured = await runCli(['capture', '--python', python, '--code', repo, '--json'], { cwd: repo, env: cleanEnv() });
  });

  it('records each submodule: its commit, remote and state, the edited one with a patch of its own', () => {
    expect(captured.exitCode).toBe(0);
    const git = captured.json.result.code.git;
    // The superproject's own tree is clean: the submodule's edits are not its changes.
    expect(git.dirty).toBe(false);
    expect(git.submodules).toEqual([
      { path: 'docs', commit: expect.stringMatching(/^[0-9a-f]{40}$/), url: null, initialized: false, dirty: false, patch_file: null, patch_sha256: null, patch_size: null, patch_error: null, untracked: [] },
      { path: 'lib', commit: libCommit, url: join(work, 'sub-lib'), initialized: true, dirty: true, patch_file: 'snapshot.bundle/submodules/1.patch', patch_sha256: expect.stringMatching(/^[0-9a-f]{64}$/), patch_size: expect.any(Number), patch_error: null, untracked: [] },
      { path: 'third_party/vendor', commit: expect.stringMatching(/^[0-9a-f]{40}$/), url: join(work, 'sub-vendor'), initialized: true, dirty: false, patch_file: null, patch_sha256: null, patch_size: null, patch_error: null, untracked: ['local_config.py'] },
    ]);
    expect(captured.json.warnings.join('\n')).toMatch(/submodule third_party\/vendor has 1 untracked file\(s\) \(local_config\.py\): they are in no rebuild/);
    const patch = readFileSync(join(repo, 'snapshot.bundle', 'submodules', '1.patch'), 'utf8');
    expect(patch).toContain('+WIDTH = 32  # edited, not committed');
    expect(patch).toContain('+X = 1');
    expect(captured.json.warnings.join('\n')).toMatch(/submodule docs is not initialized .*the training ran without its files/);
  });

  it('rebuilds every checked-out submodule at its commit in the code layer, with its patch, and names them', async () => {
    const ctx = join(work, 'super-ctx');
    const r = await runCli(['dockerfile', '--output-dir', ctx, '--json'], { cwd: repo });
    expect(r.exitCode).toBe(0);
    expect(r.json.result.code.submodules).toEqual([
      { path: 'lib', commit: libCommit, patched: true },
      { path: 'third_party/vendor', commit: expect.stringMatching(/^[0-9a-f]{40}$/), patched: false },
    ]);
    expect(readFileSync(join(ctx, 'code', 'lib', 'layers.py'), 'utf8')).toBe('WIDTH = 32  # edited, not committed\n');
    expect(readFileSync(join(ctx, 'code', 'lib', 'extra.py'), 'utf8')).toBe('X = 1\n');
    expect(readFileSync(join(ctx, 'code', 'third_party', 'vendor', 'tool.py'), 'utf8')).toBe('print("tool")\n');
    expect(readdirSync(join(ctx, 'code', 'docs'))).toEqual([]);
    const dockerfile = readFileSync(join(ctx, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`# Submodule lib at commit ${libCommit}, with its captured uncommitted patch applied.`);
    expect(r.json.warnings.join('\n')).toMatch(/Submodule docs was not initialized at capture: the training ran without its files, and the image has none either/);
    // The submodule's untracked file is named too, with the submodule's path.
    expect(r.json.warnings.join('\n')).toMatch(/untracked at capture and are not in the image: .*"third_party\/vendor\/local_config\.py"/);
    expect(existsSync(join(ctx, 'code', 'third_party', 'vendor', 'local_config.py'))).toBe(false);
  });

  it('records an embedded repository that .gitmodules does not name (git submodule status fails on it), and rebuilds it', async () => {
    const outer = join(work, 'embedded');
    mkdirSync(outer);
    const git = gitIn(outer);
    git('init', '-q');
    writeFileSync(join(outer, 'train.py'), 'print(1)\n');
    const inner = library('embedded-src', 'model.py', 'DEPTH = 3\n');
    execFileSync('git', ['clone', '-q', inner, join(outer, 'vendor')]);
    // `git add` of a repository records a gitlink without a .gitmodules entry (git warns, and allows it).
    git('add', 'train.py', 'vendor');
    git('commit', '-qm', 'embedded');
    const r = await runCli(['capture', '--python', python, '--code', outer, '--json'], { cwd: outer, env: cleanEnv() });
    expect(r.exitCode).toBe(0);
    const innerCommit = gitIn(inner)('rev-parse', 'HEAD').trim();
    expect(r.json.result.code.git.submodules).toEqual([expect.objectContaining({ path: 'vendor', commit: innerCommit, initialized: true, dirty: false })]);
    expect(r.json.warnings.join('\n')).toMatch(/vendor is a git repository inside the repository that \.gitmodules does not name/);
    const ctx = join(work, 'embedded-ctx');
    const d = await runCli(['dockerfile', '--output-dir', ctx, '--json'], { cwd: outer });
    expect(d.exitCode).toBe(0);
    expect(readFileSync(join(ctx, 'code', 'vendor', 'model.py'), 'utf8')).toBe('DEPTH = 3\n');
  });

  it('refuses, saying what to run, when a submodule is not checked out where dockerfile runs', async () => {
    const clone = join(work, 'super-clone');
    execFileSync('git', ['clone', '-q', repo, clone]);
    const dir = join(work, 'super-clone-snap');
    mkdirSync(dir);
    cpSync(join(repo, 'snapshot.yaml'), join(dir, 'snapshot.yaml'));
    cpSync(join(repo, 'snapshot.bundle'), join(dir, 'snapshot.bundle'), { recursive: true });
    const r = await runCli(['dockerfile', '--code', clone, '--json'], { cwd: dir });
    expect(r.exitCode).toBe(3);
    expect(r.json.error.code).toBe('SUBMODULE_NOT_HERE');
    expect(r.json.error.message).toContain(`submodule lib: commit ${libCommit.slice(0, 12)}, which the training ran, is not in ${join(clone, 'lib')}`);
    expect(r.json.error.hint).toContain('git submodule update --init --recursive');
    expect(existsSync(join(dir, 'snapshot.docker'))).toBe(false);
  });

  it('refuses a submodule patch that changed since capture', async () => {
    const dir = join(work, 'super-damaged');
    mkdirSync(dir);
    cpSync(join(repo, 'snapshot.yaml'), join(dir, 'snapshot.yaml'));
    cpSync(join(repo, 'snapshot.bundle'), join(dir, 'snapshot.bundle'), { recursive: true });
    truncateSync(join(dir, 'snapshot.bundle', 'submodules', '1.patch'), 10);
    const r = await runCli(['dockerfile', '--code', repo, '--json'], { cwd: dir });
    expect(r.exitCode).toBe(3);
    expect(r.json.error.code).toBe('PATCH_MODIFIED');
  });
});

describe('a repository without a commit yet', () => {
  it('keeps the staged and untracked lists, says the code cannot be rebuilt, and dockerfile leaves it out', async () => {
    const repo = join(work, 'unborn');
    mkdirSync(repo);
    const git = gitIn(repo);
    git('init', '-q');
    writeFileSync(join(repo, 'train.py'), 'print(1)\n');
    writeFileSync(join(repo, 'notes.txt'), 'todo\n');
    git('add', 'train.py');
    const r = await runCli(['capture', '--python', python, '--code', repo, '--json'], { cwd: repo, env: cleanEnv() });
    expect(r.exitCode).toBe(0);
    expect(r.json.result.code.git).toMatchObject({ commit: null, dirty: true, staged: ['train.py'], untracked: ['notes.txt'], patch_file: null, submodules: [] });
    expect(r.json.warnings.join('\n')).toMatch(/is a git repository without a commit yet: the code cannot be rebuilt from git \(1 staged, 1 untracked files recorded\)/);
    const shown = await runCli(['show'], { cwd: repo });
    expect(shown.stdout).toMatch(/a git repository without a commit yet \(branch \w+\), 1 staged, 1 untracked/);
    expect(shown.stdout).toMatch(/! The code cannot be rebuilt from git/);
    const d = await runCli(['dockerfile', '--json'], { cwd: repo });
    expect(d.exitCode).toBe(0);
    expect(d.json.result.code).toMatchObject({ included: false, reason: 'the repository had no commit yet when the snapshot was captured' });
  });
});

describe('Ctrl-C or SIGTERM during --run', () => {
  // The training and a child of it that ignores SIGTERM (a data loader worker, a shell wrapper).
  const TRAINING = [
    'import os, signal, subprocess, sys, time',
    'child = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); open(\'child-ready\', \'w\').close(); time.sleep(600)"])',
    'signal.signal(signal.SIGINT, signal.SIG_IGN)',
    // Only once the child ignores SIGTERM: the test is about what ignores it.
    'while not os.path.exists("child-ready"): time.sleep(0.01)',
    'open("pids", "w").write("%d %d" % (os.getpid(), child.pid))',
    'print("training started", flush=True)',
    'time.sleep(600)',
  ].join('\n');

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s reaching only the CLI stops the whole training, with the envelope, and leaves nothing behind', async (signal, code) => {
    const dir = join(work, `run-${signal}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'train.py'), `${TRAINING}\n`);
    const cli = startCli(['capture', '--python', python, '--code', dir, '--run', 'python train.py', '--outputs', 'out', '--json'], { cwd: dir, env: cleanEnv() });
    await cli.stderrMatches(/training started/);
    const [trainingPid, childPid] = readFileSync(join(dir, 'pids'), 'utf8').split(' ').map(Number) as [number, number];
    expect(processGone(trainingPid)).toBe(false);
    cli.signal(signal);
    const r = await cli.exited;
    expect(r.exitCode).toBe(code);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: code, error: { code: 'INTERRUPTED', message: `interrupted (${signal}) during the training; nothing was written` } });
    // TERM to the group, then KILL for what ignored it: nothing of the training outlives the CLI.
    expect(processGone(trainingPid)).toBe(true);
    expect(processGone(childPid)).toBe(true);
    expect(existsSync(join(dir, 'snapshot.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'snapshot.bundle'))).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  }, 120_000);
});

describe('a second signal, or SIGHUP, during --run', () => {
  const TRAINING = [
    'import os, signal, subprocess, sys, time',
    // Ignores everything but SIGKILL: only the forced stop ends it.
    'child = subprocess.Popen([sys.executable, "-c", "import signal, time; [signal.signal(s, signal.SIG_IGN) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)]; open(\'child-ready\', \'w\').close(); time.sleep(600)"])',
    'for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP): signal.signal(s, signal.SIG_IGN)',
    'while not os.path.exists("child-ready"): time.sleep(0.01)',
    'open("pids", "w").write("%d %d" % (os.getpid(), child.pid))',
    'print("training started", flush=True)',
    'time.sleep(600)',
  ].join('\n');

  async function started(name: string, extra: string[] = []) {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'train.py'), `${TRAINING}\n`);
    const cli = startCli(['capture', '--python', python, '--code', dir, '--run', 'python train.py', '--outputs', 'out', ...extra], { cwd: dir, env: cleanEnv() });
    await cli.stderrMatches(/training started/);
    const pids = readFileSync(join(dir, 'pids'), 'utf8').split(' ').map(Number) as [number, number];
    return { dir, cli, pids };
  }

  it('a second Ctrl-C forces the exit at once: the training group killed, the staging folder removed, exit 130', async () => {
    const { dir, cli, pids } = await started('second-sigint');
    cli.signal('SIGINT');
    // The first stop is under way (SIGTERM sent, the grace period running) once the CLI says so or
    // the training is past its first signal; either way a second one must not wait for the grace.
    await new Promise((resolve) => setTimeout(resolve, 200));
    cli.signal('SIGINT');
    const r = await cli.exited;
    expect(r.exitCode).toBe(130);
    for (const pid of pids) expect(processGone(pid)).toBe(true);
    expect(leftovers(dir)).toEqual([]);
    expect(existsSync(join(dir, 'snapshot.bundle'))).toBe(false);
  }, 120_000);

  it('SIGHUP (the terminal went away) stops the detached training too, with exit 129 and the envelope', async () => {
    const { dir, cli, pids } = await started('sighup', ['--json']);
    cli.signal('SIGHUP');
    const r = await cli.exited;
    expect(r.exitCode).toBe(129);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 129, error: { code: 'INTERRUPTED', message: 'interrupted (SIGHUP) during the training; nothing was written' } });
    for (const pid of pids) expect(processGone(pid)).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  }, 120_000);
});

describe('our own output going to a closed pipe', () => {
  it('is not a crash: the capture finishes, with its envelope and exit 0, and leaves no staging', async () => {
    const dir = join(work, 'closed-stderr');
    mkdirSync(dir);
    // stderr goes to `head -c 300`, which exits after 300 bytes while the training echoes far more.
    const cli = join(repoRoot, 'bin', 'run.js');
    const script = `node ${JSON.stringify(cli)} capture --python ${JSON.stringify(python)} --code . --run 'python -c "import sys; [print(\\"line %d\\" % i, file=sys.stderr, flush=True) for i in range(20000)]"' --outputs out --json 2> >(head -c 300 > /dev/null)`;
    const r = await runProcess('bash', ['-c', script], { cwd: dir, env: cleanEnv(), timeoutMs: 120_000 });
    expect(r.outcome).toBe('ok');
    const envelope = JSON.parse(r.stdout);
    expect(envelope.status).toBe(0);
    expect(envelope.result.run.status).toBe('succeeded');
    expect(envelope.result.run.stderr_bytes).toBeGreaterThan(100_000);
    expect(existsSync(join(dir, 'snapshot.yaml'))).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('Ctrl-C while the data is hashed', () => {
  it('stops the hashing and removes the staging folder: exit 130, nothing written', async () => {
    const dir = join(work, 'hash-interrupted');
    mkdirSync(join(dir, 'data'), { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(join(dir, 'data', `small-${i}.csv`), `${i}\n`);
    // 64 GiB that take no disk: hashing them takes far longer than any probe, on any machine.
    const big = join(dir, 'data', 'huge.bin');
    writeFileSync(big, '');
    truncateSync(big, 64 * 1024 ** 3);
    const cli = startCli(['capture', '--python', python, '--code', dir, '--data', 'data', '--json'], { cwd: dir, env: cleanEnv() });
    await cli.stderrMatches(/probing/);
    // The staging folder exists once the bundle is being written: the hashing is under way.
    while (!readdirSync(dir).some((f) => f.includes('.staging'))) await new Promise((resolve) => setTimeout(resolve, 20));
    cli.signal('SIGINT');
    const r = await cli.exited;
    expect(r.exitCode).toBe(130);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 130, error: { code: 'INTERRUPTED' } });
    expect(leftovers(dir)).toEqual([]);
    expect(existsSync(join(dir, 'snapshot.yaml'))).toBe(false);
    expect(existsSync(join(dir, 'snapshot.bundle'))).toBe(false);
  }, 120_000);
});
