// The flags that say how a snapshot's image is built, shared by `build` and `replay` (one
// definition, one reading), and the Docker settings they make.
import { Flags } from '@oclif/core';
import type { DockerSettings } from '../services/engines/open.js';

export const buildFlags = {
  'docker-host': Flags.string({ description: 'the engine to use [default: DOCKER_HOST, else the current docker context, else the local socket]', helpValue: 'URL' }),
  'base-image': Flags.string({ description: 'build FROM this image instead of the one chosen for the captured stack', helpValue: 'IMAGE' }),
  'python-from': Flags.string({ description: 'how the exact captured Python gets into the image', options: ['base', 'apt', 'uv'] }),
  'build-arg': Flags.string({ description: 'a build argument (pip index settings, proxies; never credentials: they stay in the image history) (repeatable)', multiple: true, default: [], helpValue: 'KEY=VALUE' }),
  'build-network': Flags.string({ description: 'the network the build steps use', options: ['default', 'host'], default: 'default' }),
  'no-cache': Flags.boolean({ description: "build without the engine's layer cache", default: false }),
  pull: Flags.boolean({ description: 'pull a newer base image before building', default: false }),
};

interface BuildFlagValues {
  'docker-host'?: string;
  'base-image'?: string;
  'python-from'?: string;
  'build-arg': string[];
  'build-network': string;
  'no-cache': boolean;
  pull: boolean;
}

export function dockerSettings(flags: BuildFlagValues, toolVersion: string, env: NodeJS.ProcessEnv): DockerSettings {
  return {
    dockerHost: flags['docker-host'],
    env,
    baseImage: flags['base-image'],
    pythonFrom: flags['python-from'] as 'base' | 'apt' | 'uv' | undefined,
    buildArgs: flags['build-arg'],
    network: flags['build-network'] as 'host' | 'default',
    noCache: flags['no-cache'],
    pull: flags.pull,
    toolVersion,
    gitTimeoutMs: 60_000,
  };
}
