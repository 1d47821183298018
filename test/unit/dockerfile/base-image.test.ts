import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { chooseBaseImage, type BaseOptions } from '../../../src/core/dockerfile/base-image.js';
import { parseCompat } from '../../../src/core/dockerfile/compat.js';
import type { FrameworksInfo, GpuInfo, PackageRecord, Snapshot } from '../../../src/core/model.js';
import { makeSnapshot } from '../../helpers/snapshot-fixture.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const table = parseCompat(JSON.parse(readFileSync(resolve(root, 'data/compat.json'), 'utf8')));

const pkg = (name: string, version: string): PackageRecord => ({ name, version, installer: 'pip', requested: false, source: { kind: 'index' }, metadata: 'dist-info', location: null, requires_tooling: [] });
const CU12_WHEELS_219 = [pkg('nvidia-cudnn-cu12', '9.3.0.75'), pkg('nvidia-cublas-cu12', '12.5.3.2'), pkg('nvidia-cuda-runtime-cu12', '12.5.82')];
const CU12_WHEELS_215 = [pkg('nvidia-cudnn-cu12', '8.9.4.25'), pkg('nvidia-cublas-cu12', '12.2.5.6')];

interface Spec {
  python?: string;
  tf?: string | null;
  tfDistribution?: string;
  tfCuda?: string | null;
  keras?: string;
  torch?: string | null;
  torchCuda?: string | null;
  jaxPlugins?: string[];
  wheels?: PackageRecord[];
  gpu?: boolean;
  driver?: string | null;
}

/** A snapshot built from makeSnapshot with the frameworks, packages and GPU this test needs. */
function snap(spec: Spec): Snapshot {
  const base = makeSnapshot();
  const tfVersion = spec.tf === undefined ? '2.15.0' : spec.tf;
  const wheels = spec.wheels ?? [];
  const packages: PackageRecord[] = [pkg('numpy', '1.26.4'), ...wheels];
  const frameworks: FrameworksInfo = { tensorflow: null, keras: null, torch: null, jax: null, numpy: { version: '1.26.4' }, nvidia_wheels: wheels.map((w) => ({ name: w.name, version: w.version })) };
  if (tfVersion !== null) {
    const distribution = spec.tfDistribution ?? 'tensorflow';
    packages.push(pkg(distribution, tfVersion));
    frameworks.tensorflow = {
      version: tfVersion,
      distribution,
      build_info: distribution === 'tensorflow-cpu' ? { cuda_version: null, cudnn_version: null, cuda_compute_capabilities: null, is_cuda_build: false, is_rocm_build: false } : { cuda_version: spec.tfCuda ?? null, cudnn_version: null, cuda_compute_capabilities: null, is_cuda_build: true, is_rocm_build: false },
    };
    if (spec.keras) {
      packages.push(pkg('keras', spec.keras));
      frameworks.keras = { version: spec.keras, backend: 'tensorflow', backend_source: 'default', keras_home: '/root/.keras', tf_keras_version: null, use_legacy_keras: false, config: null };
    }
  }
  if (spec.torch) {
    packages.push(pkg('torch', spec.torch));
    frameworks.torch = { version: spec.torch, cuda: spec.torchCuda ?? null };
  }
  if (spec.jaxPlugins) {
    packages.push(pkg('jax', '0.4.30'), pkg('jaxlib', '0.4.30'), ...spec.jaxPlugins.map((p) => pkg(p, '0.4.30')));
    frameworks.jax = { version: '0.4.30', jaxlib: '0.4.30', cuda_plugins: spec.jaxPlugins.map((name) => ({ name, version: '0.4.30' })) };
  }
  const gpuOn = spec.gpu ?? true;
  const gpu: GpuInfo = gpuOn
    ? { ...base.gpu, driver_version: spec.driver === undefined ? '560.35.03' : spec.driver }
    : { available: false, driver_version: null, driver_cuda_version: null, devices: [], kernel_module: null, cuda_toolkit: null, cudnn: [] };
  return makeSnapshot({ python: { ...base.python, version: spec.python ?? '3.11.7' }, packages, frameworks, gpu });
}

