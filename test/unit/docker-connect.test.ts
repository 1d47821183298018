// resolveDockerEndpoint / connectEngine reading the docker CLI's files from a home folder laid
// out as the CLI lays it out. No engine is needed: nothing here is sent until facts().
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEngine, resolveDockerEndpoint } from '../../src/adapters/docker.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'snapshot-home-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

function writeContext(name: string, host: string, tls: string[] = [], skipTlsVerify = false): void {
  const id = createHash('sha256').update(name).digest('hex');
  const metaDir = join(home, '.docker', 'contexts', 'meta', id);
  mkdirSync(metaDir, { recursive: true });
  writeFileSync(join(metaDir, 'meta.json'), JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: skipTlsVerify } } }));
  const tlsDir = join(home, '.docker', 'contexts', 'tls', id, 'docker');
  mkdirSync(tlsDir, { recursive: true });
  for (const file of tls) writeFileSync(join(tlsDir, file), 'not really a PEM');
}

describe('resolveDockerEndpoint reading the docker CLI files', () => {
  it('uses the default socket with no config at all', async () => {
    await expect(resolveDockerEndpoint({ env: {}, homeDir: home })).resolves.toMatchObject({ display: 'unix:///var/run/docker.sock', origin: 'default' });
  });

  it('follows config.json currentContext to the context meta.json', async () => {
    mkdirSync(join(home, '.docker'), { recursive: true });
    writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify({ auths: {}, currentContext: 'podman' }));
    writeContext('podman', 'unix:///run/user/1000/podman/podman.sock');
    await expect(resolveDockerEndpoint({ env: {}, homeDir: home })).resolves.toMatchObject({
      display: 'unix:///run/user/1000/podman/podman.sock',
      source: `docker context podman (${join(home, '.docker', 'config.json')})`,
    });
  });

  it('follows DOCKER_CONTEXT and sees the context\'s TLS material', async () => {
    writeContext('remote', 'tcp://gpu-box:2376', ['ca.pem', 'cert.pem', 'key.pem']);
    const resolved = await resolveDockerEndpoint({ env: { DOCKER_CONTEXT: 'remote' }, homeDir: home });
    expect(resolved.endpoint).toMatchObject({ kind: 'tcp', host: 'gpu-box', port: 2376, tls: { verify: true } });
    // The TLS files are only read when connecting, and nothing is sent until facts().
    await expect(connectEngine({ env: { DOCKER_CONTEXT: 'remote' }, homeDir: home })).resolves.toMatchObject({ endpoint: resolved });
  });

  it('honours DOCKER_CONFIG for where the files are', async () => {
    const elsewhere = join(home, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'config.json'), '{"currentContext":"missing"}');
    await expect(resolveDockerEndpoint({ env: { DOCKER_CONFIG: elsewhere }, homeDir: home })).rejects.toMatchObject({ code: 'DOCKER_CONTEXT_MISSING' });
  });

  it('names a config.json it cannot read', async () => {
    mkdirSync(join(home, '.docker', 'config.json'), { recursive: true });
    await expect(resolveDockerEndpoint({ env: {}, homeDir: home })).rejects.toMatchObject({ code: 'UNREADABLE_FILE', message: expect.stringContaining('config.json') });
  });

  it('does not read config.json when the flag or DOCKER_HOST decides', async () => {
    mkdirSync(join(home, '.docker'), { recursive: true });
    writeFileSync(join(home, '.docker', 'config.json'), 'not json');
    chmodSync(join(home, '.docker', 'config.json'), 0o000);
    await expect(resolveDockerEndpoint({ dockerHost: 'tcp://h:2375', env: {}, homeDir: home })).resolves.toMatchObject({ source: '--docker-host' });
    await expect(resolveDockerEndpoint({ env: { DOCKER_HOST: 'tcp://h' }, homeDir: home })).resolves.toMatchObject({ source: 'DOCKER_HOST' });
    await expect(resolveDockerEndpoint({ env: {}, homeDir: home })).rejects.toMatchObject({ code: expect.stringMatching(/^(UNREADABLE_FILE|DOCKER_CONFIG_INVALID)$/) });
  });
});
