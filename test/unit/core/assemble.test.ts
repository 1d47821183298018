import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { assembleFrameworks, assembleGpu, assemblePackages, assemblePython, assembleSystem, collectCudnn, systemProbeRecords, type WheelCudnn } from '../../../src/core/assemble.js';
import type { ProbeRecord } from '../../../src/core/model.js';
import type { PythonProbeOutput, RawSystem, RawText } from '../../../src/core/raw-probes.js';

const probes = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/probes');
const fixture = (relative: string): string => readFileSync(resolve(probes, relative), 'utf8');

const ok = (text: string, duration_ms = 5): RawText => ({ probe: { status: 'ok', duration_ms }, text });
const absent = (reason: string): RawText => ({ probe: { status: 'absent', duration_ms: 0, reason }, text: null });

const CUDNN_V9 = fixture('cudnn/cudnn_version-v9.h');
const LDCONFIG = [
  '\tlibcudnn_ops.so.9 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcudnn_ops.so.9',
  '\tlibcudnn.so.9 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcudnn.so.9',
  '\tlibcudnn.so.9 (libc6,x86-64) => /lib/x86_64-linux-gnu/libcudnn.so.9',
  '\tlibcudnn.so (libc6,x86-64) => /lib/x86_64-linux-gnu/libcudnn.so',
  '',
].join('\n');
const SITE = '/opt/venv/lib/python3.11/site-packages/nvidia/cudnn';

function gpuMachine(overrides: Partial<RawSystem> = {}): RawSystem {
  return {
    nvidiaSmiQuery: ok(fixture('nvidia-smi/query-h100x8.csv'), 120),
    nvidiaSmiHeader: ok(fixture('nvidia-smi/header-550-h100x8.txt'), 110),
    procDriverVersion: ok(fixture('proc-driver/proprietary-550.txt')),
    nvcc: ok(fixture('nvcc/12.4.txt'), 40),
    cudaVersionFile: { path: '/usr/local/cuda/version.json', text: fixture('cuda-version/version-12.2.json') },
    cudnnHeaders: [{ path: '/usr/include/cudnn_version.h', text: CUDNN_V9 }],
    cudnnLibraries: ok(LDCONFIG),
    osRelease: ok(fixture('os-release/ubuntu2204.txt')),
    cpuinfo: ok(fixture('cpuinfo/x86-avx512.txt')),
    meminfo: ok(fixture('meminfo/this-machine.txt')),
    glibc: ok(fixture('glibc/ldd-debian12.txt')),
    cgroup: fixture('container/cgroup-v1-docker.txt'),
    dockerenv: true,
    containerenv: false,
    containerEnviron: {},
    kernel: '6.8.0-45-generic',
    arch: 'x86_64',
    logicalCores: 64,
    totalMemoryBytes: 1024,
    ...overrides,
  };
}

function noGpuMachine(overrides: Partial<RawSystem> = {}): RawSystem {
  return gpuMachine({
    nvidiaSmiQuery: absent('nvidia-smi not found on PATH'),
    nvidiaSmiHeader: absent('nvidia-smi not found on PATH'),
    procDriverVersion: absent('/proc/driver/nvidia/version does not exist'),
    nvcc: absent('nvcc not found on PATH'),
    cudaVersionFile: null,
    cudnnHeaders: [],
    cudnnLibraries: ok(''),
    ...overrides,
  });
}

const NO_WHEELS: WheelCudnn = { headers: [], libraries: [], wheels: [] };

const WHEELS: WheelCudnn = {
  headers: [
    { path: `${SITE}/include/cudnn_version.h`, text: CUDNN_V9 },
    // The same header as the system copy, found again: recorded once.
    { path: '/usr/include/cudnn_version.h', text: CUDNN_V9 },
  ],
  libraries: [`${SITE}/lib/libcudnn.so.9`, `${SITE}/lib/libcudnn.so.9`, '/lib/x86_64-linux-gnu/libcudnn.so.9'],
  wheels: [
    { name: 'nvidia-cudnn-cu12', version: '9.1.0.70' },
    { name: 'nvidia_cudnn_cu13', version: '9.24.0.43' },
    { name: 'nvidia-cudnn-cu12', version: '9.1.0.70' },
    { name: 'nvidia-cublas-cu12', version: '12.4.5.8' },
    { name: 'nvidia-cudnn-frontend', version: '1.5.0' },
  ],
};

