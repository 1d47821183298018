// Opens the engine a replay, a build or doctor runs on, from the command's settings: the one
// place a service reaches the Docker adapter, so commands hold only values.
import { homedir } from 'node:os';
import type { ContainerEngine } from '../../core/container-engine.js';
import type { ReplayBackend } from '../../core/replay/backend.js';
import { UserInputError } from '../../errors.js';
import { connectEngine } from '../../adapters/docker.js';
import type { ReplaySubject } from '../replay.js';
import { assertNoCredentials, DockerReplay } from './docker.js';

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
