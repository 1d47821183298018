import { describe, expect, it } from '@jest/globals';
import { contextPaths, dockerConfigDir, resolveEndpoint, selectContext, unreachableHint, type ContextFiles, type Env } from '../../src/core/docker-endpoint.js';
import { UserInputError } from '../../src/errors.js';

const home = '/home/ada';
const configDir = '/home/ada/.docker';
// sha256("remote") (printf remote | sha256sum): the docker CLI names a context's folders so.
const REMOTE_ID = 'b71199ebd070b36beab7317920c2c2f1d777df8d05e5527d8458fda57cb17a7a';

function resolve(options: { flag?: string; env?: Env; configJson?: string | null; context?: ContextFiles | null } = {}) {
  return resolveEndpoint({ flag: options.flag, env: options.env ?? {}, configDir, configJson: options.configJson ?? null, context: options.context ?? null });
}

function meta(host: unknown, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ Name: 'remote', Metadata: {}, Endpoints: { docker: { Host: host, ...extra } } });
}

/** The UserInputError a call throws, to assert on its code, message and hint together. */
function refusal(call: () => unknown): UserInputError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(UserInputError);
    return error as UserInputError;
  }
  throw new Error('expected a UserInputError, got none');
}

describe('docker endpoint: the default', () => {
  it('is the default socket when nothing says otherwise', () => {
    expect(resolve()).toEqual({ endpoint: { kind: 'unix', socketPath: '/var/run/docker.sock' }, display: 'unix:///var/run/docker.sock', source: 'the default socket', origin: 'default' });
  });

  it('treats empty variables as unset, as the docker CLI does', () => {
    expect(resolve({ env: { DOCKER_HOST: '', DOCKER_CONTEXT: '' } }).origin).toBe('default');
  });

  it('keeps its folder in DOCKER_CONFIG when set', () => {
    expect(dockerConfigDir({}, home)).toBe('/home/ada/.docker');
    expect(dockerConfigDir({ DOCKER_CONFIG: '/etc/dk' }, home)).toBe('/etc/dk');
  });
});

