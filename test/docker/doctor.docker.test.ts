// snapshot doctor against the real engine: what it reports here (an engine without the NVIDIA
// runtime), for a GPU snapshot, and for an engine that does not answer.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeSnapshot } from '../../src/adapters/snapshot-file.js';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { dockerReady } from '../helpers/docker.js';
import { makeSnapshot } from '../helpers/snapshot-fixture.js';

const ready = await dockerReady();
const describeDocker = ready ? describe : describe.skip;

describeDocker('snapshot doctor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'snapshot-doctor-'));

  it('reports the engine, its runtimes and free disk: ready, with a warning that containers get no GPUs here', async () => {
    const r = await runCli(['doctor', '--json'], { cwd: dir, env: cleanEnv() });
    expect(r.exitCode).toBe(0);
    const checks = r.json.result.checks as Array<{ name: string; status: string; message: string }>;
    expect(checks.find((c) => c.name === 'engine')).toMatchObject({ status: 'ok', message: expect.stringMatching(/^docker \d+\.\d+/) });
    expect(checks.find((c) => c.name === 'gpu runtime')).toMatchObject({ status: 'warn', message: expect.stringContaining('no NVIDIA runtime') });
    expect(checks.find((c) => c.name === 'disk')?.status).toMatch(/^(ok|warn)$/);
    const text = await runCli(['doctor'], { cwd: dir, env: cleanEnv() });
    expect(text.stdout).toMatch(/^Engine unix:\/\/\/var\/run\/docker\.sock/);
    expect(text.stdout).toMatch(/Ready, with warnings\.\n$/);
  });

  it('fails (exit 6) for a snapshot captured on GPUs, saying what to install or pass', async () => {
    writeFileSync(join(dir, 'gpu.yaml'), serializeSnapshot(makeSnapshot()));
    const r = await runCli(['doctor', 'gpu.yaml', '--json'], { cwd: dir, env: cleanEnv() });
    expect(r.exitCode).toBe(6);
    expect(r.json.result.checks).toContainEqual(expect.objectContaining({ name: 'gpu runtime', status: 'fail', message: expect.stringMatching(/install the NVIDIA Container Toolkit.*or pass --gpus none/) }));
    // --gpus none: the same snapshot is replayable here, on CPU, with the crossing said.
    const cpu = await runCli(['doctor', 'gpu.yaml', '--gpus', 'none', '--json'], { cwd: dir, env: cleanEnv() });
    expect(cpu.exitCode).toBe(0);
    expect(cpu.json.result.checks).toContainEqual(expect.objectContaining({ status: 'warn', message: expect.stringContaining('crosses hardware classes') }));
  });

  it('an engine that does not answer is a failed check with what to do, not a hang or a stack trace', async () => {
    const r = await runCli(['doctor', '--engine', 'docker', '--docker-host', 'tcp://127.0.0.1:1', '--json'], { cwd: dir, env: cleanEnv() });
    // With both engines (the default) the local one still answers: ready, with the engine's failure as a warning.
    const auto = await runCli(['doctor', '--docker-host', 'tcp://127.0.0.1:1', '--json'], { cwd: dir, env: cleanEnv() });
    expect(auto.json.result.status).toBe('warn');
    expect(auto.json.result.checks).toContainEqual(expect.objectContaining({ name: 'local python', status: 'ok' }));
    expect(r.exitCode).toBe(6);
    expect(r.json.result.checks[0]).toMatchObject({ name: 'engine', status: 'fail', message: expect.stringContaining('tcp://127.0.0.1:1') });
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    const bad = await runCli(['doctor', '--docker-host', 'ftp://x', '--json'], { cwd: dir, env: cleanEnv() });
    expect(bad.exitCode).toBe(3);
    expect(bad.json.error.code).toBe('DOCKER_HOST_INVALID');
  });
});
