import { describe, expect, it } from '@jest/globals';
import { parseMemTotalBytes } from '../../../src/core/parse/index.js';
import { crlf, fixture } from './fixture.js';

describe('parseMemTotalBytes', () => {
  it('reads MemTotal from this machine’s /proc/meminfo, in bytes', () => {
    expect(parseMemTotalBytes(fixture('meminfo/this-machine.txt'))).toBe(24684084 * 1024);
    expect(parseMemTotalBytes(crlf(fixture('meminfo/this-machine.txt')))).toBe(24684084 * 1024);
  });

  it('tolerates spacing', () => {
    expect(parseMemTotalBytes('MemFree: 1 kB\n  MemTotal:\t 2048 kB  \n')).toBe(2048 * 1024);
  });

  it('returns null for empty, garbage or a malformed line', () => {
    expect(parseMemTotalBytes('')).toBeNull();
    expect(parseMemTotalBytes('MemFree: 1 kB\n')).toBeNull();
    expect(parseMemTotalBytes('MemTotal: lots kB\n')).toBeNull();
    expect(parseMemTotalBytes('MemTotal: 99999999999999999999 kB\n')).toBeNull();
  });
});
