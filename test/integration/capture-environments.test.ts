// capture and dockerfile on the kinds of environments people really have: Debian's own Python, an
// old pip's egg-info install, a package from a monorepo subfolder, a wheel from a signed URL, a
// venv without setuptools, a .pth file that prints, data whose names are not UTF-8, a snapshot
// kept inside its own --outputs, and a training that writes more than a bundle should keep. Every
// environment is made for real (venvs, pip installs from the loopback index and a static git
// host), and every generated pin is checked against what pip does with it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess } from '../../src/adapters/process.js';
import { cleanEnv, runCli, tfPython } from '../helpers/cli.js';
import { serveFolder, servePackageIndex } from '../helpers/docker.js';
import { describeIf, requirePython } from '../helpers/pythons.js';

let work: string;
let index: Awaited<ReturnType<typeof servePackageIndex>>;
const python311 = requirePython('3.11', 'the venv-based environments');
const python312 = requirePython('3.12', 'a venv without setuptools');
const python36 = requirePython('3.6', "an old pip's egg-info install");

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'snapshot-envs-'));
  index = await servePackageIndex();
});
afterAll(async () => {
  await index?.close();
  rmSync(work, { recursive: true, force: true });
});

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function venv(python: string, name: string): string {
  const dir = join(work, name);
  execFileSync(python, ['-m', 'venv', dir]);
  return join(dir, 'bin', 'python');
}

/**
 * pip against the loopback index and git host, which this process serves: so never a synchronous
 * spawn, which would block the very event loop that has to answer pip.
 */
async function pipRun(python: string, args: string[]): Promise<void> {
  const r = await runProcess(python, ['-m', 'pip', ...args, '--quiet', '--disable-pip-version-check', '--index-url', index.url], {
    env: { ...process.env, PIP_NO_CACHE_DIR: '1', PIP_EXTRA_INDEX_URL: '', PIP_FIND_LINKS: '' },
    timeoutMs: 240_000,
  });
  if (r.outcome !== 'ok') throw new Error(`pip ${args.join(' ')}: ${r.reason ?? r.outcome}\n${r.stderr}`);
}

const pip = (python: string, ...args: string[]) => pipRun(python, ['install', ...args]);

/** A folder with a minimal setuptools project. */
function project(name: string, version = '0.1', layout: 'setup.py' | 'pyproject' = 'pyproject'): string {
  const dir = join(work, 'src', name);
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, '__init__.py'), `VERSION = "${version}"\n`);
  if (layout === 'setup.py') writeFileSync(join(dir, 'setup.py'), `from setuptools import setup\nsetup(name="${name}", version="${version}", packages=["${name}"])\n`);
  else writeFileSync(join(dir, 'pyproject.toml'), `[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n[project]\nname = "${name}"\nversion = "${version}"\n`);
  return dir;
}

function gitIn(repo: string) {
  return (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { encoding: 'utf8' });
}

async function captureAndGenerate(python: string, name: string, extra: string[] = []) {
  const dir = join(work, `snap-${name}`);
  mkdirSync(dir, { recursive: true });
  const captured = await runCli(['capture', '--python', python, '--code', dir, ...extra, '--json'], { cwd: dir, env: cleanEnv() });
  const generated = await runCli(['dockerfile', '--json'], { cwd: dir });
  const requirements = existsSync(join(dir, 'snapshot.docker', 'requirements.txt')) ? readFileSync(join(dir, 'snapshot.docker', 'requirements.txt'), 'utf8') : '';
  return { dir, captured, generated, requirements };
}

// Debian's python3 and its dist-packages are part of the machine image: CI has them too.
const systemPython = existsSync('/usr/bin/python3') && existsSync('/usr/lib/python3/dist-packages') ? '/usr/bin/python3' : null;
if (systemPython === null) {
  if (process.env.CI) throw new Error("no Debian system Python (/usr/bin/python3 with /usr/lib/python3/dist-packages): CI's machine image must have it");
  console.warn("\n*** SKIPPING: no Debian system Python here, so distro packages are not checked. ***\n");
}

