import { describe, expect, it } from '@jest/globals';
import {
  NVIDIA_SMI_QUERY_FIELDS,
  isNoDeviceMessage,
  nvidiaSmiQueryArgs,
  parseNvidiaSmiHeader,
  parseNvidiaSmiQuery,
} from '../../../src/core/parse/index.js';
import { crlf, fixture } from './fixture.js';

describe('parseNvidiaSmiQuery', () => {
  it('maps the columns of an 8x H100 query by header name', () => {
    const { devices, driverVersion } = parseNvidiaSmiQuery(fixture('nvidia-smi/query-h100x8.csv'));
    expect(driverVersion).toBe('550.54.15');
    expect(devices).toHaveLength(8);
    expect(devices[0]).toEqual({
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      uuid: 'GPU-6e2b1c4a-0d3f-4b8e-9a71-2c5d8e0f1a36',
      compute_capability: '9.0',
      memory_total_mib: 81559,
    });
    expect(devices.map((d) => d.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(devices[7]?.uuid).toBe('GPU-58a3c0e9-b7d1-4f62-9c4e-2d0f6a1b8e93');
  });

  it('accepts output without the compute_cap column (old drivers)', () => {
    const { devices, driverVersion } = parseNvidiaSmiQuery(fixture('nvidia-smi/query-no-compute-cap.csv'));
    expect(driverVersion).toBe('470.57.02');
    expect(devices).toEqual([
      { index: 0, name: 'Tesla V100-SXM2-16GB', uuid: 'GPU-1d2c3b4a-5f6e-4d7c-8b9a-0f1e2d3c4b5a', compute_capability: null, memory_total_mib: 16160 },
      { index: 1, name: 'Tesla V100-SXM2-16GB', uuid: 'GPU-9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d', compute_capability: null, memory_total_mib: 16160 },
    ]);
  });

  it('reads memory with units and turns [N/A] into null', () => {
    const { devices } = parseNvidiaSmiQuery(fixture('nvidia-smi/query-units-na.csv'));
    expect(devices.map((d) => [d.compute_capability, d.memory_total_mib])).toEqual([
      ['8.0', 40960],
      [null, null],
    ]);
  });

  it('maps columns in any order, and plain N/A as null', () => {
    const csv = 'uuid, memory.total [MiB], name, index, driver_version\nGPU-x, N/A, NVIDIA L4, 3, 550.90.07\n';
    expect(parseNvidiaSmiQuery(csv)).toEqual({
      driverVersion: '550.90.07',
      devices: [{ index: 3, name: 'NVIDIA L4', uuid: 'GPU-x', compute_capability: null, memory_total_mib: null }],
    });
  });

  it('handles CRLF, blank lines and extra whitespace', () => {
    const text = `\r\n  ${crlf(fixture('nvidia-smi/query-h100x8.csv')).replace(/, /g, ' ,   ')}\r\n\r\n`;
    const { devices, driverVersion } = parseNvidiaSmiQuery(text);
    expect(driverVersion).toBe('550.54.15');
    expect(devices).toHaveLength(8);
    expect(devices[3]?.name).toBe('NVIDIA H100 80GB HBM3');
  });

  it('reads headerless output in the NVIDIA_SMI_QUERY_FIELDS order', () => {
    const body = fixture('nvidia-smi/query-h100x8.csv').split('\n').slice(1).join('\n');
    expect(parseNvidiaSmiQuery(body).devices).toHaveLength(8);
  });

  it('skips error lines and returns nothing for empty or garbage input', () => {
    const withError = `${fixture('nvidia-smi/query-no-compute-cap.csv')}Unable to determine the device handle for GPU0000:3B:00.0: Unknown Error\n`;
    expect(parseNvidiaSmiQuery(withError).devices).toHaveLength(2);
    expect(parseNvidiaSmiQuery('')).toEqual({ devices: [], driverVersion: null });
    expect(parseNvidiaSmiQuery(fixture('nvidia-smi/no-driver.txt'))).toEqual({ devices: [], driverVersion: null });
    expect(parseNvidiaSmiQuery('index, name\n\u0000\u0001, ,')).toEqual({ devices: [], driverVersion: null });
  });

  it('exports the field list the capture spawns with', () => {
    expect([...NVIDIA_SMI_QUERY_FIELDS]).toEqual(['index', 'name', 'uuid', 'compute_cap', 'memory.total', 'driver_version']);
    expect(nvidiaSmiQueryArgs()).toEqual(['--query-gpu=index,name,uuid,compute_cap,memory.total,driver_version', '--format=csv,nounits']);
  });
});

describe('parseNvidiaSmiHeader', () => {
  it.each([
    ['header-550-h100x8.txt', '550.54.15', '12.4'],
    ['header-535-wide.txt', '535.104.05', '12.2'],
    ['header-450-classic.txt', '450.51.06', '11.0'],
    ['header-390-old.txt', '390.48', null],
    ['header-kmd-615.txt', '615.71.09', '13.4'],
    ['header-cuda-na.txt', '570.86.15', null],
  ])('%s → driver %s, CUDA %s', (file, driverVersion, cudaVersion) => {
    expect(parseNvidiaSmiHeader(fixture(`nvidia-smi/${file}`))).toEqual({ driverVersion, cudaVersion });
    expect(parseNvidiaSmiHeader(crlf(fixture(`nvidia-smi/${file}`)))).toEqual({ driverVersion, cudaVersion });
  });

  it('returns nulls for empty, garbage and error output', () => {
    expect(parseNvidiaSmiHeader('')).toEqual({ driverVersion: null, cudaVersion: null });
    expect(parseNvidiaSmiHeader('Driver Version: \nCUDA Version: banana')).toEqual({ driverVersion: null, cudaVersion: null });
    expect(parseNvidiaSmiHeader(fixture('nvidia-smi/no-driver.txt'))).toEqual({ driverVersion: null, cudaVersion: null });
  });
});

describe('isNoDeviceMessage', () => {
  it('recognises the no-driver and no-device messages', () => {
    expect(isNoDeviceMessage(fixture('nvidia-smi/no-driver.txt'))).toBe(true);
    expect(isNoDeviceMessage(fixture('nvidia-smi/no-devices.txt'))).toBe(true);
    expect(isNoDeviceMessage(crlf(fixture('nvidia-smi/no-devices.txt')))).toBe(true);
    expect(isNoDeviceMessage("NVIDIA-SMI couldn't find libnvidia-ml.so library in your system. Please make sure that the NVIDIA Display Driver is properly installed and present in your system.")).toBe(true);
  });

  it('is false for real output, other failures and empty text', () => {
    expect(isNoDeviceMessage(fixture('nvidia-smi/header-535-wide.txt'))).toBe(false);
    expect(isNoDeviceMessage(fixture('nvidia-smi/version-mismatch.txt'))).toBe(false);
    expect(isNoDeviceMessage('')).toBe(false);
  });
});
