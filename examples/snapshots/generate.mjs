// Regenerates the example snapshots from one real capture (.captured-tf221-cpu.yaml: the
// tensorflow-cpu 2.21.0 / keras 3.15.1 venv of the tests, captured on a CPU machine with
// PYTHONHASHSEED=0 and TF_ENABLE_ONEDNN_OPTS=0). The GPU, torch, jax and older-TF variants change
// only what differs on such machines, with versions from the reference tables; they are
// illustrations for the Dockerfile goldens, not captures. Run: node examples/snapshots/generate.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const real = YAML.parse(readFileSync(join(here, '.captured-tf221-cpu.yaml'), 'utf8'));

const clone = (v) => JSON.parse(JSON.stringify(v));
// Installed by pip into the venv's site-packages, as every package of the real capture is.
const SITE = real.packages[0].location.replace('/work/main/.cache/envs/tf221', '/home/alice/project/.venv');
const pkg = (name, version, extra = {}) => ({ name, version, installer: 'pip', requested: false, source: { kind: 'index' }, metadata: 'dist-info', location: SITE, requires_tooling: [], ...extra });
const norm = (n) => n.toLowerCase().replace(/[-_.]+/g, '-');
const withPackages = (s, remove, add) => {
  const gone = new Set(remove.map(norm));
  s.packages = [...s.packages.filter((p) => !gone.has(norm(p.name))), ...add].sort((a, b) => (norm(a.name) < norm(b.name) ? -1 : 1));
};
const gpu = (name, cc, mib, driver, cudaMax, count = 1) => ({
  available: true,
  driver_version: driver,
  driver_cuda_version: cudaMax,
  devices: Array.from({ length: count }, (_, i) => ({ index: i, name, uuid: `GPU-0000000${i}-1111-2222-3333-44444444444${i}`, compute_capability: cc, memory_total_mib: mib })),
  kernel_module: { version: driver, flavor: 'proprietary', raw: `NVRM version: NVIDIA UNIX x86_64 Kernel Module  ${driver}  Thu Jan  1 00:00:00 UTC 2026` },
  cuda_toolkit: null,
  cudnn: [],
});
const cu12 = (cudnn) => [
  pkg('nvidia-cublas-cu12', '12.5.3.2'),
  pkg('nvidia-cuda-cupti-cu12', '12.5.82'),
  pkg('nvidia-cuda-nvcc-cu12', '12.5.82'),
  pkg('nvidia-cuda-nvrtc-cu12', '12.5.82'),
  pkg('nvidia-cuda-runtime-cu12', '12.5.82'),
  pkg('nvidia-cudnn-cu12', cudnn),
  pkg('nvidia-cufft-cu12', '11.2.3.61'),
  pkg('nvidia-curand-cu12', '10.3.6.82'),
  pkg('nvidia-cusolver-cu12', '11.6.3.83'),
  pkg('nvidia-cusparse-cu12', '12.5.1.3'),
  pkg('nvidia-nccl-cu12', '2.25.1'),
  pkg('nvidia-nvjitlink-cu12', '12.5.82'),
];
const wheelsOf = (s) => s.packages.filter((p) => norm(p.name).startsWith('nvidia-')).map((p) => ({ name: p.name, version: p.version }));

function base(id, created) {
  const s = clone(real);
  s.id = id;
  s.created_at = created;
  s.python.executable = '/home/alice/project/.venv/bin/python';
  s.python.prefix = '/home/alice/project/.venv';
  for (const p of s.packages) p.location = SITE;
  s.frameworks.keras.keras_home = '/home/alice/.keras';
  s.code = {
    path: '/home/alice/project',
    git: { commit: '4f3c2b1a09876543210fedcba98765432100abcd', branch: 'main', remote_url: 'https://github.com/example/keras-tiny.git', dirty: false, patch_file: null, patch_sha256: null, patch_size: null, patch_error: null, staged: [], untracked: [], submodules: [] },
  };
  s.data = [];
  s.run = null;
  return s;
}

const out = {};

out['tf221-cpu'] = base('00000000-0000-4000-8000-000000000001', '2026-11-26T00:00:00.000Z');

