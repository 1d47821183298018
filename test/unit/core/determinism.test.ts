import { describe, expect, it } from '@jest/globals';
import { DETERMINISM_ENV_ALLOWLIST, buildDeterminism, selectDeterminismEnv, type FindingsInput } from '../../../src/core/determinism.js';
import { evaluateFindings } from '../../../src/core/findings.js';
import type { FrameworksInfo, GpuDevice, GpuInfo, KerasInfo } from '../../../src/core/model.js';
import { compareVersions } from '../../../src/core/versions.js';
import { RULES } from '../../helpers/finding-rules.js';

/** The rules of data/findings.json on an input (they were code in determinism.ts before). */
const determinismFindings = (i: FindingsInput) => evaluateFindings(i, RULES);

function frameworks(overrides: Partial<FrameworksInfo> = {}): FrameworksInfo {
  return { tensorflow: null, keras: null, torch: null, jax: null, numpy: null, nvidia_wheels: [], ...overrides };
}

function tf(version: string | null): Pick<FrameworksInfo, 'tensorflow'> {
  return { tensorflow: { version, distribution: 'tensorflow', build_info: null } };
}

function keras(overrides: Partial<KerasInfo> = {}): Pick<FrameworksInfo, 'keras'> {
  return {
    keras: {
      version: '3.15.1',
      backend: 'tensorflow',
      backend_source: 'default',
      keras_home: '/home/u/.keras',
      tf_keras_version: null,
      use_legacy_keras: false,
      config: null,
      ...overrides,
    },
  };
}

const TORCH: Pick<FrameworksInfo, 'torch'> = { torch: { version: '2.4.0+cu121', cuda: '12.1' } };
const JAX: Pick<FrameworksInfo, 'jax'> = { jax: { version: '0.4.30', jaxlib: '0.4.30', cuda_plugins: [] } };

function device(compute_capability: string | null, index = 0): GpuDevice {
  return { index, name: 'GPU', uuid: `GPU-${index}`, compute_capability, memory_total_mib: 81559 };
}

function gpu(...capabilities: Array<string | null>): GpuInfo {
  return {
    available: capabilities.length > 0,
    driver_version: capabilities.length > 0 ? '550.54.15' : null,
    driver_cuda_version: capabilities.length > 0 ? '12.4' : null,
    devices: capabilities.map((cc, i) => device(cc, i)),
    kernel_module: null,
    cuda_toolkit: null,
    cudnn: [],
  };
}

/** An AVX2-only CPU (the AMD EPYC this was measured on): TensorFlow leaves oneDNN off by default there. */
const AVX2_ONLY: readonly string[] = ['sse4_2', 'avx', 'avx2', 'fma'];

/** Pinned threads and a fixed hash seed, so that only the finding under test fires. */
const QUIET: Record<string, string> = { PYTHONHASHSEED: '0', OMP_NUM_THREADS: '4' };

function input(overrides: Partial<FindingsInput> & { env?: Record<string, string> } = {}): FindingsInput {
  return { env: { ...QUIET }, frameworks: frameworks(), gpu: gpu(), arch: 'x86_64', cpuFlags: AVX2_ONLY, packages: [], record: null, ...overrides };
}

function codes(i: FindingsInput): string[] {
  return determinismFindings(i).map((f) => f.code);
}