describeIf(systemPython !== null)("Debian's system Python", () => {
  it("leaves out every package the OS installed, naming why and what to do, and pins none of them as PyPI's", async () => {
    const { captured, generated, requirements } = await captureAndGenerate(systemPython as string, 'debian');
    expect(captured.exitCode).toBe(0);
    const distro = (captured.json.result.packages as Array<{ name: string; version: string; location: string; installer: string | null }>).filter((p) => p.location === '/usr/lib/python3/dist-packages');
    // Debian's image has python3-apt, python3-gi and friends there; at least some must be found.
    expect(distro.filter((p) => !['pip', 'setuptools', 'wheel'].includes(p.name)).length).toBeGreaterThan(0);
    expect(generated.exitCode).toBe(0);
    const skipped = generated.json.result.plan.requirements.skipped as Array<{ name: string; reason: string }>;
    for (const pkg of distro) {
      // None is pinned to the distribution's version.
      expect(requirements).not.toMatch(new RegExp(`^${pkg.name.replace(/[.]/g, '\\.')}==`, 'mi'));
      // pip is the base image's, and setuptools or wheel are asked for only as something requires them.
      if (['pip', 'setuptools', 'wheel'].includes(pkg.name)) continue;
      expect(skipped).toContainEqual(expect.objectContaining({ name: pkg.name, reason: "installed by the operating system's package manager, not by pip" }));
    }
    const first = distro.find((p) => !['pip', 'setuptools', 'wheel'].includes(p.name)) as { name: string; version: string };
    expect(generated.json.warnings.join('\n')).toContain(`${first.name} ${first.version} is not pinned: installed by the operating system's package manager, not by pip. `);
  });
});

describeIf(python36 !== null)("an old pip's egg-info install of a local folder (Python 3.6)", () => {
  it('is left out as a legacy install that records no source, never pinned as if an index had it', async () => {
    const python = venv(python36 as string, 'py36');
    // pip 18 without the wheel package installs a folder with `setup.py install`: an egg-info, no direct_url.json.
    execFileSync(python, ['-m', 'pip', 'install', '--quiet', '--no-index', project('oldlocal', '0.3', 'setup.py')]);
    const site = readdirSync(join(work, 'py36', 'lib', 'python3.6', 'site-packages'));
    expect(site.some((f) => /^oldlocal-0\.3-py3\.6\.egg-info$/.test(f))).toBe(true);
    const { captured, generated, requirements } = await captureAndGenerate(python, 'py36');
    expect(captured.exitCode).toBe(0);
    expect(captured.json.result.packages).toContainEqual(expect.objectContaining({ name: 'oldlocal', version: '0.3', metadata: 'egg-info', source: { kind: 'index' } }));
    expect(requirements).not.toContain('oldlocal');
    expect(generated.json.result.plan.requirements.skipped).toContainEqual(expect.objectContaining({ name: 'oldlocal', reason: 'a legacy egg-info install that records no source' }));
  });
});

