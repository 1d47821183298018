// How to reach a Docker engine, decided the way the docker CLI decides it, from plain values: the
// --docker-host flag, else DOCKER_HOST (with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH), else the
// current docker context (DOCKER_CONTEXT, else config.json's currentContext), else the default
// socket. The adapter reads the files and passes their text in; nothing here touches the disk.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { UserInputError } from '../errors.js';
import type { EngineEndpoint, ResolvedEndpoint } from './container-engine.js';

export const DEFAULT_SOCKET = '/var/run/docker.sock';
const PLAIN_PORT = 2375;
const TLS_PORT = 2376;
/** The names `docker context create` accepts. */
const CONTEXT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$/;
export const TLS_FILES = ['ca.pem', 'cert.pem', 'key.pem'] as const;

export type Env = Record<string, string | undefined>;

/** The docker CLI's own folder: DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: Env, homeDir: string): string {
  return nonEmpty(env.DOCKER_CONFIG) ?? posix.join(homeDir, '.docker');
}

/** Where a named context keeps its metadata and TLS material: folders named by the sha256 of the name. */
export function contextPaths(configDir: string, name: string): { metaPath: string; tlsDir: string } {
  const id = createHash('sha256').update(name).digest('hex');
  return {
    metaPath: posix.join(configDir, 'contexts', 'meta', id, 'meta.json'),
    tlsDir: posix.join(configDir, 'contexts', 'tls', id, 'docker'),
  };
}

export interface ContextSelection {
  name: string;
  /** What named it: "DOCKER_CONTEXT" or the config file's path. */
  from: string;
}

export interface SelectInput {
  flag?: string | undefined;
  env: Env;
  configDir: string;
  /** config.json's text, null when there is none. */
  configJson: string | null;
}

/**
 * The named docker context in force, or null when the flag, DOCKER_HOST or the default context
 * decides. The adapter reads that context's files and passes them to resolveEndpoint.
 */
export function selectContext(input: SelectInput): ContextSelection | null {
  if (nonEmpty(input.flag) !== undefined || nonEmpty(input.env.DOCKER_HOST) !== undefined) return null;
  const fromEnv = nonEmpty(input.env.DOCKER_CONTEXT);
  if (fromEnv !== undefined) return named(fromEnv, 'DOCKER_CONTEXT', 'Set DOCKER_CONTEXT to a name `docker context ls` lists, or unset it.');
  if (input.configJson === null) return null;
  const configPath = posix.join(input.configDir, 'config.json');
  let config: unknown;
  try {
    config = JSON.parse(input.configJson);
  } catch (error) {
    throw new UserInputError('DOCKER_CONFIG_INVALID', `${configPath} is not valid JSON (${(error as Error).message})`, {
      hint: 'Fix or remove the file (the docker CLI rewrites it), or pass --docker-host.',
    });
  }
  if (!isRecord(config)) {
    throw new UserInputError('DOCKER_CONFIG_INVALID', `${configPath} does not hold a JSON object`, { hint: 'Fix or remove the file, or pass --docker-host.' });
  }
  const current = config.currentContext;
  if (current === undefined || current === '') return null;
  if (typeof current !== 'string') {
    throw new UserInputError('DOCKER_CONFIG_INVALID', `${configPath}: currentContext is not a string`, { hint: 'Run `docker context use default`, or fix the file.' });
  }
  return named(current, configPath, 'Run `docker context use <name>` with a name `docker context ls` lists.');
}

function named(name: string, from: string, hint: string): ContextSelection | null {
  if (name === 'default') return null;
  if (!CONTEXT_NAME.test(name)) {
    throw new UserInputError('DOCKER_CONTEXT_INVALID', `${from} names docker context ${JSON.stringify(name)}, which is not a valid context name`, { hint });
  }
  return { name, from };
}

export interface ContextFiles {
  name: string;
  /** meta.json's text, null when the context does not exist. */
  metaJson: string | null;
  /** Which of ca.pem, cert.pem and key.pem its TLS folder holds. */
  tlsFiles: string[];
}