describe('selectDeterminismEnv', () => {
  it('keeps only allowlisted names, sorted, and drops secrets and everything else', () => {
    const environment = {
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      GITHUB_TOKEN: 'ghp_0123456789abcdef',
      HF_TOKEN: 'hf_xyz',
      WANDB_API_KEY: 'k',
      HOME: '/home/u',
      PATH: '/usr/bin:/bin',
      USER: 'u',
      PYTHONHASHSEED: '0',
      TF_ENABLE_ONEDNN_OPTS: '0',
      CUDA_VISIBLE_DEVICES: '0,1',
      KERAS_BACKEND: 'jax',
      OMP_NUM_THREADS: '8',
      XLA_FLAGS: '--xla_gpu_deterministic_ops=true',
      UNDEFINED_ONE: undefined,
      pythonhashseed: '1',
    };
    const selected = selectDeterminismEnv(environment);
    expect(selected).toEqual({
      CUDA_VISIBLE_DEVICES: '0,1',
      KERAS_BACKEND: 'jax',
      OMP_NUM_THREADS: '8',
      PYTHONHASHSEED: '0',
      TF_ENABLE_ONEDNN_OPTS: '0',
      XLA_FLAGS: '--xla_gpu_deterministic_ops=true',
    });
    expect(Object.keys(selected)).toEqual([...Object.keys(selected)].sort());
    expect(JSON.stringify(selected)).not.toMatch(/wJalr|ghp_|hf_xyz|AKIA|\/home\/u|\/usr\/bin/);
  });

  it('keeps an empty value that is set, and returns nothing for an empty environment', () => {
    expect(selectDeterminismEnv({ TF_XLA_FLAGS: '' })).toEqual({ TF_XLA_FLAGS: '' });
    expect(selectDeterminismEnv({})).toEqual({});
  });

  it('has an allowlist of upper-case names only (the schema requires it)', () => {
    for (const name of Object.keys(DETERMINISM_ENV_ALLOWLIST)) expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
    expect(DETERMINISM_ENV_ALLOWLIST).not.toHaveProperty('HOME');
    expect(DETERMINISM_ENV_ALLOWLIST).not.toHaveProperty('PATH');
  });

  it('buildDeterminism says at capture when a value cannot be carried into a rebuild, except for host-only ones', () => {
    const result = buildDeterminism(
      { PYTHONHASHSEED: '0', OMP_NUM_THREADS: '4', XLA_FLAGS: '--xla_dump_hlo_pass_re=.*\n--evil', KERAS_HOME: '/home/José/.keras', TF_NUM_INTRAOP_THREADS: 'four' },
      { frameworks: frameworks(), gpu: gpu(), arch: 'x86_64', cpuFlags: AVX2_ONLY, packages: [] },
      RULES,
    );
    const notRebuildable = result.findings.filter((f) => f.code === 'ENV_VALUE_NOT_REBUILDABLE').map((f) => f.message);
    expect(notRebuildable).toEqual([
      'TF_NUM_INTRAOP_THREADS="four" cannot be carried into a rebuild: TF_NUM_INTRAOP_THREADS must be a thread count.',
      'XLA_FLAGS="--xla_dump_hlo_pass_re=.*\\n--evil" cannot be carried into a rebuild: XLA_FLAGS must be printable text without line breaks.',
    ]);
    // What capture accepts, dockerfile writes: a regular expression in XLA_FLAGS is fine.
    const fine = buildDeterminism({ PYTHONHASHSEED: '0', XLA_FLAGS: '--xla_dump_hlo_pass_re=.* --xla_dump_to=/tmp/x' }, { frameworks: frameworks(), gpu: gpu(), arch: 'x86_64', cpuFlags: AVX2_ONLY, packages: [] }, RULES);
    expect(fine.findings.map((f) => f.code)).not.toContain('ENV_VALUE_NOT_REBUILDABLE');
  });

  it('buildDeterminism records only the selected variables and their findings', () => {
    const result = buildDeterminism({ GITHUB_TOKEN: 't', PYTHONHASHSEED: 'random' }, { frameworks: frameworks(), gpu: gpu(), arch: 'x86_64', cpuFlags: AVX2_ONLY, packages: [] }, RULES);
    expect(result.env).toEqual({ PYTHONHASHSEED: 'random' });
    expect(result.findings.map((f) => f.code)).toEqual(['PYTHONHASHSEED_RANDOM', 'THREADS_UNPINNED']);
  });
});

describe('compareVersions (PEP 440)', () => {
  it.each([
    ['2.10.0', '2.9', 1],
    ['2.9', '2.10.0', -1],
    ['2.16.0rc0', '2.16.0', -1],
    ['2.13.0+cpu', '2.13.0', 1],
    ['2.13.0+cpu', '2.14', -1],
    ['2.8', '2.8.0', 0],
    ['9.0', '8.0', 1],
    ['10.0', '8.0', 1],
    ['7.5', '8.0', -1],
  ])('%s vs %s -> %d', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
  });
});