describeIf(python311 !== null)('pip installs that carry more than a name and a version (Python 3.11)', () => {
  let python: string;
  let host: Awaited<ReturnType<typeof serveFolder>>;
  let commit: string;
  let wheelName: string;
  let result: Awaited<ReturnType<typeof captureAndGenerate>>;
  const SIGNED = '?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20261201%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261201T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=deadbeefcafe';

  beforeAll(async () => {
    // A monorepo whose package lives in a subfolder, on a static git host (dumb HTTP).
    const mono = join(work, 'mono');
    mkdirSync(mono);
    const git = gitIn(mono);
    git('init', '-q');
    const inner = project('inner', '0.2');
    execFileSync('cp', ['-r', inner, join(mono, 'pkgs-inner')]);
    mkdirSync(join(mono, 'pkgs'));
    execFileSync('mv', [join(mono, 'pkgs-inner'), join(mono, 'pkgs', 'inner')]);
    git('add', '-A');
    git('commit', '-qm', 'monorepo');
    commit = git('rev-parse', 'HEAD').trim();
    const served = join(work, 'served');
    mkdirSync(served);
    execFileSync('git', ['clone', '-q', '--bare', mono, join(served, 'mono.git')]);
    execFileSync('git', ['-C', join(served, 'mono.git'), 'update-server-info']);
    // A wheel behind a signed download URL.
    python = venv(python311 as string, 'py311');
    await pipRun(python, ['wheel', '--no-deps', '-w', served, project('signedpkg', '1.0')]);
    wheelName = readdirSync(served).find((f) => f.startsWith('signedpkg-')) as string;
    host = await serveFolder(served);
    await pip(python, `inner @ git+${host.url}mono.git@${commit}#subdirectory=pkgs/inner`);
    await pip(python, `${host.url}${wheelName}${SIGNED}`);
    // A .pth that prints at every start-up, as some tools' do.
    writeFileSync(join(work, 'py311', 'lib', 'python3.11', 'site-packages', 'chatty.pth'), 'import sys; print("hello from a .pth file"); sys.stdout.flush()\n');
    result = await captureAndGenerate(python, 'py311');
  }, 300_000);
  afterAll(async () => {
    await host?.close();
  });

  it('reads the probe through start-up output a .pth prints', () => {
    expect(execFileSync(python, ['-c', 'pass'], { encoding: 'utf8' })).toContain('hello from a .pth file\n');
    expect(result.captured.exitCode).toBe(0);
    expect(result.captured.json.result.python.version).toBe('3.11.7');
  });

  it('keeps the subfolder of a VCS install, and the pin installs the same package again', async () => {
    const inner = (result.captured.json.result.packages as Array<{ name: string; source: Record<string, unknown> }>).find((p) => p.name === 'inner');
    expect(inner?.source).toEqual({ kind: 'vcs', url: `${host.url}mono.git`, vcs: 'git', commit_id: commit, requested_revision: commit, subdirectory: 'pkgs/inner' });
    const line = result.requirements.split('\n').find((l) => l.startsWith('inner @ '));
    expect(line).toBe(`inner @ git+${host.url}mono.git@${commit}#subdirectory=pkgs/inner`);
    // The line as written: pip installs it into a fresh venv (it said "not a Python project" without the subfolder).
    const again = venv(python311 as string, 'py311-again');
    writeFileSync(join(work, 'inner-req.txt'), `${line}\n`);
    await pip(again, '--no-deps', '-r', join(work, 'inner-req.txt'));
    expect(execFileSync(again, ['-c', 'import inner; print(inner.VERSION)'], { encoding: 'utf8' })).toBe('0.2\n');
  });

  it('strips the credentials of a signed download URL, says so, and leaves the package out of the build', () => {
    const signed = (result.captured.json.result.packages as Array<{ name: string; source: Record<string, unknown> }>).find((p) => p.name === 'signedpkg');
    expect(signed?.source).toMatchObject({ kind: 'archive', url: `${host.url}${wheelName}`, redacted: true });
    const snapshotText = readFileSync(join(result.dir, 'snapshot.yaml'), 'utf8');
    for (const secret of ['AKIAEXAMPLE', 'deadbeefcafe', 'X-Amz-Signature', 'X-Amz-Credential']) {
      expect(snapshotText).not.toContain(secret);
      expect(result.requirements).not.toContain(secret);
    }
    expect(result.captured.json.warnings.join('\n')).toMatch(/signedpkg 1\.0 was installed from a URL carrying signed-URL parameters \(credentials\): they were removed/);
    expect(result.requirements).not.toContain('signedpkg');
    expect(result.generated.json.warnings.join('\n')).toMatch(/signedpkg 1\.0 is not pinned: downloaded from a signed URL whose credentials were removed at capture/);
  });
});