{
  const s = base('00000000-0000-4000-8000-000000000002', '2026-11-26T00:00:00.000Z');
  withPackages(s, ['tensorflow-cpu'], [pkg('tensorflow', '2.21.0', { requested: true }), ...cu12('9.3.0.75')]);
  s.frameworks.tensorflow = { version: '2.21.0', distribution: 'tensorflow', build_info: { cuda_version: '12.5.1', cudnn_version: '9', cuda_compute_capabilities: ['sm_60', 'sm_70', 'sm_80', 'sm_89', 'compute_90'], is_cuda_build: true, is_rocm_build: false, is_tensorrt_build: false } };
  s.frameworks.nvidia_wheels = wheelsOf(s);
  s.gpu = gpu('NVIDIA H100 80GB HBM3', '9.0', 81559, '575.57.08', '12.9');
  s.gpu.cudnn = [{ version: '9.3.0.75', source: 'nvidia-cudnn-cu12', kind: 'wheel' }];
  s.determinism.env = { NVIDIA_TF32_OVERRIDE: '0', PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: '0' };
  out['tf221-gpu'] = s;
}

{
  const s = base('00000000-0000-4000-8000-000000000003', '2026-11-26T00:00:00.000Z');
  withPackages(s, ['tensorflow-cpu', 'keras', 'optree', 'namex', 'rich', 'markdown-it-py', 'mdurl', 'pygments'], [pkg('tensorflow', '2.15.1', { requested: true }), pkg('keras', '2.15.0'), pkg('tensorboard', '2.15.2'), ...cu12('8.9.4.25')]);
  s.frameworks.tensorflow = { version: '2.15.1', distribution: 'tensorflow', build_info: { cuda_version: '12.2', cudnn_version: '8', cuda_compute_capabilities: ['sm_50', 'sm_60', 'sm_70', 'sm_75', 'compute_80'], is_cuda_build: true, is_rocm_build: false, is_tensorrt_build: true } };
  s.frameworks.keras = { ...s.frameworks.keras, version: '2.15.0', backend: 'tensorflow', backend_source: 'default', config: null };
  s.frameworks.nvidia_wheels = wheelsOf(s);
  s.gpu = gpu('NVIDIA A100-SXM4-40GB', '8.0', 40960, '535.104.05', '12.2', 2);
  s.determinism.env = { PYTHONHASHSEED: '0', TF_ENABLE_ONEDNN_OPTS: '0' };
  out['tf215-gpu-keras215'] = s;
}

{
  const s = base('00000000-0000-4000-8000-000000000004', '2026-11-26T00:00:00.000Z');
  s.python = { ...s.python, version: '3.8.10', base_prefix: '/usr', environment: 'venv' };
  s.packages = [pkg('numpy', '1.19.5'), pkg('tensorflow', '2.4.0', { requested: true }), pkg('h5py', '2.10.0'), pkg('six', '1.15.0'), pkg('absl-py', '0.15.0'), pkg('pip', '20.0.2'), pkg('setuptools', '44.0.0')].sort((a, b) => (norm(a.name) < norm(b.name) ? -1 : 1));
  s.frameworks = { tensorflow: { version: '2.4.0', distribution: 'tensorflow', build_info: { cuda_version: '11.0', cudnn_version: '8', cuda_compute_capabilities: ['sm_35', 'sm_50', 'sm_60', 'sm_70', 'sm_75', 'compute_80'], is_cuda_build: true, is_rocm_build: false, is_tensorrt_build: true } }, keras: null, torch: null, jax: null, numpy: { version: '1.19.5' }, nvidia_wheels: [] };
  s.gpu = gpu('Tesla V100-SXM2-16GB', '7.0', 16160, '450.80.02', '11.0');
  s.gpu.cuda_toolkit = { version: '11.0.221', release: '11.0', source: 'nvcc --version' };
  s.gpu.cudnn = [{ version: '8.0.4', source: '/usr/include/cudnn_version.h', kind: 'header' }];
  s.system.os = { id: 'ubuntu', version_id: '20.04', pretty_name: 'Ubuntu 20.04.6 LTS', codename: 'focal' };
  s.system.glibc = '2.31';
  s.determinism.env = { PYTHONHASHSEED: '0', TF_DETERMINISTIC_OPS: '1' };
  out['tf24-gpu'] = s;
}

