import { describe, expect, it } from '@jest/globals';
import { AARCH64_NUMERICS_CPU_FLAGS, NUMERICS_CPU_FLAGS, parseCpuinfo } from '../../../src/core/parse/index.js';
import { crlf, fixture } from './fixture.js';

describe('parseCpuinfo', () => {
  it('reads this machine’s x86_64 cpuinfo (Sapphire Rapids-class, AVX-512 and AMX)', () => {
    const want = {
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
    };
    expect(parseCpuinfo(fixture('cpuinfo/x86-avx512.txt'))).toEqual(want);
    expect(parseCpuinfo(crlf(fixture('cpuinfo/x86-avx512.txt')))).toEqual(want);
  });

  it('reads aarch64 Features and names the part when there is no model name', () => {
    expect(parseCpuinfo(fixture('cpuinfo/aarch64.txt'))).toEqual({
      model: 'CPU implementer 0x41 part 0xd40',
      logical_cores: 4,
      flags: ['asimd', 'asimdhp', 'bf16', 'fphp', 'i8mm', 'sve'],
    });
    expect(parseCpuinfo('processor : 0\nFeatures : fp asimd\nCPU part : 0xd0c\n').model).toBe('CPU part 0xd0c');
    expect(parseCpuinfo('processor : 0\nmodel name : ARMv8 Processor rev 1 (v8l)\nFeatures : fp asimd\nCPU part : 0xd0c\n').model).toBe('ARMv8 Processor rev 1 (v8l)');
  });

  it('keeps only the flags every logical CPU reports', () => {
    const text = 'processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2 avx512f\n\nprocessor\t: 1\nflags\t\t: fpu sse4_2 avx avx2\n';
    expect(parseCpuinfo(text)).toEqual({ model: null, logical_cores: 2, flags: ['avx', 'avx2', 'sse4_2'] });
  });

  it('collapses whitespace in the model name', () => {
    expect(parseCpuinfo('processor : 0\nmodel name :   AMD EPYC   7763 64-Core Processor  \n').model).toBe('AMD EPYC 7763 64-Core Processor');
  });

  it('returns an empty result for empty and garbage input', () => {
    expect(parseCpuinfo('')).toEqual({ model: null, logical_cores: 0, flags: [] });
    expect(parseCpuinfo('garbage\n\u0000:::\nprocessor : x\n')).toEqual({ model: null, logical_cores: 0, flags: [] });
  });

  it('exports the flag lists', () => {
    expect(NUMERICS_CPU_FLAGS).toContain('avx512_bf16');
    expect(NUMERICS_CPU_FLAGS).toHaveLength(17);
    expect([...AARCH64_NUMERICS_CPU_FLAGS]).toEqual(['asimd', 'sve', 'sve2', 'bf16', 'i8mm', 'fphp', 'asimdhp']);
  });
});