describeIf(python312 !== null)('a venv without setuptools (Python 3.12)', () => {
  it('gets the setuptools its packages require from the requirements, where the base image has none', async () => {
    // The tf221 environment: tensorflow-cpu 2.21 declares Requires-Dist: setuptools.
    const { requirements } = await captureAndGenerate(tfPython, 'tf-tooling');
    const tooling = requirements.split('\n').filter((l) => /^(setuptools|wheel)\b/.test(l));
    expect(tooling).toEqual(['setuptools  # captured 65.5.0; installed on request, required by tensorflow_cpu', 'wheel<1.0,>=0.23.0  # captured 0.48.0; required by astunparse']);
    const bare = venv(python312 as string, 'py312');
    expect(() => execFileSync(bare, ['-c', 'import setuptools'], { stdio: 'ignore' })).toThrow();
    writeFileSync(join(work, 'tooling.txt'), `${tooling.join('\n')}\n`);
    await pip(bare, '--no-deps', '-r', join(work, 'tooling.txt'));
    execFileSync(bare, ['-c', 'import setuptools, wheel']);
  });
});

describe('data and outputs whose shape capture must not trip on', () => {
  it('hashes a file whose name is not UTF-8, byte for byte, in a manifest sha256sum checks', async () => {
    const data = join(work, 'latin1-data');
    mkdirSync(data);
    const name = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x63, 0x73, 0x76]); // "café.csv" in Latin-1
    const path = Buffer.concat([Buffer.from(`${data}/`), name]);
    writeFileSync(path, 'a,b\n1,2\n');
    writeFileSync(join(data, 'plain.csv'), 'x\n');
    const dir = join(work, 'latin1-snap');
    mkdirSync(dir);
    const r = await runCli(['capture', '--python', tfPython, '--code', dir, '--data', data, '--json'], { cwd: dir, env: cleanEnv() });
    expect(r.exitCode).toBe(0);
    const record = r.json.result.data[0];
    expect(record).toMatchObject({ file_count: 2, total_bytes: 10 });
    const manifest = readFileSync(join(dir, record.manifest_file));
    expect(manifest.includes(Buffer.concat([Buffer.from(`${sha256(Buffer.from('a,b\n1,2\n'))}  `), name, Buffer.from('\n')]))).toBe(true);
    expect(execFileSync('sha256sum', ['-c', '--quiet', '--strict', join(dir, record.manifest_file)], { cwd: data, encoding: 'utf8' })).toBe('');
  });

  it('names a symlink loop as a loop', async () => {
    const data = join(work, 'loop-data');
    mkdirSync(data);
    writeFileSync(join(data, 'ok.csv'), '1\n');
    symlinkSync('self', join(data, 'self'));
    const dir = join(work, 'loop-snap');
    mkdirSync(dir);
    const r = await runCli(['capture', '--python', tfPython, '--code', dir, '--data', data, '--json'], { cwd: dir, env: cleanEnv() });
    expect(r.exitCode).toBe(0);
    expect(r.json.warnings.join('\n')).toMatch(/self is left out: a symlink loop/);
    expect(r.json.warnings.join('\n')).not.toMatch(/permission|does not exist/i);
  });

  it('keeps a snapshot written inside --outputs out of its own baseline', async () => {
    const dir = join(work, 'inside-outputs');
    mkdirSync(join(dir, 'out'), { recursive: true });
    const r = await runCli(['capture', '--python', tfPython, '--code', dir, '-o', 'out/snapshot.yaml', '--run', 'python -c "import os; os.makedirs(\'out\', exist_ok=True); open(\'out/result.json\', \'w\').write(\'{}\')"', '--outputs', 'out', '--json'], { cwd: dir, env: cleanEnv() });
    expect(r.exitCode).toBe(0);
    expect(r.json.result.run.baseline.files.map((f: { path: string }) => f.path)).toEqual(['result.json']);
    // A later compare of the outputs against the baseline is not thrown off by our own files.
    const compared = await runCli(['compare', join(dir, 'out', 'snapshot.bundle', 'baseline'), join(dir, 'out'), '--json'], { cwd: dir });
    expect(compared.json.result.verdict).not.toBe('error');
  });

  it('keeps the head and tail of a training log over the cap, with the sizes, and says so', async () => {
    const dir = join(work, 'big-log');
    mkdirSync(dir);
    // 8 MiB of stdout: far past the 1 MiB kept at each end.
    const r = await runCli(['capture', '--python', tfPython, '--code', dir, '--run', 'python -c "import sys; [sys.stdout.write(\'line %07d\\n\' % i) for i in range(700000)]"', '--outputs', 'out', '--json'], {
      cwd: dir,
      env: cleanEnv(),
      timeoutMs: 180_000,
    });
    expect(r.exitCode).toBe(0);
    const run = r.json.result.run;
    expect(run).toMatchObject({ stdout_bytes: 700000 * 13, logs_truncated: true });
    const kept = readFileSync(join(dir, run.stdout_log), 'utf8');
    expect(kept.length).toBeLessThan(2.1 * 1024 * 1024);
    expect(kept.startsWith('line 0000000\n')).toBe(true);
    expect(kept.endsWith('line 0699999\n')).toBe(true);
    expect(kept).toMatch(/\n\[snapshot: \d+ bytes of this log left out; the program wrote 9100000 bytes in all\]\n/);
    expect(r.json.warnings.join('\n')).toMatch(/the training wrote 8\.\d MiB to stdout: the bundle keeps its first and last 1\.0 MiB/);
  });
});