export interface EndpointInput extends SelectInput {
  /** The selected context's files, when selectContext named one. */
  context: ContextFiles | null;
}

/** Decides the endpoint; a malformed value is a UserInputError that names where it came from. */
export function resolveEndpoint(input: EndpointInput): ResolvedEndpoint {
  const flag = nonEmpty(input.flag);
  if (input.flag !== undefined && flag === undefined) {
    throw new UserInputError('DOCKER_HOST_INVALID', '--docker-host is empty', { hint: 'Pass an address such as unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host.' });
  }
  if (flag !== undefined) return fromHost(flag, '--docker-host', 'flag', tlsFromEnv(input));
  const host = nonEmpty(input.env.DOCKER_HOST);
  if (host !== undefined) return fromHost(host, 'DOCKER_HOST', 'env', tlsFromEnv(input));
  const selected = selectContext(input);
  if (selected === null) return { ...describe({ kind: 'unix', socketPath: DEFAULT_SOCKET }), source: 'the default socket', origin: 'default' };
  const files = input.context;
  if (files === null || files.name !== selected.name) {
    throw new Error(`internal: the files of docker context ${selected.name} were not read`);
  }
  return fromContext(selected, files, input.configDir);
}

function tlsFromEnv(input: SelectInput): { certPath: string; verify: boolean } | null {
  // As the docker CLI: any non-empty DOCKER_TLS_VERIFY turns on verified TLS ("0" too).
  if (nonEmpty(input.env.DOCKER_TLS_VERIFY) === undefined) return null;
  return { certPath: nonEmpty(input.env.DOCKER_CERT_PATH) ?? input.configDir, verify: true };
}

function fromContext(selected: ContextSelection, files: ContextFiles, configDir: string): ResolvedEndpoint {
  const { metaPath, tlsDir } = contextPaths(configDir, selected.name);
  const source = `docker context ${selected.name} (${selected.from})`;
  const hint = `Run \`docker context inspect ${selected.name}\` to check it, or \`docker context use default\`, or pass --docker-host.`;
  const bad = (what: string) => new UserInputError('DOCKER_CONTEXT_INVALID', `docker context ${selected.name} (${metaPath}): ${what}`, { hint });
  if (files.metaJson === null) {
    throw new UserInputError('DOCKER_CONTEXT_MISSING', `${selected.from} names docker context ${selected.name}, which does not exist (no ${metaPath})`, {
      hint: selected.from === 'DOCKER_CONTEXT' ? 'Unset DOCKER_CONTEXT or set it to a name `docker context ls` lists.' : 'Run `docker context use default`, or create the context.',
    });
  }
  let meta: unknown;
  try {
    meta = JSON.parse(files.metaJson);
  } catch (error) {
    throw bad(`meta.json is not valid JSON (${(error as Error).message})`);
  }
  const endpoints = isRecord(meta) ? meta.Endpoints : undefined;
  const docker = isRecord(endpoints) ? endpoints.docker : undefined;
  if (!isRecord(docker)) throw bad('meta.json has no Endpoints.docker');
  if (typeof docker.Host !== 'string' || docker.Host === '') throw bad('Endpoints.docker.Host is missing or not a string');
  const skip = docker.SkipTLSVerify ?? false;
  if (typeof skip !== 'boolean') throw bad('Endpoints.docker.SkipTLSVerify is not true or false');
  // A context uses TLS when it holds TLS material or says to skip verifying it.
  const hasMaterial = files.tlsFiles.some((name) => (TLS_FILES as readonly string[]).includes(name));
  const tls = hasMaterial || skip ? { certPath: hasMaterial ? tlsDir : null, verify: !skip } : null;
  return fromHost(docker.Host, source, 'context', tls, `docker context ${selected.name} (${metaPath}): Endpoints.docker.Host`, hint);
}

/**
 * Parses a host as the docker CLI writes it: unix://path, tcp://host[:port], host:port (tcp),
 * ssh://[user@]host[:port]. `what` names the flag, variable or file in errors.
 */
