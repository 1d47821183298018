// The package as users get it: `npm pack`, the tarball installed into a fresh prefix, and every
// command run from there (nothing resolved from this checkout) on a real capture of the Keras
// example: capture with --run, show, dockerfile, compare with a shipped policy.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCHEMA_VERSION } from '../../src/core/model.js';
import { runProcess, type ProcessResult } from '../../src/adapters/process.js';
import { cleanEnv, repoRoot, tfPython } from '../helpers/cli.js';

let work: string;
let prefix: string;
let bin: string;
let installedRoot: string;
let project: string;

function must<T extends ProcessResult>(result: T): T {
  if (result.outcome !== 'ok') throw new Error(`${result.command} ${result.args.join(' ')}: ${result.reason ?? result.outcome}\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-4000)}`);
  return result;
}

/** The installed `snapshot`, run outside the checkout with a clean environment. */
async function snapshot(args: string[], cwd = project): Promise<ProcessResult & { json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const env = { ...process.env, ...cleanEnv() };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const result = await runProcess(bin, args, { cwd, env, timeoutMs: 300_000 });
  let json: unknown;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    json = undefined;
  }
  return { ...result, json };
}

beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'dist', 'commands'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
  work = mkdtempSync(join(tmpdir(), 'snapshot-package-'));
  // The scripts already ran: npm test builds first, and `prepare` would only build again.
  const packed = must(await runProcess('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: repoRoot, timeoutMs: 300_000 }));
  const tarball = join(work, packed.stdout.trim().split('\n').pop() ?? '');
  prefix = join(work, 'prefix');
  // Dependencies come from npm's cache where they are (npm ci filled it), else from the registry.
  must(await runProcess('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: work, timeoutMs: 600_000 }));
  bin = join(prefix, 'bin', 'snapshot');
  installedRoot = join(prefix, 'lib', 'node_modules', 'snapshot-ml');
  // The example, copied out of the checkout, as a user's project.
  project = join(work, 'project');
  cpSync(join(repoRoot, 'examples', 'keras-tiny'), project, { recursive: true });
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the installed package', () => {
  it('ships everything the commands and the README use, and nothing of the tests', () => {
    for (const path of ['bin/run.js', 'dist/commands/capture.js', 'oclif.manifest.json', 'data/compat.json', 'python/snapshot_probe.py', 'schemas/snapshot.schema.json', 'schemas/snapshot-v1.schema.json', 'schemas/policy.schema.json', 'templates/dockerfile/Dockerfile.tmpl', 'examples/policies/same-hardware.yaml', 'examples/policies/cross-gpu.yaml', 'examples/policies/gpu-vs-cpu.yaml', 'README.md']) {
      expect([path, existsSync(join(installedRoot, path))]).toEqual([path, true]);
    }
    expect(existsSync(join(installedRoot, 'test'))).toBe(false);
    expect(existsSync(join(installedRoot, 'src'))).toBe(false);
  });

  it('answers --version and --help', async () => {
    const version = must(await snapshot(['--version']));
    expect(version.stdout).toContain(`snapshot-ml/${JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version}`);
    const help = must(await snapshot(['--help']));
    for (const command of ['capture', 'show', 'dockerfile', 'compare']) expect(help.stdout).toContain(command);
  });

  describe('runs every command on a real capture', () => {
    beforeAll(async () => {
      const r = await snapshot(['capture', '--python', tfPython, '--data', 'data', '--run', 'python train.py --out out --epochs 2', '--outputs', 'out', '--json']);
      if (r.exitCode !== 0) throw new Error(`capture failed (${r.exitCode}):\n${r.stderr.slice(-4000)}`);
    });

    it('capture wrote the snapshot and its baseline', () => {
      const snapshotYaml = readFileSync(join(project, 'snapshot.yaml'), 'utf8');
      expect(snapshotYaml).toMatch(new RegExp(`^schema: ${SCHEMA_VERSION}$`, 'm'));
      expect(readdirSync(join(project, 'snapshot.bundle', 'baseline')).sort()).toEqual(['metrics.json', 'model.keras', 'model.weights.h5', 'predictions.npy']);
    });

    it('show reads it', async () => {
      const r = must(await snapshot(['show']));
      expect(r.stdout).toMatch(/TensorFlow\s+2\.21\.0/);
      expect(r.stdout).toMatch(/Keras\s+3\.15\.1/);
    });

    it('dockerfile writes the build context, with the shipped compatibility table and templates', async () => {
      const r = must(await snapshot(['dockerfile', '--no-code', '--json']));
      expect(r.json.result.plan.base.image).toBe('python:3.11.7-slim-bookworm');
      expect(readFileSync(join(project, 'snapshot.docker', 'Dockerfile'), 'utf8')).toMatch(/^FROM python:3\.11\.7-slim-bookworm$/m);
      expect(existsSync(join(project, 'snapshot.docker', 'snapshot_probe.py'))).toBe(true);
    });

    it('compare judges a second run with a shipped policy: identical', async () => {
      must(await runProcess(tfPython, ['train.py', '--out', 'rerun', '--epochs', '2'], { cwd: project, timeoutMs: 300_000 }));
      const r = await snapshot(['compare', 'snapshot.yaml', 'rerun', '--policy', join(installedRoot, 'examples', 'policies', 'same-hardware.yaml'), '--json']);
      expect(r.exitCode).toBe(0);
      expect(r.json.result.verdict).toBe('identical');
    });
  });

  it('a second project folder works too, and nothing was written into the installed package', async () => {
    const other = join(work, 'other');
    mkdirSync(other);
    const r = await snapshot(['capture', '--python', tfPython, '--json'], other);
    expect(r.exitCode).toBe(0);
    expect(readdirSync(installedRoot).sort()).toEqual(['README.md', 'bin', 'data', 'dist', 'examples', 'oclif.manifest.json', 'package.json', 'python', 'schemas', 'templates'].concat(existsSync(join(installedRoot, 'node_modules')) ? ['node_modules'] : []).sort());
  });

  it('installs from a git URL too, building itself on the way (the prepare script)', async () => {
    // npm clones the committed tree, installs its dev dependencies and runs `prepare` (the build).
    const inside = await runProcess('git', ['-C', repoRoot, 'rev-parse', '--is-inside-work-tree'], { timeoutMs: 60_000 });
    if (inside.outcome !== 'ok') throw new Error(`${repoRoot} is not a git checkout, so the git install cannot be tried`);
    const consumer = join(work, 'git-consumer');
    mkdirSync(consumer);
    must(await runProcess('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', `git+file://${repoRoot}`], { cwd: consumer, timeoutMs: 600_000 }));
    const installed = join(consumer, 'node_modules', 'snapshot-ml');
    expect(existsSync(join(installed, 'dist', 'commands', 'dockerfile.js'))).toBe(true);
    expect(existsSync(join(installed, 'oclif.manifest.json'))).toBe(true);
    const cli = join(consumer, 'node_modules', '.bin', 'snapshot');
    must(await runProcess(cli, ['--version'], { cwd: consumer, timeoutMs: 120_000 }));
    const r = must(await runProcess(cli, ['dockerfile', join(repoRoot, 'examples', 'snapshots', 'tf221-cpu.yaml'), '--no-code', '--output-dir', join(consumer, 'ctx'), '--json'], { cwd: consumer, timeoutMs: 120_000 }));
    expect(JSON.parse(r.stdout).result.plan.base.image).toBe('python:3.11.7-slim-bookworm');
  });
});
