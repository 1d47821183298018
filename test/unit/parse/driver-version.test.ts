import { describe, expect, it } from '@jest/globals';
import { parseProcDriverVersion } from '../../../src/core/parse/index.js';
import { crlf, fixture } from './fixture.js';

describe('parseProcDriverVersion', () => {
  it('reads the proprietary module', () => {
    expect(parseProcDriverVersion(fixture('proc-driver/proprietary-550.txt'))).toEqual({
      version: '550.54.14',
      flavor: 'proprietary',
      raw: 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024',
    });
  });

  it('reads the open module, skipping the "for x86_64" architecture', () => {
    expect(parseProcDriverVersion(crlf(fixture('proc-driver/open-575.txt')))).toEqual({
      version: '575.57.08',
      flavor: 'open',
      raw: 'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  575.57.08  Release Build  (dvs-builder@U16-I3-B13-4-1)  Wed May 21 05:27:46 UTC 2025',
    });
  });

  it('reads aarch64 and odd forms', () => {
    expect(parseProcDriverVersion('NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  580.82.07  Release Build')?.version).toBe('580.82.07');
    expect(parseProcDriverVersion('NVRM version: NVIDIA UNIX aarch64 Kernel Module  535.161.08  Tue Mar  5 2024')).toMatchObject({ version: '535.161.08', flavor: 'proprietary' });
    expect(parseProcDriverVersion('  NVRM version: something else  560.35.03  \n')).toEqual({ version: '560.35.03', flavor: 'unknown', raw: 'NVRM version: something else  560.35.03' });
  });

  it('returns null for empty, garbage or versionless text', () => {
    expect(parseProcDriverVersion('')).toBeNull();
    expect(parseProcDriverVersion('cat: /proc/driver/nvidia/version: No such file or directory')).toBeNull();
    expect(parseProcDriverVersion('NVRM version: NVIDIA UNIX x86_64 Kernel Module')).toBeNull();
  });
});