function fromHost(
  value: string,
  source: string,
  origin: ResolvedEndpoint['origin'],
  tls: { certPath: string | null; verify: boolean } | null,
  what = source,
  hint = `${what === '--docker-host' ? 'Pass --docker-host' : `Set ${what} to`} an address such as unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host.`,
): ResolvedEndpoint {
  const bad = (why: string) => new UserInputError('DOCKER_HOST_INVALID', `${what} ${JSON.stringify(value)} ${why}`, { hint });
  const text = value.trim();
  const schemeAt = text.indexOf('://');
  const scheme = schemeAt < 0 ? 'tcp' : text.slice(0, schemeAt).toLowerCase();
  const rest = schemeAt < 0 ? text : text.slice(schemeAt + 3);
  const done = (endpoint: EngineEndpoint): ResolvedEndpoint => ({ ...describe(endpoint), source, origin });
  switch (scheme) {
    case 'unix': {
      if (rest.includes('\0')) throw bad('holds a NUL byte');
      return done({ kind: 'unix', socketPath: rest === '' ? DEFAULT_SOCKET : rest });
    }
    case 'tcp': {
      const url = parseUrl(`tcp://${rest}`, bad);
      if (url.hostname === '') throw bad('names no host');
      if (url.username !== '' || url.password !== '') throw bad('holds a user name or password, which tcp:// does not take');
      if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') throw bad('has a path after the host, which snapshot does not support');
      const port = url.port === '' ? (tls !== null ? TLS_PORT : PLAIN_PORT) : Number(url.port);
      if (port === 0) throw bad('has port 0');
      return done({ kind: 'tcp', host: unbracket(url.hostname), port, tls });
    }
    case 'ssh': {
      const url = parseUrl(`ssh://${rest}`, bad);
      if (url.hostname === '') throw bad('names no host');
      if (url.password !== '') throw bad('holds a password; ssh:// takes keys or an agent, never a password in the address');
      if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') throw bad('has a path after the host, which ssh:// does not take');
      if (url.port === '0') throw bad('has port 0');
      return done({ kind: 'ssh', host: unbracket(url.hostname), port: url.port === '' ? null : Number(url.port), user: url.username === '' ? null : decodeURIComponent(url.username) });
    }
    case 'npipe':
      throw bad('is a Windows named pipe, which snapshot does not support');
    case 'http':
    case 'https':
      throw bad(`uses ${scheme}://; Docker addresses use tcp:// (TLS comes from DOCKER_TLS_VERIFY)`);
    default:
      throw bad(`has the unknown scheme ${scheme}://`);
  }
}

function parseUrl(text: string, bad: (why: string) => Error): URL {
  try {
    return new URL(text);
  } catch {
    throw bad('is not a valid address (host and port)');
  }
}

/** The endpoint as a user would write it, for messages. */
export function describe(endpoint: EngineEndpoint): { endpoint: EngineEndpoint; display: string } {
  const host = (name: string) => (name.includes(':') ? `[${name}]` : name);
  switch (endpoint.kind) {
    case 'unix':
      return { endpoint, display: `unix://${endpoint.socketPath}` };
    case 'tcp':
      return { endpoint, display: `tcp://${host(endpoint.host)}:${endpoint.port}` };
    case 'ssh':
      return { endpoint, display: `ssh://${endpoint.user === null ? '' : `${endpoint.user}@`}${host(endpoint.host)}${endpoint.port === null ? '' : `:${endpoint.port}`}` };
  }
}

/** What to do when the engine does not answer, by where the address came from. */
export function unreachableHint(resolved: ResolvedEndpoint): string {
  switch (resolved.origin) {
    case 'flag':
      return 'Check the address given to --docker-host and that the engine there is running.';
    case 'env':
      return 'Check that the engine DOCKER_HOST names is running, or unset DOCKER_HOST (or pass --docker-host) to use another.';
    case 'context':
      return `Check the ${resolved.source}: start its engine, or run \`docker context use default\`, or set DOCKER_HOST / pass --docker-host.`;
    case 'default':
      return 'Start the Docker engine (or Podman\'s docker-compatible socket), or point DOCKER_HOST or --docker-host at a running one.';
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

