import { describe, expect, it } from '@jest/globals';
import { cudnnVersionFromLibraryName, parseCudnnHeader } from '../../../src/core/parse/index.js';
import { crlf, fixture } from './fixture.js';

describe('parseCudnnHeader', () => {
  it.each([
    ['cudnn/cudnn_version-v9.h', '9.24.0'],
    ['cudnn/cudnn_version-v8.h', '8.9.7'],
    ['cudnn/cudnn-v7.h', '7.6.5'],
  ])('%s → %s (the three macros, not CUDNN_VERSION)', (file, version) => {
    expect(parseCudnnHeader(fixture(file))).toBe(version);
    expect(parseCudnnHeader(crlf(fixture(file)))).toBe(version);
  });

  it('tolerates spacing inside the directive', () => {
    expect(parseCudnnHeader('#  define CUDNN_MAJOR\t9\n  #define CUDNN_MINOR 1 /* minor */\n#define CUDNN_PATCHLEVEL 00\n')).toBe('9.1.0');
  });

  it('returns null when a part is missing, or for empty and unrelated headers', () => {
    expect(parseCudnnHeader('')).toBeNull();
    expect(parseCudnnHeader('#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 1\n')).toBeNull();
    expect(parseCudnnHeader('#include "cudnn_version.h"\n#define CUDNN_VERSION 90100\n')).toBeNull();
    expect(parseCudnnHeader('#define CUDNN_MAJOR_X 9\n#define CUDNN_MINOR 1\n#define CUDNN_PATCHLEVEL 0\n')).toBeNull();
  });
});

describe('cudnnVersionFromLibraryName', () => {
  it.each([
    ['libcudnn.so.8.9.7', '8.9.7'],
    ['libcudnn.so.9', '9'],
    ['libcudnn_ops_infer.so.8.6.0', '8.6.0'],
    ['libcudnn_engines_precompiled.so.9.3.0', '9.3.0'],
    ['/usr/lib/x86_64-linux-gnu/libcudnn.so.9.1.0', '9.1.0'],
    ['site-packages/nvidia/cudnn/lib/libcudnn_graph.so.9', '9'],
    ['cudnn64_8.dll', '8'],
  ])('%s → %s', (name, version) => {
    expect(cudnnVersionFromLibraryName(name)).toBe(version);
  });

  it.each(['libcudnn.so', 'libcudnn.a', 'libcudnn_static_v9.a', 'libcublas.so.12', 'libcudnn.so.9.bak', '', 'garbage'])('%j → null', (name) => {
    expect(cudnnVersionFromLibraryName(name)).toBeNull();
  });
});