describe('docker endpoint: --docker-host and DOCKER_HOST', () => {
  it('takes the flag over DOCKER_HOST and any context', () => {
    const got = resolve({ flag: 'unix:///run/user/1000/docker.sock', env: { DOCKER_HOST: 'tcp://x:1', DOCKER_CONTEXT: 'remote' } });
    expect(got).toEqual({ endpoint: { kind: 'unix', socketPath: '/run/user/1000/docker.sock' }, display: 'unix:///run/user/1000/docker.sock', source: '--docker-host', origin: 'flag' });
  });

  it('takes DOCKER_HOST over DOCKER_CONTEXT', () => {
    expect(resolve({ env: { DOCKER_HOST: 'unix:///tmp/d.sock', DOCKER_CONTEXT: 'remote' } })).toMatchObject({ source: 'DOCKER_HOST', origin: 'env', display: 'unix:///tmp/d.sock' });
  });

  it('reads unix:// without a path as the default socket', () => {
    expect(resolve({ env: { DOCKER_HOST: 'unix://' } }).endpoint).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock' });
  });

  it('defaults tcp to 2375 without TLS and 2376 with it', () => {
    expect(resolve({ env: { DOCKER_HOST: 'tcp://build.example' } })).toMatchObject({
      endpoint: { kind: 'tcp', host: 'build.example', port: 2375, tls: null },
      display: 'tcp://build.example:2375',
    });
    expect(resolve({ env: { DOCKER_HOST: 'tcp://build.example', DOCKER_TLS_VERIFY: '1' } }).endpoint).toEqual({
      kind: 'tcp',
      host: 'build.example',
      port: 2376,
      tls: { certPath: configDir, verify: true },
    });
  });

  it('turns TLS on for any non-empty DOCKER_TLS_VERIFY and takes the certificates from DOCKER_CERT_PATH', () => {
    const got = resolve({ env: { DOCKER_HOST: 'tcp://10.0.0.5:2400', DOCKER_TLS_VERIFY: '0', DOCKER_CERT_PATH: '/certs' } });
    expect(got.endpoint).toEqual({ kind: 'tcp', host: '10.0.0.5', port: 2400, tls: { certPath: '/certs', verify: true } });
  });

  it('uses no TLS for DOCKER_CERT_PATH alone, as the docker CLI', () => {
    expect(resolve({ env: { DOCKER_HOST: 'tcp://h:2376', DOCKER_CERT_PATH: '/certs' } }).endpoint).toMatchObject({ tls: null });
  });

  it('applies DOCKER_TLS_VERIFY to the flag too', () => {
    expect(resolve({ flag: 'tcp://h', env: { DOCKER_TLS_VERIFY: '1' } }).endpoint).toMatchObject({ port: 2376, tls: { verify: true } });
  });

  it('reads host:port without a scheme as tcp, as the docker CLI', () => {
    expect(resolve({ flag: 'localhost:2375' }).endpoint).toEqual({ kind: 'tcp', host: 'localhost', port: 2375, tls: null });
  });

  it('reads IPv6 hosts and shows them bracketed', () => {
    expect(resolve({ flag: 'tcp://[::1]:2375' })).toMatchObject({ endpoint: { kind: 'tcp', host: '::1', port: 2375 }, display: 'tcp://[::1]:2375' });
  });

  it('reads ssh with and without user and port', () => {
    expect(resolve({ env: { DOCKER_HOST: 'ssh://ops@gpu-box:2222' } })).toMatchObject({ endpoint: { kind: 'ssh', host: 'gpu-box', port: 2222, user: 'ops' }, display: 'ssh://ops@gpu-box:2222' });
    expect(resolve({ env: { DOCKER_HOST: 'ssh://gpu-box' } })).toMatchObject({ endpoint: { kind: 'ssh', host: 'gpu-box', port: null, user: null }, display: 'ssh://gpu-box' });
  });

  it('ignores DOCKER_TLS_VERIFY for unix and ssh', () => {
    expect(resolve({ env: { DOCKER_HOST: 'ssh://gpu-box', DOCKER_TLS_VERIFY: '1' } }).endpoint.kind).toBe('ssh');
    expect(resolve({ env: { DOCKER_HOST: 'unix:///s', DOCKER_TLS_VERIFY: '1' } }).endpoint).toEqual({ kind: 'unix', socketPath: '/s' });
  });

  it.each([
    ['tcp://', 'names no host'],
    ['tcp://h:abc', 'is not a valid address'],
    ['tcp://h:99999', 'is not a valid address'],
    ['tcp://h:0', 'has port 0'],
    ['tcp://u:p@h:2375', 'user name or password'],
    ['tcp://h:2375/v1.41', 'has a path'],
    ['ssh://u:secret@h', 'holds a password'],
    ['ssh://h/path', 'has a path'],
    ['ssh://', 'names no host'],
    ['npipe:////./pipe/docker_engine', 'Windows named pipe'],
    ['http://h:2375', 'Docker addresses use tcp://'],
    ['fd://', 'unknown scheme fd://'],
  ])('refuses DOCKER_HOST=%s, naming the variable', (value, why) => {
    const error = refusal(() => resolve({ env: { DOCKER_HOST: value } }));
    expect(error.code).toBe('DOCKER_HOST_INVALID');
    expect(error.message).toContain(`DOCKER_HOST ${JSON.stringify(value)}`);
    expect(error.message).toContain(why);
    expect(error.hint).toContain('Set DOCKER_HOST to');
  });

  it('refuses a malformed or empty flag, naming the flag', () => {
    const error = refusal(() => resolve({ flag: 'tcp://h:port' }));
    expect(error.code).toBe('DOCKER_HOST_INVALID');
    expect(error.message).toMatch(/^--docker-host "tcp:\/\/h:port"/);
    expect(error.hint).toContain('--docker-host');
    expect(refusal(() => resolve({ flag: ' ' })).message).toBe('--docker-host is empty');
  });
});