const choose = (spec: Spec, options: BaseOptions = {}) => chooseBaseImage(snap(spec), options, table);

describe('chooseBaseImage: CPU', () => {
  it('TF 2.21 without a GPU: the python image with the exact Python on bookworm', () => {
    const c = choose({ tf: '2.21.0', gpu: false });
    expect(c).toMatchObject({ image: 'python:3.11.7-slim-bookworm', digest: null, family: 'python', target: 'cpu', pythonFrom: 'base', cuda: null, extraIndexUrls: [], notGuaranteed: [] });
    expect(c.warnings).toEqual([]);
    expect(c.reasons.join('\n')).toContain('carries the captured Python 3.11.7 exactly');
  });

  it('--cpu on a GPU snapshot: CPU image plus a warning', () => {
    const c = choose({ tf: '2.21.0', wheels: CU12_WHEELS_219 }, { target: 'cpu' });
    expect(c).toMatchObject({ image: 'python:3.11.7-slim-bookworm', target: 'cpu', cuda: null });
    expect(c.warnings.join('\n')).toContain('captured on a GPU but this image is CPU-only');
  });

  it('--python-from uv / apt on CPU: debian slim, and apt warns about the Python version', () => {
    const uv = choose({ tf: '2.21.0', gpu: false }, { pythonFrom: 'uv' });
    expect(uv).toMatchObject({ image: 'debian:bookworm-slim', pythonFrom: 'uv', family: 'python' });
    expect(uv.warnings).toEqual([]);
    expect(uv.reasons.join('\n')).toContain('--python-from uv');
    const apt = choose({ tf: '2.21.0', gpu: false }, { pythonFrom: 'apt' });
    expect(apt).toMatchObject({ image: 'debian:bookworm-slim', pythonFrom: 'apt' });
    expect(apt.warnings.join('\n')).toContain("Debian bookworm's python3, which is not necessarily the captured Python 3.11.7");
  });

  it('torch +cpu gets the cpu wheel index', () => {
    const c = choose({ tf: null, torch: '2.4.0+cpu', gpu: false });
    expect(c.extraIndexUrls).toEqual(['https://download.pytorch.org/whl/cpu']);
    expect(c.image).toBe('python:3.11.7-slim-bookworm');
  });

  it('an older Python picks its codename', () => {
    expect(choose({ tf: '2.12.0', python: '3.10.11', gpu: false }).image).toBe('python:3.10.11-slim-bullseye');
    expect(choose({ tf: '2.4.0', python: '3.8.10', gpu: false }).image).toBe('python:3.8.10-slim-buster');
  });
});

