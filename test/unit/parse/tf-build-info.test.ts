import { describe, expect, it } from '@jest/globals';
import { parseTensorflowBuildInfo } from '../../../src/core/parse/index.js';
import { crlf, fixture } from './fixture.js';

describe('parseTensorflowBuildInfo', () => {
  it('reads the tensorflow-cpu 2.21.0 file installed on this machine', () => {
    const want = {
      cuda_version: null,
      cudnn_version: null,
      cuda_compute_capabilities: null,
      is_cuda_build: false,
      is_rocm_build: false,
      is_tensorrt_build: false,
    };
    expect(parseTensorflowBuildInfo(fixture('tf-build-info/2.21.0-cpu.py'))).toEqual(want);
    expect(parseTensorflowBuildInfo(crlf(fixture('tf-build-info/2.21.0-cpu.py')))).toEqual(want);
  });

  it('reads a 2.15 GPU build (OrderedDict form)', () => {
    expect(parseTensorflowBuildInfo(fixture('tf-build-info/2.15.0-gpu.py'))).toEqual({
      cuda_version: '12.2',
      cudnn_version: '8',
      cuda_compute_capabilities: ['sm_50', 'sm_60', 'sm_70', 'sm_75', 'compute_80'],
      is_cuda_build: true,
      is_rocm_build: false,
      is_tensorrt_build: true,
    });
  });

  it('reads a 2.4 GPU build', () => {
    expect(parseTensorflowBuildInfo(fixture('tf-build-info/2.4.0-gpu.py'))).toEqual({
      cuda_version: '11.0',
      cudnn_version: '8',
      cuda_compute_capabilities: ['sm_35', 'sm_50', 'sm_60', 'sm_70', 'sm_75', 'compute_80'],
      is_cuda_build: true,
      is_rocm_build: false,
      is_tensorrt_build: true,
    });
  });

  it('reads the plain dict form with Windows 64_NNN versions', () => {
    expect(parseTensorflowBuildInfo(fixture('tf-build-info/2.3.0-windows-dict.py'))).toEqual({
      cuda_version: '10.1',
      cudnn_version: '7',
      cuda_compute_capabilities: ['sm_35', 'sm_52', 'sm_60', 'sm_61', 'compute_70'],
      is_cuda_build: true,
      is_rocm_build: false,
      is_tensorrt_build: null,
    });
  });

  it('reads the legacy module-level assignments', () => {
    expect(parseTensorflowBuildInfo(fixture('tf-build-info/2.1-legacy.py'))).toEqual({
      cuda_version: '10.1',
      cudnn_version: '7',
      cuda_compute_capabilities: null,
      is_cuda_build: true,
      is_rocm_build: false,
      is_tensorrt_build: null,
    });
    expect(parseTensorflowBuildInfo('is_cuda_build = False\n')).toMatchObject({ is_cuda_build: false, cuda_version: null });
  });

  it('normalises 64_110-style values and string lists', () => {
    const src = `build_info = collections.OrderedDict([("cuda_version", '64_110'), ("cudnn_version", '64_8'), ('cuda_compute_capabilities', 'sm_70, compute_80'), ('is_cuda_build', True)])`;
    expect(parseTensorflowBuildInfo(src)).toEqual({
      cuda_version: '11.0',
      cudnn_version: '8',
      cuda_compute_capabilities: ['sm_70', 'compute_80'],
      is_cuda_build: true,
      is_rocm_build: null,
      is_tensorrt_build: null,
    });
  });

  it('accepts multi-line literals, comments and a from-import of OrderedDict', () => {
    const src = [
      'from collections import OrderedDict',
      'build_info = OrderedDict([',
      "    ('cuda_version', '12.3'),  # CUDA",
      "    ('cudnn_version', \"8\"),",
      "    ('unknown_key', {'nested': [1, 2.5, None]}),",
      "    ('is_rocm_build', False),",
      '])',
    ].join('\n');
    expect(parseTensorflowBuildInfo(src)).toMatchObject({ cuda_version: '12.3', cudnn_version: '8', is_rocm_build: false, is_cuda_build: null });
  });

  it('prefers build_info over the old module-level names', () => {
    const src = "cuda_version_number = '10.0'\nbuild_info = {'cuda_version': '10.1'}\n";
    expect(parseTensorflowBuildInfo(src)?.cuda_version).toBe('10.1');
  });

  it('returns null for empty, garbage and non-literal sources', () => {
    expect(parseTensorflowBuildInfo('')).toBeNull();
    expect(parseTensorflowBuildInfo('\u0000 not python at all ((( ')).toBeNull();
    expect(parseTensorflowBuildInfo('build_info = load_from_somewhere()\n')).toBeNull();
    expect(parseTensorflowBuildInfo("build_info = collections.OrderedDict([('cuda_version', '12.2')")).toBeNull();
  });
});
