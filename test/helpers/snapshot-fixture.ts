// A complete, schema-valid Snapshot for tests: one GPU, TensorFlow with Keras, a git checkout,
// one data directory and a run with a baseline. Override any top-level section.
import { manifestDigest } from '../../src/core/manifest.js';
import { SCHEMA_VERSION, type FileEntry, type Snapshot } from '../../src/core/model.js';

const DATA_FILES: FileEntry[] = [
  { path: 'train.csv', size: 1024, sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' },
  { path: 'val.csv', size: 256, sha256: '60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752' },
];

/** The data manifest's digest: the sha256 of its sidecar file, which holds these lines. */
export const DATA_DIGEST = manifestDigest(DATA_FILES.map((f) => ({ pathBytes: Buffer.from(f.path), sha256: f.sha256 })));

/** Where pip put the packages: a venv's site-packages, from dist-info records. */
const SITE = { metadata: 'dist-info' as const, location: '/opt/venv/lib/python3.11/site-packages' };

export function makeSnapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  const snapshot: Snapshot = {
    schema: SCHEMA_VERSION,
    id: '3f2b8c1e-7d4a-4e9b-8c2f-1a6d5e0b9c47',
    created_at: '2025-06-01T12:34:56.789Z',
    tool: { name: 'snapshot', version: '0.1.0' },
    python: {
      version: '3.11.9',
      implementation: 'CPython',
      executable: '/opt/venv/bin/python',
      prefix: '/opt/venv',
      base_prefix: '/usr',
      environment: 'venv',
      conda_env_name: null,
      platform: 'linux-x86_64',
    },
    packages: [
      { name: 'tensorflow', version: '2.15.0', installer: 'pip', requested: true, source: { kind: 'index' }, ...SITE, requires_tooling: ['setuptools'] },
      { name: 'numpy', version: '1.26.4', installer: 'pip', requested: false, source: { kind: 'index' }, ...SITE, requires_tooling: [] },
      {
        name: 'mylib',
        version: '0.1.0',
        installer: 'pip',
        requested: true,
        source: { kind: 'vcs', url: 'https://github.com/org/mylib', vcs: 'git', commit_id: '0123456789abcdef0123456789abcdef01234567', requested_revision: 'main' },
        ...SITE,
        requires_tooling: [],
      },
    ],
    frameworks: {
      tensorflow: {
        version: '2.15.0',
        distribution: 'tensorflow',
        build_info: {
          cuda_version: '12.2',
          cudnn_version: '8',
          cuda_compute_capabilities: ['sm_50', 'sm_60', 'sm_70', 'sm_75', 'compute_80'],
          is_cuda_build: true,
          is_rocm_build: false,
          is_tensorrt_build: true,
        },
      },
      keras: { version: '2.15.0', backend: 'tensorflow', backend_source: 'default', keras_home: '/root/.keras', tf_keras_version: null, use_legacy_keras: false, config: null },
      torch: null,
      jax: null,
      numpy: { version: '1.26.4' },
      nvidia_wheels: [{ name: 'nvidia-cudnn-cu12', version: '8.9.4.25' }],
    },
    gpu: {
      available: true,
      driver_version: '550.54.15',
      driver_cuda_version: '12.4',
      devices: [{ index: 0, name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-6e2b1c4a-0d3f-4b8e-9a71-2c5d8e0f1a36', compute_capability: '9.0', memory_total_mib: 81559 }],
      kernel_module: { version: '550.54.15', flavor: 'proprietary', raw: 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024' },
      cuda_toolkit: { version: '12.4.131', release: '12.4', source: 'nvcc --version' },
      cudnn: [{ version: '8.9.4.25', source: 'nvidia-cudnn-cu12', kind: 'wheel' }],
    },
    system: {
      os: { id: 'ubuntu', version_id: '22.04', pretty_name: 'Ubuntu 22.04.4 LTS', codename: 'jammy' },
      kernel: '6.8.0-45-generic',
      arch: 'x86_64',
      glibc: '2.35',
      cpu: { model: 'Intel(R) Xeon(R) Platinum 8480+', logical_cores: 224, flags: ['avx', 'avx2', 'avx512f', 'fma'] },
      memory_total_bytes: 2164663517184,
      container: { inside: true, runtime: 'docker' },
    },
    determinism: {
      env: { CUDA_VISIBLE_DEVICES: '0', PYTHONHASHSEED: '0' },
      findings: [
        { level: 'warning', code: 'ONEDNN_ON', message: 'oneDNN CPU kernels are on: round-off differs between CPU models.', fix: 'export TF_ENABLE_ONEDNN_OPTS=0' },
        { level: 'warning', code: 'TF32_ON', message: 'TF32 is on by default on this Ampere-or-newer GPU.', fix: 'export NVIDIA_TF32_OVERRIDE=0' },
        { level: 'info', code: 'KERAS_NON_TF_BACKEND', message: 'Keras runs on another backend.', fix: null },
      ],
    },
    code: {
      path: '/work/project',
      repo_root: '/work/project',
      in_repo: '',
      git: {
        commit: '89abcdef0123456789abcdef0123456789abcdef',
        branch: 'main',
        remote_url: 'https://github.com/org/project.git',
        dirty: true,
        patch_file: 'snapshot.patch',
        patch_sha256: 'c0535e4be2b79ffd93291305436bf889314e4a3faec05ecffcbb7df31ad9e51a',
        patch_size: 6,
        patch_error: null,
        staged: [],
        untracked: ['notes.md'],
        submodules: [],
      },
    },
    data: [{ path: 'data', absolute: '/work/project/data', in_repo: 'data', kind: 'directory', file_count: DATA_FILES.length, total_bytes: 1280, digest: DATA_DIGEST, manifest_file: 'snapshot.bundle/data/0.sha256' }],
    run: {
      command: 'python train.py --epochs 3',
      cwd: '/work/project',
      cwd_in_repo: '',
      exit_code: 0,
      signal: null,
      duration_ms: 12345,
      started_at: '2025-06-01T12:30:00.000Z',
      status: 'succeeded',
      stdout_log: 'run/stdout.log',
      stderr_log: 'run/stderr.log',
      stdout_bytes: 2048,
      stderr_bytes: 512,
      logs_truncated: false,
      outputs_dir: 'outputs',
      outputs_path: '/work/project/outputs',
      outputs_in_repo: 'outputs',
      baseline: {
        dir: 'baseline',
        files: [
          { path: 'metrics.json', size: 64, sha256: '2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae', kind: 'metrics' },
          { path: 'preds.npy', size: 4096, sha256: 'fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9', kind: 'npy' },
        ],
      },
      record: null,
      repeat: null,
      reload: null,
    },
    probes: {
      python: { status: 'ok', duration_ms: 812 },
      'nvidia-smi': { status: 'ok', duration_ms: 95 },
      nvcc: { status: 'ok', duration_ms: 40 },
      ldconfig: { status: 'ok', duration_ms: 12 },
      glibc: { status: 'absent', duration_ms: 1, reason: 'ldd not found on PATH' },
    },
  };
  return { ...snapshot, ...overrides };
}
