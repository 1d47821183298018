// Whether we run inside a container, and which runtime started it, from the evidence an
// adapter gathers: /.dockerenv, /run/.containerenv, /proc/1/cgroup (or /proc/self/cgroup)
// and two environment variables.

export type ContainerRuntime = 'docker' | 'podman' | 'kubernetes' | 'containerd' | 'lxc';

export interface ContainerEvidence {
  /** /.dockerenv exists */
  dockerenv: boolean;
  /** /run/.containerenv exists (podman, buildah) */
  containerenv: boolean;
  /** the cgroup file's text, null when unreadable */
  cgroup: string | null;
  environ: { KUBERNETES_SERVICE_HOST?: string; container?: string };
}

export interface ContainerInfo {
  inside: boolean;
  runtime: ContainerRuntime | null;
}

/** The runtime a cgroup file points to. cgroup v2's lone "0::/" says nothing. */
function runtimeFromCgroup(cgroup: string): ContainerRuntime | null {
  const paths = cgroup
    .split(/\r\n|\r|\n/)
    .map((line) => /^\d+:[^:]*:(.*)$/.exec(line.trim())?.[1]?.trim() ?? '')
    .filter((p) => p !== '' && p !== '/');
  const any = (re: RegExp): boolean => paths.some((p) => re.test(p));
  if (any(/\/kubepods\b|kubepods[.-]/)) return 'kubernetes';
  if (any(/\/libpod[-_/]|libpod-[0-9a-f]+\.scope/)) return 'podman';
  if (any(/\/docker\/|\/docker-[0-9a-f]+\.scope|^\/docker$/)) return 'docker';
  if (any(/\/containerd\/|cri-containerd|containerd-[0-9a-f]+\.scope/)) return 'containerd';
  if (any(/\/lxc\/|\/lxc\.payload|^\/lxc$/)) return 'lxc';
  return null;
}

function runtimeFromEnv(container: string | undefined): ContainerRuntime | null {
  const v = (container ?? '').trim().toLowerCase();
  if (v === 'podman') return 'podman';
  if (v === 'docker') return 'docker';
  if (v === 'lxc' || v === 'lxc-libvirt') return 'lxc';
  return null;
}

/**
 * Kubernetes wins (its pods run under docker or containerd too), then podman, docker,
 * containerd and lxc. A `container=` variable naming something else (oci, systemd-nspawn)
 * still means inside, runtime unknown.
 */
export function detectContainer(evidence: ContainerEvidence): ContainerInfo {
  const fromCgroup = evidence.cgroup === null ? null : runtimeFromCgroup(evidence.cgroup);
  const fromEnv = runtimeFromEnv(evidence.environ.container);
  const k8s = (evidence.environ.KUBERNETES_SERVICE_HOST ?? '').trim() !== '';

  let runtime: ContainerRuntime | null = null;
  if (k8s || fromCgroup === 'kubernetes') runtime = 'kubernetes';
  else if (evidence.containerenv || fromCgroup === 'podman' || fromEnv === 'podman') runtime = 'podman';
  else if (evidence.dockerenv || fromCgroup === 'docker' || fromEnv === 'docker') runtime = 'docker';
  else if (fromCgroup === 'containerd') runtime = 'containerd';
  else if (fromCgroup === 'lxc' || fromEnv === 'lxc') runtime = 'lxc';

  const inside = runtime !== null || (evidence.environ.container ?? '').trim() !== '';
  return { inside, runtime };
}