describe('determinismFindings', () => {
  it('is quiet with a fixed seed, pinned threads, no framework and no GPU', () => {
    expect(determinismFindings(input())).toEqual([]);
  });

  it('every finding has a level, an upper-case code and a message', () => {
    const all = determinismFindings(
      input({
        env: { PYTHONHASHSEED: 'random', TF_DETERMINISTIC_OPS: '1', TF_CUDNN_DETERMINISTIC: '1', TF_CUDNN_USE_AUTOTUNE: '0', TF_USE_LEGACY_KERAS: '1' },
        frameworks: frameworks({ ...tf('2.15.0'), ...keras({ backend: 'jax' }), ...TORCH, ...JAX }),
        gpu: gpu('9.0'),
      }),
    );
    expect(all.length).toBeGreaterThan(5);
    for (const f of all) {
      expect(['warning', 'info']).toContain(f.level);
      expect(f.code).toMatch(/^[A-Z0-9_]+$/);
      expect(f.message.length).toBeGreaterThan(10);
    }
  });

  describe('PYTHONHASHSEED', () => {
    it('warns when it is unset', () => {
      const findings = determinismFindings(input({ env: { OMP_NUM_THREADS: '1' } }));
      expect(findings).toEqual([expect.objectContaining({ level: 'warning', code: 'PYTHONHASHSEED_UNSET' })]);
    });
    it('warns when it is random', () => {
      expect(codes(input({ env: { ...QUIET, PYTHONHASHSEED: 'random' } }))).toEqual(['PYTHONHASHSEED_RANDOM']);
    });
    it('is quiet for a fixed number, including 0', () => {
      expect(codes(input({ env: { ...QUIET, PYTHONHASHSEED: '0' } }))).toEqual([]);
      expect(codes(input({ env: { ...QUIET, PYTHONHASHSEED: '42' } }))).toEqual([]);
    });
  });

  describe('ONEDNN_ON', () => {
    const VNNI = [...AVX2_ONLY, 'avx512f', 'avx512_vnni'];
    it('fires for TF 2.21 on an x86_64 (and amd64) CPU with AVX512_VNNI, AVX512_BF16 or AMX, naming the feature', () => {
      expect(codes(input({ frameworks: frameworks(tf('2.21.0')), cpuFlags: VNNI }))).toEqual(['ONEDNN_ON']);
      expect(codes(input({ frameworks: frameworks(tf('2.21.0')), arch: 'amd64', cpuFlags: VNNI }))).toEqual(['ONEDNN_ON']);
      expect(codes(input({ frameworks: frameworks(tf('2.21.0')), cpuFlags: [...AVX2_ONLY, 'amx_tile'] }))).toEqual(['ONEDNN_ON']);
      const [finding] = determinismFindings(input({ frameworks: frameworks(tf('2.21.0')), cpuFlags: VNNI }));
      expect(finding?.message).toContain('avx512_vnni');
      expect(finding?.message).toContain('a replay on a CPU without those features runs without oneDNN');
    });
    it('on an AVX2-only CPU is an info, not a warning: oneDNN is off there by default, but on for CPUs that have the features', () => {
      // Measured on an AVX2-only AMD EPYC with TF 2.21: unset and =0 trained bit-identically, =1 did not.
      const findings = determinismFindings(input({ frameworks: frameworks(tf('2.21.0')), cpuFlags: AVX2_ONLY }));
      expect(findings).toEqual([expect.objectContaining({ level: 'info', code: 'ONEDNN_DEFAULT_OFF' })]);
      expect(findings[0]?.fix).toContain('TF_ENABLE_ONEDNN_OPTS=0');
    });
    it('compares PEP 440 versions: 2.10.0 and 2.13.0+cpu are past 2.9', () => {
      expect(codes(input({ frameworks: frameworks(tf('2.10.0')), cpuFlags: VNNI }))).toContain('ONEDNN_ON');
      expect(codes(input({ frameworks: frameworks(tf('2.13.0+cpu')), cpuFlags: VNNI }))).toContain('ONEDNN_ON');
      expect(codes(input({ frameworks: frameworks(tf('2.9')), cpuFlags: VNNI }))).toContain('ONEDNN_ON');
    });
    it('is quiet with TF_ENABLE_ONEDNN_OPTS=0 or false', () => {
      expect(codes(input({ env: { ...QUIET, TF_ENABLE_ONEDNN_OPTS: '0' }, frameworks: frameworks(tf('2.21.0')) }))).toEqual([]);
      expect(codes(input({ env: { ...QUIET, TF_ENABLE_ONEDNN_OPTS: 'false' }, frameworks: frameworks(tf('2.21.0')) }))).toEqual([]);
    });
    it('fires with TF_ENABLE_ONEDNN_OPTS=1 whatever the CPU', () => {
      expect(codes(input({ env: { ...QUIET, TF_ENABLE_ONEDNN_OPTS: '1' }, frameworks: frameworks(tf('2.21.0')) }))).toEqual(['ONEDNN_ON']);
    });
    it('is quiet on aarch64, on TF 2.8, on a 2.9 release candidate, and without TF or its version', () => {
      expect(codes(input({ frameworks: frameworks(tf('2.21.0')), arch: 'aarch64' }))).toEqual([]);
      expect(codes(input({ frameworks: frameworks(tf('2.8.0')) }))).toEqual([]);
      expect(codes(input({ frameworks: frameworks(tf('2.9.0rc0')) }))).toEqual([]);
      expect(codes(input({ frameworks: frameworks(tf(null)) }))).toEqual([]);
      expect(codes(input())).toEqual([]);
    });
  });

  describe('TF32_ON', () => {
    it('fires for a compute capability 8.0 or 9.0 GPU with TF', () => {
      const env = { ...QUIET, TF_ENABLE_ONEDNN_OPTS: '0' };
      expect(codes(input({ env, frameworks: frameworks(tf('2.15.0')), gpu: gpu('8.0') }))).toEqual(['TF32_ON']);
      expect(codes(input({ env, frameworks: frameworks(tf('2.15.0')), gpu: gpu('9.0') }))).toEqual(['TF32_ON']);
      expect(codes(input({ env, frameworks: frameworks(tf('2.15.0')), gpu: gpu('12.0') }))).toEqual(['TF32_ON']);
    });
    it('fires when any one GPU is Ampere or newer', () => {
      expect(codes(input({ frameworks: frameworks(tf('2.15.0')), gpu: gpu('7.5', '8.6'), arch: 'aarch64' }))).toEqual(['TF32_ON']);
    });
    it('fires with torch alone', () => {
      expect(codes(input({ env: { ...QUIET, CUBLAS_WORKSPACE_CONFIG: ':4096:8' }, frameworks: frameworks(TORCH), gpu: gpu('8.0') }))).toEqual(['TF32_ON']);
    });
    it('is quiet on a 7.5 GPU, an unknown compute capability, or without a framework', () => {
      expect(codes(input({ frameworks: frameworks(tf('2.15.0')), gpu: gpu('7.5'), arch: 'aarch64' }))).toEqual([]);
      expect(codes(input({ frameworks: frameworks(tf('2.15.0')), gpu: gpu(null), arch: 'aarch64' }))).toEqual([]);
      expect(codes(input({ gpu: gpu('9.0') }))).toEqual([]);
    });
    it('is quiet with NVIDIA_TF32_OVERRIDE=0', () => {
      expect(codes(input({ env: { ...QUIET, NVIDIA_TF32_OVERRIDE: '0' }, frameworks: frameworks(tf('2.15.0')), gpu: gpu('9.0'), arch: 'aarch64' }))).toEqual([]);
    });
  });

  describe('TF_DETERMINISTIC_OPS', () => {
    it('LEGACY_TF_DETERMINISTIC_OPS fires on TF 2.15 and 2.10.0 when it is set', () => {
      const env = { ...QUIET, TF_DETERMINISTIC_OPS: '1' };
      expect(codes(input({ env, frameworks: frameworks(tf('2.15.0')), arch: 'aarch64' }))).toEqual(['LEGACY_TF_DETERMINISTIC_OPS']);
      expect(codes(input({ env, frameworks: frameworks(tf('2.10.0')), arch: 'aarch64' }))).toEqual(['LEGACY_TF_DETERMINISTIC_OPS']);
    });
    it('LEGACY_TF_DETERMINISTIC_OPS is quiet on TF 2.7 and when unset', () => {
      expect(codes(input({ env: { ...QUIET, TF_DETERMINISTIC_OPS: '1' }, frameworks: frameworks(tf('2.7.0')) }))).toEqual([]);
      expect(codes(input({ frameworks: frameworks(tf('2.15.0')), arch: 'aarch64' }))).toEqual([]);
    });
    it('NO_TF_DETERMINISTIC_OPS fires on TF 2.5 with a GPU when it is unset or off', () => {
      expect(codes(input({ frameworks: frameworks(tf('2.5.0')), gpu: gpu('7.5') }))).toEqual(['NO_TF_DETERMINISTIC_OPS']);
      expect(codes(input({ env: { ...QUIET, TF_DETERMINISTIC_OPS: '0' }, frameworks: frameworks(tf('2.5.0')), gpu: gpu('7.5') }))).toEqual(['NO_TF_DETERMINISTIC_OPS']);
    });
    it('NO_TF_DETERMINISTIC_OPS is quiet with it set, without a GPU, or on TF 2.8 and 2.0', () => {
      // TF_CUDNN_USE_FRONTEND=1 too: on TF 2.5-2.7 TF_DETERMINISTIC_OPS=1 alone is TF_CUDNN_FRONTEND_NEEDED.
      expect(codes(input({ env: { ...QUIET, TF_DETERMINISTIC_OPS: '1', TF_CUDNN_USE_FRONTEND: '1' }, frameworks: frameworks(tf('2.5.0')), gpu: gpu('7.5') }))).toEqual([]);
      expect(codes(input({ frameworks: frameworks(tf('2.5.0')) }))).toEqual([]);
      expect(codes(input({ frameworks: frameworks(tf('2.8.0')), gpu: gpu('7.5'), arch: 'aarch64' }))).toEqual([]);
      expect(codes(input({ frameworks: frameworks(tf('2.0.0')), gpu: gpu('7.5') }))).toEqual([]);
    });
    it('a GPU that is listed as unavailable is not a GPU', () => {
      const unavailable = { ...gpu('7.5'), available: false };
      expect(codes(input({ frameworks: frameworks(tf('2.5.0')), gpu: unavailable }))).toEqual([]);
    });
  });

  describe('LEGACY_TF_CUDNN_DETERMINISTIC', () => {
    it('fires on TF 2.15 and names enable_op_determinism', () => {
      const findings = determinismFindings(input({ env: { ...QUIET, TF_CUDNN_DETERMINISTIC: '1' }, frameworks: frameworks(tf('2.15.0')), arch: 'aarch64' }));
      expect(findings.map((f) => f.code)).toEqual(['LEGACY_TF_CUDNN_DETERMINISTIC']);
      expect(findings[0]?.message).toContain('enable_op_determinism()');
    });
    it('fires on TF 2.5 and names TF_DETERMINISTIC_OPS', () => {
      const findings = determinismFindings(input({ env: { ...QUIET, TF_CUDNN_DETERMINISTIC: '1', TF_DETERMINISTIC_OPS: '1' }, frameworks: frameworks(tf('2.5.0')) }));
      expect(findings.map((f) => f.code)).toEqual(['LEGACY_TF_CUDNN_DETERMINISTIC']);
      expect(findings[0]?.message).toContain('TF_DETERMINISTIC_OPS=1');
    });
    it('is quiet on TF 1.15, when unset, and without TF', () => {
      expect(codes(input({ env: { ...QUIET, TF_CUDNN_DETERMINISTIC: '1' }, frameworks: frameworks(tf('1.15.5')) }))).toEqual([]);
      expect(codes(input({ frameworks: frameworks(tf('2.15.0')), arch: 'aarch64' }))).toEqual([]);
      expect(codes(input({ env: { ...QUIET, TF_CUDNN_DETERMINISTIC: '1' } }))).toEqual([]);
    });
  });

  describe('AUTOTUNE_OFF', () => {
    it('fires for TF_CUDNN_USE_AUTOTUNE=0 (or false, as TensorFlow reads it) only', () => {
      expect(codes(input({ env: { ...QUIET, TF_CUDNN_USE_AUTOTUNE: '0' } }))).toEqual(['AUTOTUNE_OFF']);
      expect(codes(input({ env: { ...QUIET, TF_CUDNN_USE_AUTOTUNE: 'False' } }))).toEqual(['AUTOTUNE_OFF']);
      expect(codes(input({ env: { ...QUIET, TF_CUDNN_USE_AUTOTUNE: '1' } }))).toEqual([]);
      expect(codes(input())).toEqual([]);
    });
  });

  describe('DETERMINISM_EXCEPTIONS_SILENCED', () => {
    it('fires once per silencing variable that is truthy', () => {
      const findings = determinismFindings(
        input({ env: { ...QUIET, TF_DISABLE_SEGMENT_REDUCTION_OP_DETERMINISM_EXCEPTIONS: '1', TF_DISABLE_DEPTHWISE_CONV_DETERMINISM_EXCEPTIONS: 'true' } }),
      );
      expect(findings.map((f) => f.code)).toEqual(['DETERMINISM_EXCEPTIONS_SILENCED', 'DETERMINISM_EXCEPTIONS_SILENCED']);
      expect(findings[0]?.message).toContain('TF_DISABLE_SEGMENT_REDUCTION_OP_DETERMINISM_EXCEPTIONS');
      expect(findings[1]?.message).toContain('TF_DISABLE_DEPTHWISE_CONV_DETERMINISM_EXCEPTIONS');
    });
    it('is quiet when they are 0 or unset', () => {
      expect(codes(input({ env: { ...QUIET, TF_DISABLE_SEGMENT_REDUCTION_OP_DETERMINISM_EXCEPTIONS: '0' } }))).toEqual([]);
      expect(codes(input())).toEqual([]);
    });
  });

  describe('Keras', () => {
    it('LEGACY_KERAS_MISSING fires when TF_USE_LEGACY_KERAS=1 and tf-keras is not installed', () => {
      const f = frameworks({ ...tf('2.16.1'), ...keras({ use_legacy_keras: true }) });
      expect(codes(input({ env: { ...QUIET, TF_USE_LEGACY_KERAS: '1' }, frameworks: f, arch: 'aarch64' }))).toEqual(['LEGACY_KERAS_MISSING']);
      expect(codes(input({ env: { ...QUIET, TF_USE_LEGACY_KERAS: 'true' }, frameworks: f, arch: 'aarch64' }))).toEqual(['LEGACY_KERAS_MISSING']);
    });
    it('LEGACY_KERAS_MISSING without TensorFlow is an info that says the variable does nothing, not that TensorFlow fails', () => {
      const f = frameworks({ ...keras({ use_legacy_keras: true, backend: 'jax' }) });
      const findings = determinismFindings(input({ env: { ...QUIET, TF_USE_LEGACY_KERAS: '1' }, frameworks: f, arch: 'aarch64' }));
      expect(findings).toEqual([{ level: 'info', code: 'LEGACY_KERAS_MISSING', message: 'TF_USE_LEGACY_KERAS is set, but only TensorFlow reads it and TensorFlow is not installed: it has no effect here.', fix: null }]);
    });
    it('LEGACY_KERAS_MISSING is quiet with tf-keras installed, with the variable 0, or unset', () => {
      const withTfKeras = frameworks({ ...tf('2.16.1'), ...keras({ tf_keras_version: '2.16.0', use_legacy_keras: true }) });
      expect(codes(input({ env: { ...QUIET, TF_USE_LEGACY_KERAS: '1' }, frameworks: withTfKeras, arch: 'aarch64' }))).toEqual([]);
      const without = frameworks({ ...tf('2.16.1'), ...keras() });
      expect(codes(input({ env: { ...QUIET, TF_USE_LEGACY_KERAS: '0' }, frameworks: without, arch: 'aarch64' }))).toEqual([]);
      expect(codes(input({ frameworks: without, arch: 'aarch64' }))).toEqual([]);
    });
    it('KERAS_NON_TF_BACKEND is an info when Keras runs on another backend while TF is installed', () => {
      const findings = determinismFindings(input({ frameworks: frameworks({ ...tf('2.21.0'), ...keras({ backend: 'jax', backend_source: 'KERAS_BACKEND' }) }), arch: 'aarch64' }));
      expect(findings).toEqual([expect.objectContaining({ level: 'info', code: 'KERAS_NON_TF_BACKEND' })]);
      expect(findings[0]?.message).toContain('jax');
      expect(findings[0]?.message).toContain('KERAS_BACKEND');
    });
    it('KERAS_NON_TF_BACKEND is quiet on the tensorflow backend or without TF', () => {
      expect(codes(input({ frameworks: frameworks({ ...tf('2.21.0'), ...keras() }), arch: 'aarch64' }))).toEqual([]);
      expect(codes(input({ frameworks: frameworks({ ...keras({ backend: 'torch' }), ...TORCH }) }))).toEqual([]);
    });
  });

  describe('torch and JAX on a GPU', () => {
    it('CUBLAS_WORKSPACE_UNSET fires for torch on a GPU without CUBLAS_WORKSPACE_CONFIG', () => {
      expect(codes(input({ frameworks: frameworks(TORCH), gpu: gpu('7.5') }))).toEqual(['CUBLAS_WORKSPACE_UNSET']);
    });
    it('CUBLAS_WORKSPACE_UNSET is quiet with it set, without a GPU, or without torch', () => {
      expect(codes(input({ env: { ...QUIET, CUBLAS_WORKSPACE_CONFIG: ':4096:8' }, frameworks: frameworks(TORCH), gpu: gpu('7.5') }))).toEqual([]);
      expect(codes(input({ frameworks: frameworks(TORCH) }))).toEqual([]);
      expect(codes(input({ gpu: gpu('7.5') }))).toEqual([]);
    });
    it('XLA_NOT_DETERMINISTIC is an info for JAX on a GPU without the XLA flag', () => {
      const findings = determinismFindings(input({ frameworks: frameworks(JAX), gpu: gpu('7.5') }));
      expect(findings).toEqual([expect.objectContaining({ level: 'info', code: 'XLA_NOT_DETERMINISTIC' })]);
      expect(codes(input({ env: { ...QUIET, XLA_FLAGS: '--xla_gpu_autotune_level=0' }, frameworks: frameworks(JAX), gpu: gpu('7.5') }))).toEqual(['XLA_NOT_DETERMINISTIC']);
    });
    it('XLA_NOT_DETERMINISTIC is quiet with --xla_gpu_deterministic_ops, without a GPU, or without JAX', () => {
      expect(codes(input({ env: { ...QUIET, XLA_FLAGS: '--xla_gpu_deterministic_ops=true' }, frameworks: frameworks(JAX), gpu: gpu('7.5') }))).toEqual([]);
      expect(codes(input({ frameworks: frameworks(JAX) }))).toEqual([]);
      expect(codes(input({ gpu: gpu('7.5') }))).toEqual([]);
    });
  });

  describe('THREADS_UNPINNED', () => {
    it('is an info on a CPU-only machine with no thread count pinned', () => {
      const findings = determinismFindings(input({ env: { PYTHONHASHSEED: '0' } }));
      expect(findings).toEqual([expect.objectContaining({ level: 'info', code: 'THREADS_UNPINNED' })]);
    });
    it('is quiet with OMP_NUM_THREADS or TF_NUM_INTRAOP_THREADS, or on a GPU', () => {
      expect(codes(input({ env: { PYTHONHASHSEED: '0', OMP_NUM_THREADS: '4' } }))).toEqual([]);
      expect(codes(input({ env: { PYTHONHASHSEED: '0', TF_NUM_INTRAOP_THREADS: '4' } }))).toEqual([]);
      expect(codes(input({ env: { PYTHONHASHSEED: '0' }, gpu: gpu('7.5') }))).toEqual([]);
    });
  });
});

describe('the snapshot schema and the allowlist', () => {
  it('allow exactly the same variable names', async () => {
    const { readFileSync } = await import('node:fs');
    const { SNAPSHOT_SCHEMA_PATH } = await import('../../../src/adapters/snapshot-file.js');
    const schema = JSON.parse(readFileSync(SNAPSHOT_SCHEMA_PATH, 'utf8'));
    expect(schema.properties.determinism.properties.env.propertyNames.enum).toEqual(Object.keys(DETERMINISM_ENV_ALLOWLIST).sort());
  });
});