describe('chooseBaseImage: GPU with CUDA from nvidia-* wheels', () => {
  it('TF 2.21 with nvidia wheels: python slim, CUDA 12.5 from the wheels, its min driver', () => {
    const c = choose({ tf: '2.21.0', wheels: CU12_WHEELS_219 });
    expect(c).toMatchObject({ image: 'python:3.11.7-slim-bookworm', family: 'python', target: 'gpu', pythonFrom: 'base' });
    expect(c.cuda).toEqual({ version: '12.5', cudnn: '9.3.0.75', source: 'wheels', minDriver: '555.42.06' });
    expect(c.warnings).toEqual([]);
    expect(c.reasons.join('\n')).toContain('NVIDIA driver ≥ 555.42.06');
  });

  it('TF 2.15 + keras 2.15 with wheels', () => {
    const c = choose({ tf: '2.15.0', keras: '2.15.0', wheels: CU12_WHEELS_215 });
    expect(c).toMatchObject({ image: 'python:3.11.7-slim-bookworm', family: 'python', pythonFrom: 'base' });
    expect(c.cuda).toEqual({ version: '12.2', cudnn: '8.9.4.25', source: 'wheels', minDriver: '535.104.05' });
    expect(c.warnings).toEqual([]);
  });

  it('reads the nvidia wheels from the framework probe too (the default fixture)', () => {
    const c = chooseBaseImage(makeSnapshot({ python: { ...makeSnapshot().python, version: '3.11.7' } }), {}, table);
    expect(c).toMatchObject({ image: 'python:3.11.7-slim-bookworm', cuda: { version: '12.2', source: 'wheels', cudnn: '8.9.4.25' } });
  });

  it('torch 2.4.0+cu121: the cu121 index, CUDA 12.1', () => {
    const c = choose({ tf: null, torch: '2.4.0+cu121', torchCuda: '12.1' });
    expect(c.extraIndexUrls).toEqual(['https://download.pytorch.org/whl/cu121']);
    expect(c).toMatchObject({ image: 'python:3.11.7-slim-bookworm', family: 'python', cuda: { version: '12.1', source: 'wheels', minDriver: '530.30.02', cudnn: null } });
    expect(c.warnings).toEqual([]);
  });

  it('recognises CUDA 13 wheels, which lost their -cuNN suffix (nvidia-cuda-runtime 13.0.96)', () => {
    const CU13 = [pkg('nvidia-cuda-runtime', '13.0.96'), pkg('nvidia-cublas', '13.1.0.3'), pkg('nvidia-cufft', '12.0.0.61'), pkg('nvidia-cudnn-cu13', '9.13.0.50'), pkg('nvidia-nccl-cu13', '2.28.3')];
    const c = choose({ tf: null, wheels: CU13, driver: '580.95.05' });
    expect(c.target).toBe('gpu');
    // cuFFT 12.0 ships with CUDA 13: its major comes from the CUDA-versioned wheels, not its own.
    expect(c.cuda).toMatchObject({ version: '13', cudnn: '9.13.0.50', source: 'wheels', minDriver: '580' });
    expect(c.reasons.join('\n')).toContain('nvidia-cuda-runtime');
    expect(c.warnings).toEqual([]);
  });

  it('takes no CUDA major from unsuffixed nvidia-* wheels alone without a CUDA-versioned one', () => {
    const c = choose({ tf: null, wheels: [pkg('nvidia-ml-py', '12.535.133')], gpu: false });
    expect(c.target).toBe('cpu');
  });

  it('torch without a label takes CUDA from torch.version.cuda', () => {
    const c = choose({ tf: null, torch: '2.5.1', torchCuda: '12.4', wheels: [pkg('nvidia-cudnn-cu12', '9.1.0.70')] });
    expect(c.extraIndexUrls).toEqual([]);
    expect(c.cuda).toEqual({ version: '12.4', cudnn: '9.1.0.70', source: 'wheels', minDriver: '550.54.15' });
  });

  it('a wheels-only torch label (no cuda row) uses the CUDA major floor', () => {
    const c = choose({ tf: null, torch: '1.13.1+cu116', torchCuda: '11.6' });
    expect(c.extraIndexUrls).toEqual(['https://download.pytorch.org/whl/cu116']);
    expect(c.cuda).toEqual({ version: '11.6', cudnn: null, source: 'wheels', minDriver: '450.80.02' });
    expect(c.reasons.join('\n')).toContain('minor-version compatibility');
  });

  it('jax with jax-cuda12-plugin: CUDA 12 from the plugin, the CUDA 12 driver floor', () => {
    const c = choose({ tf: null, jaxPlugins: ['jax-cuda12-plugin', 'jax-cuda12-pjrt'] });
    expect(c).toMatchObject({ image: 'python:3.11.7-slim-bookworm', family: 'python', pythonFrom: 'base', extraIndexUrls: [] });
    expect(c.cuda).toEqual({ version: '12', cudnn: null, source: 'wheels', minDriver: '525.60.13' });
    expect(c.reasons.join('\n')).toContain('jax-cuda12-plugin');
  });

  it('a driver below the wheels CUDA but above the major floor gets the softer warning', () => {
    const c = choose({ tf: '2.21.0', wheels: CU12_WHEELS_219, driver: '550.54.15' });
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toContain('below 555.42.06');
    expect(c.warnings[0]).toContain('minor-version compatibility runs it from 525.60.13');
  });
});

