import { describe, expect, it } from '@jest/globals';
import { parseCudaVersionJson, parseCudaVersionTxt, parseNvccVersion } from '../../../src/core/parse/index.js';
import { crlf, fixture } from './fixture.js';

describe('parseNvccVersion', () => {
  it.each([
    ['nvcc/12.4.txt', '12.4.131', '12.4'],
    ['nvcc/11.8.txt', '11.8.89', '11.8'],
    ['nvcc/13.0.txt', '13.0.88', '13.0'],
  ])('%s', (file, version, release) => {
    expect(parseNvccVersion(fixture(file))).toEqual({ version, release });
    expect(parseNvccVersion(crlf(fixture(file)))).toEqual({ version, release });
  });

  it('returns null for empty and garbage output', () => {
    expect(parseNvccVersion('')).toBeNull();
    expect(parseNvccVersion('bash: nvcc: command not found')).toBeNull();
    expect(parseNvccVersion('Cuda compilation tools, release 12.4')).toBeNull();
  });
});

describe('parseCudaVersionTxt', () => {
  it('reads the old version.txt', () => {
    expect(parseCudaVersionTxt(fixture('cuda-version/version-10.0.txt'))).toBe('10.0.130');
    expect(parseCudaVersionTxt('  CUDA Version 9.0.176\r\n')).toBe('9.0.176');
  });

  it('returns null for anything else', () => {
    expect(parseCudaVersionTxt('')).toBeNull();
    expect(parseCudaVersionTxt('CUDA Version unknown')).toBeNull();
  });
});

describe('parseCudaVersionJson', () => {
  it('reads cuda.version from version.json', () => {
    expect(parseCudaVersionJson(fixture('cuda-version/version-12.2.json'))).toBe('12.2.2');
    expect(parseCudaVersionJson(crlf(fixture('cuda-version/version-12.2.json')))).toBe('12.2.2');
  });

  it('returns null for invalid JSON or a missing version', () => {
    expect(parseCudaVersionJson('')).toBeNull();
    expect(parseCudaVersionJson('{"cuda": ')).toBeNull();
    expect(parseCudaVersionJson('null')).toBeNull();
    expect(parseCudaVersionJson('[1, 2]')).toBeNull();
    expect(parseCudaVersionJson('{"cuda": {"name": "CUDA SDK"}}')).toBeNull();
    expect(parseCudaVersionJson('{"cuda": {"version": 12.2}}')).toBeNull();
    expect(parseCudaVersionJson('{"cuda_cudart": {"version": "12.2.140"}}')).toBeNull();
  });
});
