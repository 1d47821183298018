import { describe, expect, it } from '@jest/globals';
import { parseGlibcVersion, parseMuslVersion } from '../../../src/core/parse/index.js';
import { crlf, fixture } from './fixture.js';

describe('parseGlibcVersion', () => {
  it('reads `ldd --version` and `getconf GNU_LIBC_VERSION` from this machine', () => {
    expect(parseGlibcVersion(fixture('glibc/ldd-debian12.txt'))).toBe('2.36');
    expect(parseGlibcVersion(crlf(fixture('glibc/ldd-debian12.txt')))).toBe('2.36');
    expect(parseGlibcVersion(fixture('glibc/getconf-debian12.txt'))).toBe('2.36');
  });

  it('reads other distributions’ first lines', () => {
    expect(parseGlibcVersion('ldd (Debian GLIBC 2.36-9+deb12u10) 2.36\n')).toBe('2.36');
    expect(parseGlibcVersion('ldd (Ubuntu GLIBC 2.35-0ubuntu3.8) 2.35')).toBe('2.35');
    expect(parseGlibcVersion('ldd (GNU libc) 2.28\nCopyright (C) 2018')).toBe('2.28');
    expect(parseGlibcVersion('  glibc 2.17  ')).toBe('2.17');
  });

  it('returns null for musl, empty and garbage', () => {
    expect(parseGlibcVersion(fixture('glibc/ldd-musl-alpine.txt'))).toBeNull();
    expect(parseGlibcVersion('')).toBeNull();
    expect(parseGlibcVersion('ldd: command not found')).toBeNull();
    expect(parseGlibcVersion('2.36')).toBeNull();
  });
});

describe('parseMuslVersion', () => {
  it('reads musl’s ldd', () => {
    expect(parseMuslVersion(fixture('glibc/ldd-musl-alpine.txt'))).toBe('1.2.4');
    expect(parseMuslVersion(crlf(fixture('glibc/ldd-musl-alpine.txt')))).toBe('1.2.4');
  });

  it('returns null for glibc, empty and garbage', () => {
    expect(parseMuslVersion(fixture('glibc/ldd-debian12.txt'))).toBeNull();
    expect(parseMuslVersion('')).toBeNull();
    expect(parseMuslVersion('musl libc (x86_64)\nno version here')).toBeNull();
  });
});
