// Which engine a replay gets from its flags, before anything is built: the local-only flags choose
// the local engine under auto and are refused with --engine docker; --pip-index-url serves both.
import { describe, expect, test } from '@jest/globals';
import { replayBackends, type DockerSettings } from '../../src/services/engines/open.js';
import type { LocalSettings } from '../../src/services/engines/local.js';
import type { ReplaySubject } from '../../src/services/replay.js';
import { SnapshotError } from '../../src/errors.js';

// No engine answers here, and none is asked: each case below is decided by the flags alone.
const docker = (buildArgs: string[] = []): DockerSettings => ({ env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' }, buildArgs, network: 'default', noCache: false, pull: false, toolVersion: '0', gitTimeoutMs: 1000 });
const local = (over: Partial<LocalSettings> = {}): LocalSettings => ({ exactPython: false, env: { HOME: '/nonexistent' }, toolVersion: '0', gitTimeoutMs: 1000, ...over });
const subject = { id: 'r', snapshotPath: '/nonexistent/snapshot.yaml', folder: '/nonexistent/replay', gpus: { kind: 'none' } } as unknown as ReplaySubject;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof SnapshotError ? error.code : 'not a SnapshotError';
  }
  return undefined;
}

describe('replayBackends', () => {
  test('--engine auto with --python or --exact-python replays locally and says why', async () => {
    for (const [flags, named] of [[{ python: '/usr/bin/python3' }, '--python'], [{ exactPython: true }, '--exact-python']] as const) {
      const backend = await replayBackends({ engine: 'auto', docker: docker(), local: local(flags) })(subject);
      expect(backend.kind).toBe('local');
      expect(backend.reason).toContain(named);
      expect(backend.reason).toContain('only the local engine');
    }
  });

  test('--engine docker refuses the flags only the local engine uses', () => {
    expect(codeOf(() => replayBackends({ engine: 'docker', docker: docker(), local: local({ python: '/usr/bin/python3' }) }))).toBe('FLAG_NOT_FOR_ENGINE');
    expect(codeOf(() => replayBackends({ engine: 'docker', docker: docker(), local: local({ exactPython: true }) }))).toBe('FLAG_NOT_FOR_ENGINE');
  });

  test('--pip-index-url is the build argument PIP_INDEX_URL for a container, and a different --build-arg for it is refused', async () => {
    const backend = await replayBackends({ engine: 'docker', docker: docker(), local: local({ pipIndexUrl: 'http://mirror.local/simple/' }) })(subject);
    expect(backend.kind).toBe('docker');
    expect((backend as unknown as { options: { buildArgs: Record<string, string> } }).options.buildArgs).toEqual({ PIP_INDEX_URL: 'http://mirror.local/simple/' });
    expect(codeOf(() => replayBackends({ engine: 'docker', docker: docker(['PIP_INDEX_URL=http://other/simple/']), local: local({ pipIndexUrl: 'http://mirror.local/simple/' }) }))).toBe('FLAG_CONFLICT');
    // The same index given both ways is one index.
    expect(codeOf(() => replayBackends({ engine: 'docker', docker: docker(['PIP_INDEX_URL=http://mirror.local/simple/']), local: local({ pipIndexUrl: 'http://mirror.local/simple/' }) }))).toBeUndefined();
  });

  test('an index URL with credentials stops a Docker replay (they would stay in the image) but not the choice of local', async () => {
    const url = 'https://user:secret@mirror.local/simple/';
    expect(codeOf(() => replayBackends({ engine: 'docker', docker: docker(), local: local({ pipIndexUrl: url }) }))).toBe("BUILD_ARG_CREDENTIALS");
    const backend = await replayBackends({ engine: 'auto', docker: docker(), local: local({ pipIndexUrl: url, exactPython: true }) })(subject);
    expect(backend.kind).toBe('local');
  });
});
