// Opens the engine a replay, a build or doctor runs on, from the command's settings: the one
// place a service reaches the Docker adapter, so commands hold only values.
import { homedir } from 'node:os';
import type { ContainerEngine } from '../../core/container-engine.js';
import type { ReplayBackend } from '../../core/replay/backend.js';
import { UserInputError } from '../../errors.js';
import { connectEngine } from '../../adapters/docker.js';
import type { ReplaySubject } from '../replay.js';
import { assertNoCredentials, DockerReplay } from './docker.js';
import { LocalReplay, type LocalSettings } from './local.js';
import { chooseBaseImage } from '../../core/dockerfile/base-image.js';
import { assertImageReference } from '../../core/dockerfile/validate.js';
import { loadCompatTable } from '../../adapters/package-files.js';
import { SnapshotError } from '../../errors.js';

export interface DockerSettings {
  dockerHost?: string;
  env: NodeJS.ProcessEnv;
  baseImage?: string;
  pythonFrom?: 'base' | 'apt' | 'uv';
  /** --build-arg KEY=VALUE values. */
  buildArgs: string[];
  network: 'host' | 'default';
  noCache: boolean;
  pull: boolean;
  toolVersion: string;
  gitTimeoutMs: number;
}

export function parseBuildArgs(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    const key = at > 0 ? value.slice(0, at) : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new UserInputError('BUILD_ARG_INVALID', `--build-arg ${JSON.stringify(value).slice(0, 120)}: expected KEY=VALUE`, { hint: 'For example --build-arg PIP_INDEX_URL=http://mirror.local/simple.' });
    out[key] = value.slice(at + 1);
  }
  return out;
}

export async function openDockerEngine(settings: Pick<DockerSettings, 'dockerHost' | 'env'>): Promise<ContainerEngine> {
  return connectEngine({ dockerHost: settings.dockerHost, env: settings.env, homeDir: homedir() });
}

/** What the replay pipeline asks for: an engine for one snapshot and its located code. */
export function dockerBackends(settings: DockerSettings): (subject: ReplaySubject) => Promise<ReplayBackend> {
  const buildArgs = parseBuildArgs(settings.buildArgs);
  // Refused before anything is made.
  assertNoCredentials(buildArgs);
  return async (subject) =>
    new DockerReplay({
      engine: await openDockerEngine(settings),
      subject,
      baseImage: settings.baseImage,
      pythonFrom: settings.pythonFrom,
      buildArgs,
      network: settings.network,
      noCache: settings.noCache,
      pull: settings.pull,
      toolVersion: settings.toolVersion,
      gitTimeoutMs: settings.gitTimeoutMs,
    });
}

export type EngineKind = 'auto' | 'docker' | 'local';

/**
 * --pip-index-url is the index for whichever engine replays: a container's build gets it as the
 * PIP_INDEX_URL build argument the Dockerfile declares. A --build-arg PIP_INDEX_URL that says
 * otherwise is a contradiction, refused.
 */
function withIndexBuildArg(docker: DockerSettings, pipIndexUrl: string | undefined): DockerSettings {
  if (pipIndexUrl === undefined) return docker;
  const given = docker.buildArgs.find((a) => a.startsWith('PIP_INDEX_URL='));
  if (given !== undefined && given !== `PIP_INDEX_URL=${pipIndexUrl}`) {
    throw new UserInputError('FLAG_CONFLICT', `--pip-index-url ${pipIndexUrl} and --build-arg ${given} name two indexes for the build`, { hint: 'Give the index once: --pip-index-url URL serves both engines.' });
  }
  return given !== undefined ? docker : { ...docker, buildArgs: [...docker.buildArgs, `PIP_INDEX_URL=${pipIndexUrl}`] };
}

/** How long --engine auto waits for an engine, and for a registry to answer for the base image. */
const AUTO_ENGINE_TIMEOUT_MS = 5000;
const AUTO_PULL_TIMEOUT_MS = 10_000;