describe('chooseBaseImage: GPU with system CUDA', () => {
  it('TF 2.15 without nvidia wheels: the nvidia/cuda 12.2 cuDNN 8 runtime base, Python via uv', () => {
    const c = choose({ tf: '2.15.0', keras: '2.15.0' });
    expect(c).toMatchObject({ image: 'nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04', family: 'nvidia-cuda', pythonFrom: 'uv', target: 'gpu' });
    expect(c.cuda).toEqual({ version: '12.2', cudnn: '8.9.6.50', source: 'base-image', minDriver: '535.104.05' });
    expect(c.reasons.join('\n')).toContain('the snapshot has none (system CUDA)');
    expect(c.warnings).toEqual([]);
  });

  it('TF 2.4 with Python 3.6.9: the official tensorflow/tensorflow:2.4.0-gpu image', () => {
    const c = choose({ tf: '2.4.0', python: '3.6.9', driver: '470.82.01' });
    expect(c).toMatchObject({ image: 'tensorflow/tensorflow:2.4.0-gpu', family: 'tensorflow', pythonFrom: 'base' });
    expect(c.cuda).toEqual({ version: '11.0', cudnn: '8.0', source: 'base-image', minDriver: '450.51.06' });
  });

  it('TF 2.4 with Python 3.8.10: the nvidia/cuda 11.0 row plus uv, with the EOL warning', () => {
    const c = choose({ tf: '2.4.1', python: '3.8.10', driver: '470.82.01' });
    expect(c).toMatchObject({ image: 'nvidia/cuda:11.0.3-cudnn8-runtime-ubuntu20.04', family: 'nvidia-cuda', pythonFrom: 'uv' });
    expect(c.cuda).toMatchObject({ version: '11.0', source: 'base-image', minDriver: '450.51.06' });
    expect(c.warnings.join('\n')).toContain('end-of-life');
  });

  it('TF < 2.14 ignores nvidia wheels: it loads the system CUDA', () => {
    const c = choose({ tf: '2.12.0', python: '3.10.12', wheels: [pkg('nvidia-cudnn-cu11', '8.6.0.163')] });
    expect(c).toMatchObject({ image: 'nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04', pythonFrom: 'uv', cuda: { version: '11.8', source: 'base-image' } });
  });

  it('TF 2.16 without wheels: warns that the 12.3 image carries cuDNN 9, not 8.9', () => {
    const c = choose({ tf: '2.16.1' });
    expect(c.image).toBe('nvidia/cuda:12.3.2-cudnn9-runtime-ubuntu22.04');
    expect(c.warnings.join('\n')).toContain('built with cuDNN 8.9');
  });

  it('--python-from apt on an nvidia/cuda base warns that python3 is not the captured version', () => {
    const c = choose({ tf: '2.15.0' }, { pythonFrom: 'apt' });
    expect(c).toMatchObject({ image: 'nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04', pythonFrom: 'apt' });
    expect(c.warnings.join('\n')).toContain("Ubuntu 22.04's python3, which is not necessarily the captured Python 3.11.7");
  });

  it('--python-from uv skips the official image', () => {
    expect(choose({ tf: '2.4.0', python: '3.6.9' }, { pythonFrom: 'uv' })).toMatchObject({ family: 'nvidia-cuda', pythonFrom: 'uv' });
  });

  it('a captured driver below min_driver gets a warning', () => {
    const c = choose({ tf: '2.15.0', driver: '470.82.01' });
    expect(c.warnings.join('\n')).toContain('the captured driver 470.82.01 is below the minimum 535.104.05 for CUDA 12.2');
  });
});