{
  const s = base('00000000-0000-4000-8000-000000000005', '2026-11-26T00:00:00.000Z');
  s.packages = [pkg('numpy', '1.26.4'), pkg('torch', '2.4.0+cu121', { requested: true }), pkg('filelock', '3.15.4'), pkg('jinja2', '3.1.4'), pkg('sympy', '1.13.1'), pkg('typing-extensions', '4.12.2'), pkg('triton', '3.0.0'), pkg('pip', '24.0'), ...cu12('9.1.0.70').map((p) => (p.name === 'nvidia-cublas-cu12' ? { ...p, version: '12.1.3.1' } : p))].sort((a, b) => (norm(a.name) < norm(b.name) ? -1 : 1));
  s.frameworks = { tensorflow: null, keras: null, torch: { version: '2.4.0+cu121', cuda: '12.1', git_version: 'e4ee3be4063b7c430974252fdf7db42273388d86', debug: false }, jax: null, numpy: { version: '1.26.4' }, nvidia_wheels: wheelsOf(s) };
  s.gpu = gpu('NVIDIA A100-SXM4-80GB', '8.0', 81920, '550.54.15', '12.4');
  s.determinism.env = { CUBLAS_WORKSPACE_CONFIG: ':4096:8', PYTHONHASHSEED: '0' };
  out['torch-cu121'] = s;
}

{
  const s = base('00000000-0000-4000-8000-000000000006', '2026-11-26T00:00:00.000Z');
  withPackages(s, ['tensorflow-cpu', 'tensorboard'], [pkg('jax', '0.4.30', { requested: true }), pkg('jaxlib', '0.4.30'), pkg('jax-cuda12-plugin', '0.4.30'), pkg('jax-cuda12-pjrt', '0.4.30'), ...cu12('9.3.0.75')]);
  // The backend comes from keras.json, as `keras.config.set_backend` or an edited file leaves it.
  s.frameworks = { ...s.frameworks, tensorflow: null, keras: { ...s.frameworks.keras, backend: 'jax', backend_source: 'keras.json', config: { ...s.frameworks.keras.config, backend: 'jax' } }, jax: { version: '0.4.30', jaxlib: '0.4.30', cuda_plugins: [{ name: 'jax-cuda12-plugin', version: '0.4.30' }, { name: 'jax-cuda12-pjrt', version: '0.4.30' }] } };
  s.frameworks.nvidia_wheels = wheelsOf(s);
  s.gpu = gpu('NVIDIA L4', '8.9', 23034, '570.124.06', '12.8');
  s.determinism.env = { PYTHONHASHSEED: '0', XLA_FLAGS: '--xla_gpu_deterministic_ops=true --xla_dump_hlo_pass_re=.*' };
  out['jax-cuda12'] = s;
}

{
  const s = base('00000000-0000-4000-8000-000000000007', '2026-11-26T00:00:00.000Z');
  withPackages(s, [], [
    pkg('mylib', '0.3.0', { requested: true, source: { kind: 'editable', url: 'file:///home/alice/mylib' } }),
    pkg('team-utils', '1.2.0', { requested: true, source: { kind: 'vcs', url: 'https://github.com/example/team-utils.git', vcs: 'git', commit_id: '0123456789abcdef0123456789abcdef01234567', requested_revision: 'main' } }),
    pkg('scratch-tools', '0.0.1', { requested: true, source: { kind: 'vcs', url: 'https://github.com/example/scratch-tools.git', vcs: 'git', commit_id: null, requested_revision: null } }),
    pkg('vendored', '2.0.0', { requested: true, source: { kind: 'local', url: 'file:///home/alice/wheels/vendored-2.0.0-py3-none-any.whl' } }),
    pkg('tarball-pkg', '1.0.0', { requested: true, source: { kind: 'archive', url: 'https://files.example.com/tarball-pkg-1.0.0.tar.gz', hash: 'sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' } }),
  ]);
  out['editable-vcs'] = s;
}

for (const [name, snapshot] of Object.entries(out)) {
  writeFileSync(join(here, `${name}.yaml`), `# Example snapshot (see generate.mjs): ${name}\n${YAML.stringify(snapshot, { lineWidth: 0, aliasDuplicateObjects: false })}`);
}
console.log(`wrote ${Object.keys(out).length} example snapshots`);
