import { describe, expect, it } from '@jest/globals';
import { detectContainer, type ContainerEvidence } from '../../../src/core/parse/index.js';
import { crlf, fixture } from './fixture.js';

const none: ContainerEvidence = { dockerenv: false, containerenv: false, cgroup: null, environ: {} };

describe('detectContainer', () => {
  it('is outside with no evidence, or with only cgroup v2’s 0::/', () => {
    expect(detectContainer(none)).toEqual({ inside: false, runtime: null });
    expect(detectContainer({ ...none, cgroup: fixture('container/cgroup-v2-only.txt') })).toEqual({ inside: false, runtime: null });
    expect(detectContainer({ ...none, cgroup: '' })).toEqual({ inside: false, runtime: null });
    expect(detectContainer({ ...none, cgroup: 'garbage\n\u0000' })).toEqual({ inside: false, runtime: null });
  });

  it('reads this machine: /.dockerenv with an unrelated cgroup v1 path', () => {
    expect(detectContainer({ ...none, dockerenv: true, cgroup: fixture('container/cgroup-v1-this-machine.txt') })).toEqual({ inside: true, runtime: 'docker' });
    expect(detectContainer({ ...none, cgroup: fixture('container/cgroup-v1-this-machine.txt') })).toEqual({ inside: false, runtime: null });
  });

  it('finds docker, kubernetes, podman, containerd and lxc in cgroup v1 paths', () => {
    expect(detectContainer({ ...none, cgroup: fixture('container/cgroup-v1-docker.txt') })).toEqual({ inside: true, runtime: 'docker' });
    expect(detectContainer({ ...none, cgroup: crlf(fixture('container/cgroup-v1-kubepods.txt')) })).toEqual({ inside: true, runtime: 'kubernetes' });
    expect(detectContainer({ ...none, cgroup: '1:name=systemd:/system.slice/docker-0123abcd.scope\n' }).runtime).toBe('docker');
    expect(detectContainer({ ...none, cgroup: '1:name=systemd:/machine.slice/libpod-0123abcd.scope\n' }).runtime).toBe('podman');
    expect(detectContainer({ ...none, cgroup: '5:cpu:/system.slice/containerd.service/kubepods-besteffort-pod1.slice:cri-containerd:abc\n' }).runtime).toBe('kubernetes');
    expect(detectContainer({ ...none, cgroup: '4:memory:/containerd/default/abc\n' }).runtime).toBe('containerd');
    expect(detectContainer({ ...none, cgroup: '2:cpuset:/lxc/web01\n' }).runtime).toBe('lxc');
  });

  it('uses the marker files and environment', () => {
    expect(detectContainer({ ...none, containerenv: true })).toEqual({ inside: true, runtime: 'podman' });
    expect(detectContainer({ ...none, environ: { container: 'podman' } })).toEqual({ inside: true, runtime: 'podman' });
    expect(detectContainer({ ...none, environ: { container: 'lxc' } })).toEqual({ inside: true, runtime: 'lxc' });
    expect(detectContainer({ ...none, environ: { container: 'systemd-nspawn' } })).toEqual({ inside: true, runtime: null });
    expect(detectContainer({ ...none, environ: { container: '  ' } })).toEqual({ inside: false, runtime: null });
  });

  it('prefers kubernetes over the runtime underneath it', () => {
    expect(detectContainer({ ...none, dockerenv: true, environ: { KUBERNETES_SERVICE_HOST: '10.96.0.1' } })).toEqual({ inside: true, runtime: 'kubernetes' });
    expect(detectContainer({ ...none, dockerenv: true, cgroup: fixture('container/cgroup-v1-kubepods.txt') }).runtime).toBe('kubernetes');
  });
});