describe('assembleGpu', () => {
  it('reads devices, driver, CUDA, kernel module and toolkit from a GPU machine', () => {
    const gpu = assembleGpu(gpuMachine(), NO_WHEELS);
    expect(gpu.available).toBe(true);
    expect(gpu.devices).toHaveLength(8);
    expect(gpu.devices[0]).toEqual({
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      uuid: 'GPU-6e2b1c4a-0d3f-4b8e-9a71-2c5d8e0f1a36',
      compute_capability: '9.0',
      memory_total_mib: 81559,
    });
    expect(gpu.devices.map((d) => d.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gpu.devices.every((d) => d.compute_capability === '9.0')).toBe(true);
    expect(gpu.driver_version).toBe('550.54.15');
    expect(gpu.driver_cuda_version).toBe('12.4');
    expect(gpu.kernel_module).toEqual({
      version: '550.54.14',
      flavor: 'proprietary',
      raw: 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024',
    });
    expect(gpu.cuda_toolkit).toEqual({ version: '12.4.131', release: '12.4', source: 'nvcc --version' });
  });

  it('recognises the open kernel module', () => {
    const gpu = assembleGpu(gpuMachine({ procDriverVersion: ok(fixture('proc-driver/open-575.txt')) }), NO_WHEELS);
    expect(gpu.kernel_module).toEqual(expect.objectContaining({ version: '575.57.08', flavor: 'open' }));
  });

  it('falls back to version.json when nvcc is not there', () => {
    const gpu = assembleGpu(gpuMachine({ nvcc: absent('nvcc not found') }), NO_WHEELS);
    expect(gpu.cuda_toolkit).toEqual({ version: '12.2.2', release: '12.2', source: '/usr/local/cuda/version.json' });
  });

  it('falls back to version.txt on old toolkits', () => {
    const gpu = assembleGpu(gpuMachine({ nvcc: absent('nvcc not found'), cudaVersionFile: { path: '/usr/local/cuda/version.txt', text: fixture('cuda-version/version-10.0.txt') } }), NO_WHEELS);
    expect(gpu.cuda_toolkit).toEqual(expect.objectContaining({ release: '10.0', source: '/usr/local/cuda/version.txt' }));
    expect(gpu.cuda_toolkit?.version).toMatch(/^10\.0\./);
  });

  it('takes the driver version from the header, then the kernel module, when the query has none', () => {
    const noQuery = { probe: { status: 'error', duration_ms: 3, reason: 'exit 9' } as ProbeRecord, text: 'garbage' };
    expect(assembleGpu(gpuMachine({ nvidiaSmiQuery: noQuery }), NO_WHEELS).driver_version).toBe('550.54.15');
    const neither = assembleGpu(gpuMachine({ nvidiaSmiQuery: noQuery, nvidiaSmiHeader: absent('x') }), NO_WHEELS);
    expect(neither.driver_version).toBe('550.54.14');
    expect(neither.available).toBe(false);
    expect(neither.devices).toEqual([]);
    expect(neither.driver_cuda_version).toBeNull();
  });

  it('lists every cuDNN copy once: header, libraries and wheels', () => {
    const gpu = assembleGpu(gpuMachine(), WHEELS);
    expect(gpu.cudnn).toEqual([
      { version: '9.24.0', source: '/usr/include/cudnn_version.h', kind: 'header' },
      { version: '9.24.0', source: `${SITE}/include/cudnn_version.h`, kind: 'header' },
      { version: '9', source: '/lib/x86_64-linux-gnu/libcudnn_ops.so.9', kind: 'library' },
      { version: '9', source: '/lib/x86_64-linux-gnu/libcudnn.so.9', kind: 'library' },
      { version: '9', source: `${SITE}/lib/libcudnn.so.9`, kind: 'library' },
      { version: '9.1.0.70', source: 'nvidia-cudnn-cu12', kind: 'wheel' },
      { version: '9.24.0.43', source: 'nvidia_cudnn_cu13', kind: 'wheel' },
    ]);
    const keys = gpu.cudnn.map((c) => `${c.kind}:${c.source}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('describes a machine without a GPU', () => {
    const gpu = assembleGpu(noGpuMachine(), NO_WHEELS);
    expect(gpu).toEqual({
      available: false,
      driver_version: null,
      driver_cuda_version: null,
      devices: [],
      kernel_module: null,
      cuda_toolkit: null,
      cudnn: [],
    });
  });

  it('still finds cuDNN wheels on a machine without a GPU', () => {
    const gpu = assembleGpu(noGpuMachine(), { headers: [], libraries: [], wheels: [{ name: 'nvidia-cudnn-cu12', version: '9.1.0.70' }] });
    expect(gpu.cudnn).toEqual([{ version: '9.1.0.70', source: 'nvidia-cudnn-cu12', kind: 'wheel' }]);
  });
});

describe('collectCudnn', () => {
  it('does not take nvidia-cudnn-frontend (a separate 1.x package) for cuDNN itself', () => {
    const wheels = [
      { name: 'nvidia-cudnn-frontend', version: '1.5.0' },
      { name: 'nvidia-cudnn-cu11', version: '8.9.6.50' },
      { name: 'nvidia-cudnn', version: '8.0.5' },
    ];
    expect(collectCudnn(noGpuMachine(), { headers: [], libraries: [], wheels }).map((c) => c.source)).toEqual(['nvidia-cudnn-cu11', 'nvidia-cudnn']);
  });

  it('skips headers without version macros and libraries without a version', () => {
    const raw = noGpuMachine({ cudnnHeaders: [{ path: '/usr/include/cudnn.h', text: '#include "cudnn_version.h"\n' }], cudnnLibraries: ok('\tlibcudnn.so (libc6,x86-64) => /usr/lib/libcudnn.so\n') });
    expect(collectCudnn(raw, NO_WHEELS)).toEqual([]);
  });
});

describe('assembleSystem', () => {
  it('reads the OS, glibc, CPU, memory and container', () => {
    const system = assembleSystem(gpuMachine());
    expect(system).toEqual({
      os: { id: 'ubuntu', version_id: '22.04', pretty_name: 'Ubuntu 22.04.4 LTS', codename: 'jammy' },
      kernel: '6.8.0-45-generic',
      arch: 'x86_64',
      glibc: '2.36',
      cpu: {
        model: 'Intel(R) Xeon(R) Processor',
        logical_cores: 2,
        flags: [
          'amx_bf16',
          'amx_int8',
          'amx_tile',
          'avx',
          'avx2',
          'avx512_bf16',
          'avx512_fp16',
          'avx512_vnni',
          'avx512bw',
          'avx512dq',
          'avx512f',
          'avx512vl',
          'avx_vnni',
          'f16c',
          'fma',
          'sse4_1',
          'sse4_2',
        ],
      },
      memory_total_bytes: 24684084 * 1024,
      container: { inside: true, runtime: 'docker' },
    });
  });

  it('falls back to what Node knows when the files are missing', () => {
    const system = assembleSystem(
      gpuMachine({
        osRelease: absent('no os-release'),
        cpuinfo: absent('no cpuinfo'),
        meminfo: absent('no meminfo'),
        glibc: absent('no ldd'),
        cgroup: null,
        dockerenv: false,
      }),
    );
    expect(system.os).toEqual({ id: null, version_id: null, pretty_name: null, codename: null });
    expect(system.cpu).toEqual({ model: null, logical_cores: 64, flags: [] });
    expect(system.memory_total_bytes).toBe(1024);
    expect(system.glibc).toBeNull();
    expect(system.container).toEqual({ inside: false, runtime: null });
  });

  it('reads glibc from getconf and musl as none', () => {
    expect(assembleSystem(gpuMachine({ glibc: ok(fixture('glibc/getconf-debian12.txt')) })).glibc).toBe('2.36');
    expect(assembleSystem(gpuMachine({ glibc: ok(fixture('glibc/ldd-musl-alpine.txt')) })).glibc).toBeNull();
  });

  it('keeps the logical core count from Node when cpuinfo lists no processors', () => {
    expect(assembleSystem(gpuMachine({ cpuinfo: ok('model name : Something\n') })).cpu.logical_cores).toBe(64);
  });
});

function probeOutput(frameworks: Partial<PythonProbeOutput['frameworks']> = {}): PythonProbeOutput {
  return {
    probe_version: 1,
    python: {
      version: '3.11.9',
      implementation: 'CPython',
      executable: '/opt/venv/bin/python',
      prefix: '/opt/venv',
      base_prefix: '/usr',
      environment: 'venv',
      platform: 'linux-x86_64',
    },
    packages: [
      { name: 'tensorflow', version: '2.15.0', installer: 'pip', requested: true, source: { kind: 'index' }, location: '/opt/venv/lib/python3.11/site-packages' },
      { name: 'mylib', version: '0.1.0', installer: 'pip', requested: true, source: { kind: 'vcs', url: 'https://github.com/org/mylib', vcs: 'git', commit_id: 'a'.repeat(40) } },
      { name: 'local-pkg', version: '1.0', installer: null, requested: false, source: { kind: 'editable', url: 'file:///src/local-pkg' } },
      { name: 'odd', version: '1.0', installer: 'uv', requested: false, source: { kind: 'something-new', url: 3 } },
    ],
    frameworks: {
      tensorflow: { version: '2.15.0', distribution: 'tensorflow', build_info_source: fixture('tf-build-info/2.15.0-gpu.py'), build_info_path: '/x/build_info.py' },
      keras: { version: '2.15.0', backend: 'tensorflow', backend_source: 'default', keras_home: '/root/.keras', tf_keras_version: null, use_legacy_keras: false, config: null },
      torch: { version: '2.4.0+cu121', version_file_source: fixture('torch-version/2.4.0-cu121.py'), version_file_path: '/x/torch/version.py' },
      jax: { version: '0.4.30', jaxlib: '0.4.30', cuda_plugins: [{ name: 'jax-cuda12-plugin', version: '0.4.30' }] },
      numpy: { version: '1.26.4' },
      nvidia_wheels: [{ name: 'nvidia-cudnn-cu12', version: '9.1.0.70' }],
      ...frameworks,
    },
    cuda_wheel_files: { cudnn_headers: [], libraries: [] },
    errors: [],
  };
}

describe('assembleFrameworks', () => {
  it('parses the TF build info of the 2.15 GPU wheel', () => {
    const f = assembleFrameworks(probeOutput());
    expect(f.tensorflow).toEqual({
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
    });
  });

  it('reads torch CUDA from its version file', () => {
    expect(assembleFrameworks(probeOutput()).torch).toEqual({
      version: '2.4.0+cu121',
      cuda: '12.1',
      git_version: 'e4ee3be4063b7c430974252fdf7db42273388d86',
      debug: false,
    });
  });

  it('copies Keras, JAX, NumPy and the NVIDIA wheels', () => {
    const f = assembleFrameworks(probeOutput());
    expect(f.keras).toEqual(probeOutput().frameworks.keras);
    expect(f.jax).toEqual({ version: '0.4.30', jaxlib: '0.4.30', cuda_plugins: [{ name: 'jax-cuda12-plugin', version: '0.4.30' }] });
    expect(f.numpy).toEqual({ version: '1.26.4' });
    expect(f.nvidia_wheels).toEqual([{ name: 'nvidia-cudnn-cu12', version: '9.1.0.70' }]);
  });

  it('keeps TensorFlow with a null version and no build info when the probe has neither', () => {
    const f = assembleFrameworks(probeOutput({ tensorflow: { version: null, distribution: null, build_info_source: null } }));
    expect(f.tensorflow).toEqual({ version: null, distribution: null, build_info: null });
  });

  it('gives null build info for a file that is not a build_info.py, and null torch CUDA without a version file', () => {
    const f = assembleFrameworks(
      probeOutput({
        tensorflow: { version: '2.21.0', distribution: 'tensorflow-cpu', build_info_source: '# nothing here\n' },
        torch: { version: '2.4.0', version_file_source: null },
      }),
    );
    expect(f.tensorflow?.build_info).toBeNull();
    expect(f.torch).toEqual({ version: '2.4.0', cuda: null, git_version: null, debug: null });
  });

  it('reads the CPU-only TF build', () => {
    const f = assembleFrameworks(probeOutput({ tensorflow: { version: '2.21.0', distribution: 'tensorflow-cpu', build_info_source: fixture('tf-build-info/2.21.0-cpu.py') } }));
    expect(f.tensorflow?.build_info).toEqual(expect.objectContaining({ is_cuda_build: false, is_rocm_build: false, cuda_version: null, cudnn_version: null }));
  });

  it('gives nulls for frameworks that are not installed', () => {
    const f = assembleFrameworks(probeOutput({ tensorflow: null, keras: null, torch: null, jax: null, numpy: null, nvidia_wheels: [] }));
    expect(f).toEqual({ tensorflow: null, keras: null, torch: null, jax: null, numpy: null, nvidia_wheels: [] });
  });
});

describe('assemblePython and assemblePackages', () => {
  it('copies the interpreter and defaults conda_env_name to null', () => {
    expect(assemblePython(probeOutput())).toEqual({ ...probeOutput().python, conda_env_name: null });
  });

  it('normalises package sources and drops fields the schema does not know', () => {
    const packages = assemblePackages(probeOutput());
    expect(packages[0]).toEqual({ name: 'tensorflow', version: '2.15.0', installer: 'pip', requested: true, source: { kind: 'index' }, metadata: null, location: '/opt/venv/lib/python3.11/site-packages', requires_tooling: [] });
    expect(packages[1]?.source).toEqual({ kind: 'vcs', url: 'https://github.com/org/mylib', vcs: 'git', commit_id: 'a'.repeat(40), requested_revision: null });
    expect(packages[2]?.source).toEqual({ kind: 'editable', url: 'file:///src/local-pkg' });
    expect(packages[3]?.source).toEqual({ kind: 'index' });
  });
});

describe('systemProbeRecords', () => {
  it('lists every system probe as it went', () => {
    const records = systemProbeRecords(gpuMachine());
    expect(Object.keys(records).sort()).toEqual(['cpuinfo', 'glibc', 'ldconfig', 'meminfo', 'nvcc', 'nvidia-driver', 'nvidia-smi', 'os-release']);
    expect(records['nvidia-smi']).toEqual({ status: 'ok', duration_ms: 120 });
    expect(records.nvcc).toEqual({ status: 'ok', duration_ms: 40 });
  });

  it("turns nvidia-smi's \"couldn't communicate with the NVIDIA driver\" error into absent, with the reason", () => {
    const records = systemProbeRecords(
      noGpuMachine({ nvidiaSmiQuery: { probe: { status: 'error', duration_ms: 30, reason: 'exit code 9' }, text: fixture('nvidia-smi/no-driver.txt') } }),
    );
    expect(records['nvidia-smi']?.status).toBe('absent');
    expect(records['nvidia-smi']?.duration_ms).toBe(30);
    expect(records['nvidia-smi']?.reason).toContain("couldn't communicate with the NVIDIA driver");
    expect(records['nvidia-smi']?.reason).not.toContain('\n');
  });

  it('turns "No devices were found" into absent too', () => {
    const records = systemProbeRecords(noGpuMachine({ nvidiaSmiQuery: { probe: { status: 'error', duration_ms: 30 }, text: fixture('nvidia-smi/no-devices.txt') } }));
    expect(records['nvidia-smi']).toEqual(expect.objectContaining({ status: 'absent', reason: expect.stringContaining('No devices were found') }));
  });

  it('keeps a driver/library mismatch as an error', () => {
    const probe: ProbeRecord = { status: 'error', duration_ms: 30, reason: 'Failed to initialize NVML: Driver/library version mismatch' };
    const records = systemProbeRecords(noGpuMachine({ nvidiaSmiQuery: { probe, text: fixture('nvidia-smi/version-mismatch.txt') } }));
    expect(records['nvidia-smi']).toEqual(probe);
  });

  it('keeps a timeout as a timeout', () => {
    const probe: ProbeRecord = { status: 'timeout', duration_ms: 10000, reason: 'no answer in 10 s' };
    const records = systemProbeRecords(noGpuMachine({ nvidiaSmiQuery: { probe, text: fixture('nvidia-smi/no-driver.txt') } }));
    expect(records['nvidia-smi']).toEqual(probe);
  });

  it('keeps an absent nvidia-smi as absent', () => {
    expect(systemProbeRecords(noGpuMachine())['nvidia-smi']).toEqual({ status: 'absent', duration_ms: 0, reason: 'nvidia-smi not found on PATH' });
  });
});