describe('chooseBaseImage: unknown and odd values never throw', () => {
  it('TF 2.99: the newest row plus a warning', () => {
    const c = choose({ tf: '2.99.0', wheels: CU12_WHEELS_219 });
    expect(c.cuda).toMatchObject({ version: '12.5', minDriver: '555.42.06' });
    expect(c.warnings).toContain("TensorFlow 2.99.0 is newer than the table (newest 2.21); using 2.21's CUDA 12.5/cuDNN 9.3 — check it");
  });

  it('--gpu on a snapshot whose frameworks are CPU-only builds: a warning and the plain Python image', () => {
    const c = choose({ tf: '2.15.0', tfDistribution: 'tensorflow-cpu', torch: '2.4.0+cpu', gpu: false }, { target: 'gpu' });
    expect(c).toMatchObject({ target: 'gpu', image: 'python:3.11.7-slim-bookworm', cuda: null, extraIndexUrls: ['https://download.pytorch.org/whl/cpu'] });
    expect(c.warnings.join('\n')).toContain('nothing in the snapshot is a CUDA build');
    expect(c.warnings.join('\n')).toContain('despite --gpu');
  });

  it('a ROCm torch label: a warning, no extra index', () => {
    const c = choose({ tf: null, torch: '2.4.0+rocm6.1', gpu: false });
    expect(c.extraIndexUrls).toEqual([]);
    expect(c.warnings.join('\n')).toContain('"+rocm6.1" is not in the table');
  });

  it('an unparseable Python: a floating python tag and a warning', () => {
    const c = choose({ tf: '2.21.0', python: 'weird', gpu: false });
    expect(c.image).toBe('python:3-slim-bookworm');
    expect(c.warnings.join('\n')).toContain('cannot be pinned');
  });

  it('an unknown CUDA from the captured TF build info is reported, the table wins', () => {
    const c = choose({ tf: '2.15.0', tfCuda: '12.7', wheels: CU12_WHEELS_215 });
    expect(c.cuda?.version).toBe('12.2');
    expect(c.warnings.join('\n')).toContain('CUDA 12.7 build, which is not in the table');
  });

  it('a GPU snapshot with no driver recorded gives no driver warning', () => {
    expect(choose({ tf: '2.21.0', wheels: CU12_WHEELS_219, driver: null }).warnings).toEqual([]);
  });
});

describe('chooseBaseImage: --base-image override', () => {
  const digest = 'sha256:df48bfc91c117f53d79d6b56fee70423b2b9610e0554a057377c47a72bda4a1b';

  it('keeps the image as given, parses the digest, trusts its Python and lists what it may break', () => {
    const c = choose({ tf: '2.15.0' }, { baseImage: `nvidia/cuda:12.2.2-devel-ubuntu22.04@${digest}` });
    expect(c).toMatchObject({ image: 'nvidia/cuda:12.2.2-devel-ubuntu22.04', digest, family: 'override', pythonFrom: 'base', target: 'gpu' });
    expect(c.cuda).toEqual({ version: '12.2', cudnn: '8.9.6.50', source: 'base-image', minDriver: '535.104.05' });
    expect(c.reasons[0]).toContain('the computed choice was nvidia/cuda:12.2.2-cudnn8-runtime-ubuntu22.04');
    expect(c.reasons.join('\n')).not.toContain('comes from uv');
    expect(c.notGuaranteed).toHaveLength(3);
    expect(c.notGuaranteed[0]).toContain('Python 3.11.7');
    expect(c.notGuaranteed[1]).toContain('CUDA 12.2/cuDNN 8.9.6.50');
    expect(c.notGuaranteed[2]).toContain('Ubuntu 22.04.4 LTS with glibc 2.35');
  });

  it('honours --python-from with an override and has no digest without @sha256', () => {
    const c = choose({ tf: '2.21.0', gpu: false }, { baseImage: 'registry.example.com/team/base:2025-01', pythonFrom: 'uv' });
    expect(c).toMatchObject({ image: 'registry.example.com/team/base:2025-01', digest: null, family: 'override', pythonFrom: 'uv', target: 'cpu', cuda: null });
    expect(c.notGuaranteed).toHaveLength(1);
    expect(c.notGuaranteed[0]).toContain('OS/glibc');
  });
});
