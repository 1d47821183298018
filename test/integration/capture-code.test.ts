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
    expect(readFileSync(join(out, 'snapshot.bundle', '.gitattributes'), 'utf8')).toBe('code.patch -text\n');
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
    expect(YAML.parse(readFileSync(join(work, 'schema-1-ctx', 'snapshot.yaml'), 'utf8')).schema).toBe(2);
  });
});