describe('docker endpoint: docker contexts', () => {
  it('names a context folder by the sha256 of its name', () => {
    expect(contextPaths(configDir, 'remote')).toEqual({
      metaPath: `${configDir}/contexts/meta/${REMOTE_ID}/meta.json`,
      tlsDir: `${configDir}/contexts/tls/${REMOTE_ID}/docker`,
    });
  });

  it('selects DOCKER_CONTEXT over config.json, and config.json currentContext otherwise', () => {
    const configJson = JSON.stringify({ currentContext: 'other' });
    expect(selectContext({ env: { DOCKER_CONTEXT: 'remote' }, configDir, configJson })).toEqual({ name: 'remote', from: 'DOCKER_CONTEXT' });
    expect(selectContext({ env: {}, configDir, configJson })).toEqual({ name: 'other', from: `${configDir}/config.json` });
    expect(selectContext({ env: {}, configDir, configJson: '{"auths":{}}' })).toBeNull();
    expect(selectContext({ env: {}, configDir, configJson: null })).toBeNull();
  });

  it('reads "default" as the default socket', () => {
    expect(resolve({ env: { DOCKER_CONTEXT: 'default' } }).origin).toBe('default');
    expect(resolve({ configJson: '{"currentContext":"default"}' }).display).toBe('unix:///var/run/docker.sock');
  });

  it('does not read config.json when DOCKER_HOST decides', () => {
    expect(resolve({ env: { DOCKER_HOST: 'unix:///s' }, configJson: 'not json' }).source).toBe('DOCKER_HOST');
  });

  it('reads a named context: its host, without TLS material', () => {
    const got = resolve({ env: { DOCKER_CONTEXT: 'remote' }, context: { name: 'remote', metaJson: meta('tcp://gpu-box:2375'), tlsFiles: [] } });
    expect(got).toEqual({
      endpoint: { kind: 'tcp', host: 'gpu-box', port: 2375, tls: null },
      display: 'tcp://gpu-box:2375',
      source: 'docker context remote (DOCKER_CONTEXT)',
      origin: 'context',
    });
  });

  it('uses a context\'s TLS material, verified unless SkipTLSVerify', () => {
    const tlsDir = `${configDir}/contexts/tls/${REMOTE_ID}/docker`;
    const verified = resolve({ configJson: '{"currentContext":"remote"}', context: { name: 'remote', metaJson: meta('tcp://gpu-box'), tlsFiles: ['ca.pem', 'cert.pem', 'key.pem'] } });
    expect(verified.endpoint).toEqual({ kind: 'tcp', host: 'gpu-box', port: 2376, tls: { certPath: tlsDir, verify: true } });
    expect(verified.source).toBe(`docker context remote (${configDir}/config.json)`);
    const skipped = resolve({ env: { DOCKER_CONTEXT: 'remote' }, context: { name: 'remote', metaJson: meta('tcp://gpu-box:2376', { SkipTLSVerify: true }), tlsFiles: [] } });
    expect(skipped.endpoint).toMatchObject({ tls: { certPath: null, verify: false } });
  });

  it('ignores DOCKER_TLS_VERIFY for a context (the context carries its own)', () => {
    expect(resolve({ env: { DOCKER_CONTEXT: 'remote', DOCKER_TLS_VERIFY: '1' }, context: { name: 'remote', metaJson: meta('tcp://h:2375'), tlsFiles: [] } }).endpoint).toMatchObject({ tls: null });
  });

  it('reads ssh and unix contexts', () => {
    expect(resolve({ env: { DOCKER_CONTEXT: 'remote' }, context: { name: 'remote', metaJson: meta('ssh://ops@gpu-box'), tlsFiles: [] } }).endpoint).toEqual({ kind: 'ssh', host: 'gpu-box', port: null, user: 'ops' });
    expect(resolve({ env: { DOCKER_CONTEXT: 'remote' }, context: { name: 'remote', metaJson: meta('unix:///run/podman/podman.sock'), tlsFiles: [] } }).display).toBe('unix:///run/podman/podman.sock');
  });

  it('refuses a context that does not exist, saying what to unset', () => {
    const error = refusal(() => resolve({ env: { DOCKER_CONTEXT: 'remote' }, context: { name: 'remote', metaJson: null, tlsFiles: [] } }));
    expect(error.code).toBe('DOCKER_CONTEXT_MISSING');
    expect(error.message).toContain('DOCKER_CONTEXT names docker context remote, which does not exist');
    expect(error.hint).toContain('Unset DOCKER_CONTEXT');
    const fromConfig = refusal(() => resolve({ configJson: '{"currentContext":"remote"}', context: { name: 'remote', metaJson: null, tlsFiles: [] } }));
    expect(fromConfig.message).toContain(`${configDir}/config.json names docker context remote`);
    expect(fromConfig.hint).toContain('docker context use default');
  });

  it.each([
    ['not json', 'meta.json is not valid JSON'],
    ['[]', 'no Endpoints.docker'],
    ['{"Endpoints":{}}', 'no Endpoints.docker'],
    [meta(''), 'Host is missing'],
    [meta(42), 'Host is missing or not a string'],
    [meta('tcp://h', { SkipTLSVerify: 'yes' }), 'SkipTLSVerify is not true or false'],
    [meta('tcp://h:x'), 'Endpoints.docker.Host "tcp://h:x" is not a valid address'],
  ])('refuses a malformed meta.json (%s), naming the file', (metaJson, why) => {
    const error = refusal(() => resolve({ env: { DOCKER_CONTEXT: 'remote' }, context: { name: 'remote', metaJson, tlsFiles: [] } }));
    expect(error.code).toMatch(/^DOCKER_(CONTEXT|HOST)_INVALID$/);
    expect(error.message).toContain(`contexts/meta/${REMOTE_ID}/meta.json`);
    expect(error.message).toContain(why);
    expect(error.hint).toContain('docker context inspect remote');
  });

  it.each([
    ['not json', 'is not valid JSON'],
    ['[1]', 'does not hold a JSON object'],
    ['{"currentContext": 3}', 'currentContext is not a string'],
  ])('refuses a malformed config.json (%s), naming the file', (configJson, why) => {
    const error = refusal(() => resolve({ configJson }));
    expect(error.code).toBe('DOCKER_CONFIG_INVALID');
    expect(error.message).toContain(`${configDir}/config.json`);
    expect(error.message).toContain(why);
  });

  it('refuses a context name docker would not create, naming where it came from', () => {
    const error = refusal(() => resolve({ env: { DOCKER_CONTEXT: '../../etc' } }));
    expect(error.code).toBe('DOCKER_CONTEXT_INVALID');
    expect(error.message).toContain('DOCKER_CONTEXT names docker context "../../etc"');
    expect(refusal(() => resolve({ configJson: '{"currentContext":"a/b"}' })).message).toContain('config.json names docker context "a/b"');
  });
});

describe('docker endpoint: hints', () => {
  it('says what to change, by source', () => {
    expect(unreachableHint(resolve())).toContain('Start the Docker engine');
    expect(unreachableHint(resolve({ flag: 'tcp://h' }))).toContain('--docker-host');
    expect(unreachableHint(resolve({ env: { DOCKER_HOST: 'tcp://h' } }))).toContain('DOCKER_HOST');
    expect(unreachableHint(resolve({ env: { DOCKER_CONTEXT: 'remote' }, context: { name: 'remote', metaJson: meta('tcp://h'), tlsFiles: [] } }))).toContain('docker context use default');
  });
});