function withReason<T extends object>(backend: T, reason: string): T & { reason: string } {
  Object.defineProperty(backend, 'reason', { value: reason, enumerable: true });
  return backend as T & { reason: string };
}

/**
 * The engine a replay runs on: Docker or local as asked, or with `auto` Docker when an engine
 * answers and the snapshot's base image is there or a registry gives it, else local; the backend
 * carries which and why (the report's engine.reason, and an event).
 */
export function replayBackends(settings: { engine: EngineKind; docker: DockerSettings; local: LocalSettings }): (subject: ReplaySubject) => Promise<ReplayBackend> {
  const localOnly = settings.local.python !== undefined ? '--python' : settings.local.exactPython ? '--exact-python' : null;
  if (settings.engine === 'docker' && localOnly !== null) {
    throw new UserInputError('FLAG_NOT_FOR_ENGINE', `${localOnly} applies to the local engine only: a container's Python is the one its image installs (the captured version)`, { hint: `Drop ${localOnly}, or replay with --engine local.` });
  }
  const dockerSettings = withIndexBuildArg(settings.docker, settings.local.pipIndexUrl);
  const local = async (subject: ReplaySubject) => new LocalReplay(settings.local, subject);
  if (settings.engine === 'docker') {
    const docker = dockerBackends(dockerSettings);
    return async (subject) => withReason(await docker(subject), '--engine docker');
  }
  if (settings.engine === 'local') return async (subject) => withReason(await local(subject), '--engine local');
  // An interpreter of this host's was asked for: only the local engine can use it.
  if (localOnly !== null) return async (subject) => withReason(await local(subject), `--engine auto: ${localOnly} names this host's interpreter, which only the local engine uses`);
  return async (subject) => {
    const why = await dockerUsable(settings.docker, subject);
    // Made only once chosen: what a container refuses (an index URL with credentials in it, which
    // would stay in the image's history) does not stop a local replay.
    if (why.usable) return withReason(await dockerBackends(dockerSettings)(subject), `--engine auto: ${why.reason}`);
    return withReason(await local(subject), `--engine auto: ${why.reason}, so the environment is rebuilt in a venv on this host`);
  };
}

/** Whether a Docker engine answers and can have the snapshot's base image without a failing build. */
export async function dockerUsable(settings: DockerSettings, subject: Pick<ReplaySubject, 'snapshot' | 'gpus'>): Promise<{ usable: boolean; reason: string }> {
  let engine: ContainerEngine;
  try {
    engine = await openDockerEngine(settings);
    await engine.facts(AUTO_ENGINE_TIMEOUT_MS);
  } catch (error) {
    if (!(error instanceof SnapshotError)) throw error;
    return { usable: false, reason: `no Docker engine answers (${error.message.split('\n')[0]?.slice(0, 200)})` };
  }
  let base: string;
  if (settings.baseImage !== undefined) {
    assertImageReference(settings.baseImage, '--base-image');
    base = settings.baseImage;
  } else {
    const choice = chooseBaseImage(subject.snapshot, { target: subject.gpus.kind === 'none' ? 'cpu' : 'gpu', pythonFrom: settings.pythonFrom }, await loadCompatTable());
    base = choice.digest && !choice.image.includes('@') ? `${choice.image}@${choice.digest}` : choice.image;
  }
  const where = `${engine.endpoint.display}`;
  if ((await engine.inspectImage(base)) !== null) return { usable: true, reason: `the Docker engine at ${where} answers and has the base image ${base}` };
  const notPullable = await engine.pullable(base, AUTO_PULL_TIMEOUT_MS);
  if (notPullable === null) return { usable: true, reason: `the Docker engine at ${where} answers and a registry gives the base image ${base}` };
  return { usable: false, reason: `the Docker engine at ${where} answers but has no base image ${base}, and ${notPullable}` };
}
