// snapshot replay --engine local never writes, deletes or runs in what the user has: committed
// symlinks in the export (to data, to outputs), a data path that is the whole tree, a working
// directory or outputs folder outside the repository, links inside the outputs, and indexes the
// requirements file names. A bare venv (no packages: it builds in seconds) captured in throwaway
// git repositories, replayed in place against the loopback package index.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { servePackageIndex } from '../helpers/docker.js';

const basePython = join(homedir(), '.pyenv', 'versions', '3.11.7', 'bin', 'python');

describe('snapshot replay --engine local: nothing of the user is touched', () => {
  let work: string;
  let python: string;
  let index: Awaited<ReturnType<typeof servePackageIndex>>;
  const env = (extra: NodeJS.ProcessEnv = {}) => cleanEnv({ XDG_CACHE_HOME: join(work, 'cache'), ...extra });
  const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args]);
  const projects: Record<string, string> = {};

  /** A git repository holding `files` (a string: a file; { link }: a committed symlink), committed, then captured with `capture`. */
  const project = async (name: string, files: Record<string, string | { link: string }>, capture: string[]) => {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    for (const [path, body] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      if (typeof body === 'string') writeFileSync(join(dir, path), body);
      else symlinkSync(body.link, join(dir, path));
    }
    git(dir, 'init', '-q');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'the training');
    const r = await runCli(['capture', '--python', python, ...capture, '--json'], { cwd: dir, env: env(), timeoutMs: 180_000 });
    if (r.exitCode !== 0) throw new Error(`capture in ${name} failed (${r.exitCode}): ${r.stderr.slice(-2000)}`);
    git(dir, 'add', 'snapshot.yaml', 'snapshot.bundle');
    git(dir, 'commit', '-qm', 'the snapshot');
    projects[name] = dir;
  };
  const replay = (name: string, extra: string[] = []) => runCli(['replay', 'snapshot.yaml', '--engine', 'local', '--pip-index-url', index.url, '--json', ...extra], { cwd: projects[name] as string, env: env(), timeoutMs: 300_000 });
  const edit = (name: string, change: (doc: Record<string, any>) => void) => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const path = join(projects[name] as string, 'snapshot.yaml');
    const doc = YAML.parse(readFileSync(path, 'utf8'));
    change(doc);
    writeFileSync(path, YAML.stringify(doc));
  };
  const failure = (r: Awaited<ReturnType<typeof runCli>>) => r.json?.error ?? r.json?.result?.failure;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'snapshot-replay-safety-'));
    execFileSync(basePython, ['-m', 'venv', join(work, 'venv')]);
    python = join(work, 'venv', 'bin', 'python');
    const train = (body: string) => `import os, sys\nos.makedirs('out', exist_ok=True)\n${body}\n`;
    const write = "open(os.path.join('out', 'result.txt'), 'w').write('42\\n')";
    // The user's data, outside the repository; the repository's `data` is a committed link to it.
    mkdirSync(join(work, 'user-data'));
    writeFileSync(join(work, 'user-data', 'train.csv'), 'a,b\n1,2\n');
    await project('data-link', { 'train.py': train(`open('data/train.csv').read()\n${write}`), '.gitignore': 'out/\n', data: { link: join(work, 'user-data') } }, ['--data', 'data/train.csv', '--run', 'python train.py', '--outputs', 'out']);
    // The whole tree as data.
    await project('data-dot', { 'train.py': train(write), 'input.csv': '1\n', '.gitignore': 'out/\n' }, ['--data', 'input.csv', '--run', 'python train.py', '--outputs', 'out']);
    // The outputs folder is a committed link to a folder of the user's.
    mkdirSync(join(work, 'user-out'));
    await project('out-link', { 'train.py': train(write), out: { link: join(work, 'user-out') } }, ['--run', 'python train.py', '--outputs', 'out']);
    writeFileSync(join(work, 'user-out', 'precious.txt'), 'mine\n');
    // Links inside the outputs: a folder link to another folder there, a file link out of it.
    writeFileSync(join(work, 'outside.txt'), 'not an output\n');
    await project('out-links', { 'train.py': train(`os.makedirs('out/real', exist_ok=True)\nopen('out/real/x.txt', 'w').write('x\\n')\nos.path.lexists('out/latest') or os.symlink('real', 'out/latest')\nos.path.lexists('out/escape.txt') or os.symlink(${JSON.stringify(join(work, 'outside.txt'))}, 'out/escape.txt')\n${write}`), '.gitignore': 'out/\n' }, ['--run', 'python train.py', '--outputs', 'out']);
    // One that floods its outputs folder when asked to (--env FLOOD=1 at replay).
    await project('flood', { 'train.py': train(`${write}\nif os.environ.get('FLOOD'):\n    for i in range(10001): open(os.path.join('out', 'f%d' % i), 'w').close()`), '.gitignore': 'out/\n' }, ['--run', 'python train.py', '--outputs', 'out']);
    // A plain one, edited per test.
    await project('plain', { 'train.py': train(write), '.gitignore': 'out/\n' }, ['--run', 'python train.py', '--outputs', 'out']);
    index = await servePackageIndex();
  }, 600_000);

  afterAll(async () => {
    await index?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a committed data link to the user\'s folder: the replay reads it, and never deletes it', async () => {
    const r = await replay('data-link');
    expect(failure(r) ?? null).toBeNull();
    expect(readFileSync(join(work, 'user-data', 'train.csv'), 'utf8')).toBe('a,b\n1,2\n');
    expect(readdirSync(join(work, 'user-data'))).toEqual(['train.csv']);
    expect(r.exitCode).toBe(0);
    expect(r.json.result.verdict).toBe('identical');
  });

  it('data that would be linked into the user\'s folder through a committed link: refused (3), nothing written there', async () => {
    // The data moved: mapped with --data-root, the export's `data` still points at the old place.
    const moved = join(work, 'moved-data');
    mkdirSync(moved, { recursive: true });
    writeFileSync(join(moved, 'train.csv'), 'a,b\n1,2\n');
    rmSync(join(work, 'user-data', 'train.csv'));
    try {
      const r = await replay('data-link', ['--data-root', `${join(projects['data-link'] as string, 'data')}=${moved}`]);
      expect(readdirSync(join(work, 'user-data'))).toEqual([]);
      expect(failure(r)).toMatchObject({ code: 'DATA_PLACEMENT_UNSAFE' });
      expect(r.exitCode).toBe(3);
      expect(failure(r).code).toBe('DATA_PLACEMENT_UNSAFE');
      expect(failure(r).message).toContain(join(work, 'user-data'));
    } finally {
      writeFileSync(join(work, 'user-data', 'train.csv'), 'a,b\n1,2\n');
    }
  });

  it('--data . (the whole tree): refused (3) before any venv is built, naming it', async () => {
    edit('data-dot', (doc) => {
      doc.data[0].path = '.';
      doc.data[0].in_repo = '';
    });
    const r = await replay('data-dot');
    expect(r.exitCode).toBe(3);
    expect(failure(r).code).toBe('DATA_TARGET_OVERLAPS_RUN');
    expect(failure(r).message).toContain("'.'");
    expect(failure(r).hint).toContain('--engine docker');
    expect(r.stderr).not.toContain('creating the environment');
  });

  it('a committed outputs link to the user\'s folder: refused (3) before the run, the folder as it was', async () => {
    const r = await replay('out-link');
    expect(r.exitCode).toBe(3);
    expect(failure(r).code).toBe('OUTPUTS_OUTSIDE_CODE');
    expect(readdirSync(join(work, 'user-out')).sort()).toEqual(['precious.txt', 'result.txt']);
    expect(readFileSync(join(work, 'user-out', 'result.txt'), 'utf8')).toBe('42\n');
  });

  it('a working directory outside the repository, or absolute outputs: refused (3) before any venv is built', async () => {
    edit('plain', (doc) => {
      doc.run.cwd_in_repo = null;
      doc.run.cwd = join(work, 'elsewhere');
    });
    const cwd = await replay('plain');
    expect(cwd.exitCode).toBe(3);
    expect(failure(cwd).code).toBe('WORKDIR_OUTSIDE_CODE');
    expect(failure(cwd).hint).toContain('--engine docker');
    expect(cwd.stderr).not.toContain('creating the environment');
    git(projects.plain as string, 'checkout', 'snapshot.yaml');
    edit('plain', (doc) => (doc.run.outputs_dir = join(projects.plain as string, 'out')));
    const abs = await replay('plain');
    expect(abs.exitCode).toBe(3);
    expect(failure(abs).code).toBe('OUTPUTS_ABSOLUTE');
    expect(failure(abs).hint).toContain('--engine docker');
    expect(abs.stderr).not.toContain('creating the environment');
    git(projects.plain as string, 'checkout', 'snapshot.yaml');
  });

  it('links inside the outputs: a folder link inside is copied, a file link outside is left out with a warning', async () => {
    const r = await replay('out-links');
    expect(failure(r) ?? null).toBeNull();
    expect(r.exitCode).toBe(0);
    expect(r.json.result.verdict).toBe('identical');
    expect(r.stderr).toMatch(/output escape\.txt is left out/);
    const collected = join(r.json.result.folder, 'outputs');
    expect(readFileSync(join(collected, 'latest', 'x.txt'), 'utf8')).toBe('x\n');
    expect(readFileSync(join(collected, 'real', 'x.txt'), 'utf8')).toBe('x\n');
    expect(existsSync(join(collected, 'escape.txt'))).toBe(false);
    expect(readFileSync(join(work, 'outside.txt'), 'utf8')).toBe('not an output\n');
  });

  it('a cached venv that changed since it was built (a package installed into it) is built again, not reused', async () => {
    const first = await replay('plain');
    expect(first.json?.result?.verdict).toBe('identical');
    const venv = first.json?.result?.environment?.facts?.venv as string;
    const again = await replay('plain');
    expect(again.stderr).toContain('reusing the cached environment');
    // What `pip install` into the venv leaves: a new distribution's metadata folder.
    const lib = readdirSync(join(venv, 'lib')).find((n) => n.startsWith('python')) as string;
    mkdirSync(join(venv, 'lib', lib, 'site-packages', 'sneaky-1.0.dist-info'));
    const third = await replay('plain');
    expect(third.stderr).toMatch(/the cached environment .* changed since it was built \(added: sneaky-1\.0\)/);
    expect(third.stderr).toContain('installing the pinned requirements');
    expect(third.json?.result?.verdict).toBe('identical');
    expect(existsSync(join(venv, 'lib', lib, 'site-packages', 'sneaky-1.0.dist-info'))).toBe(false);
  });

  it('a training that writes far more than its baseline: the outputs are not collected, with the figures and what to do', async () => {
    const r = await replay('flood', ['--env', 'FLOOD=1']);
    expect(failure(r)).toMatchObject({ code: 'OUTPUTS_TOO_LARGE' });
    expect(failure(r).message).toContain('10002 file(s)');
    expect(r.exitCode).toBe(6);
    expect(r.json?.result?.verdict ?? 'error').toBe('error');
    const folder = r.json?.result?.folder as string;
    // Nothing was copied: the replay's outputs folder holds none of the flood.
    expect(existsSync(join(folder, 'outputs')) ? readdirSync(join(folder, 'outputs')).length : 0).toBe(0);
  });

  it('an index the requirements file names (torch\'s wheel index) is checked before pip runs', async () => {
    edit('plain', (doc) => doc.packages.push({ ...doc.packages[0], name: 'torch', version: '2.3.0+cpu', requested: true }));
    try {
      const r = await replay('plain');
      expect(failure(r)).toMatchObject({ code: 'PIP_INDEX_UNREACHABLE' });
      expect(r.exitCode).toBe(6);
      expect(failure(r).code).toBe('PIP_INDEX_UNREACHABLE');
      expect(failure(r).message).toContain('download.pytorch.org/whl/cpu');
      expect(r.stderr).not.toContain('installing the pinned requirements');
    } finally {
      git(projects.plain as string, 'checkout', 'snapshot.yaml');
    }
  });
});