describe('findings true on the CPU at hand', () => {
  it('says oneDNN is on only where this CPU makes TensorFlow turn it on', async () => {
    const dir = join(work, 'onednn');
    mkdirSync(dir);
    const r = await runCli(['capture', '--python', tfPython, '--code', dir, '--json'], { cwd: dir, env: cleanEnv({ PYTHONHASHSEED: '0', OMP_NUM_THREADS: '2' }) });
    expect(r.exitCode).toBe(0);
    const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1]?.trim().split(/\s+/) ?? [];
    const enables = ['avx512_vnni', 'avx512_bf16', 'avx_vnni', 'amx_tile', 'amx_int8', 'amx_bf16'].filter((f) => flags.includes(f));
    const codes = (r.json.result.determinism.findings as Array<{ code: string; message: string }>).map((f) => f.code);
    if (enables.length > 0) {
      expect(codes).toContain('ONEDNN_ON');
      expect(codes).not.toContain('ONEDNN_DEFAULT_OFF');
    } else {
      expect(codes).toContain('ONEDNN_DEFAULT_OFF');
      expect(codes).not.toContain('ONEDNN_ON');
    }
  });
});

describe('untracked files', () => {
  it('are named by dockerfile and show as absent from the image', async () => {
    const repo = join(work, 'untracked-repo');
    mkdirSync(repo);
    const git = gitIn(repo);
    git('init', '-q');
    writeFileSync(join(repo, 'train.py'), 'print(1)\n');
    git('add', '-A');
    git('commit', '-qm', 'first');
    writeFileSync(join(repo, 'config.local.yaml'), 'lr: 0.1\n');
    const captured = await runCli(['capture', '--python', tfPython, '--code', repo, '--json'], { cwd: repo, env: cleanEnv() });
    expect(captured.json.result.code.git.untracked).toEqual(['config.local.yaml']);
    const generated = await runCli(['dockerfile', '--json'], { cwd: repo });
    expect(generated.exitCode).toBe(0);
    expect(generated.json.warnings.join('\n')).toMatch(/1 file was untracked at capture and is not in the image: "config\.local\.yaml"\. If the training reads it, commit it/);
    expect(existsSync(join(repo, 'snapshot.docker', 'code', 'config.local.yaml'))).toBe(false);
    const shown = await runCli(['show'], { cwd: repo });
    expect(shown.stdout).toMatch(/! 1 untracked file was in the code folder at capture and will not be in a rebuild: config\.local\.yaml/);
  });
});
