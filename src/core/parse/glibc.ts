// The C library: glibc from `ldd --version` or `getconf GNU_LIBC_VERSION`; musl's ldd says so.

import { splitLines } from './text.js';

/**
 * "2.36" from "ldd (Debian GLIBC 2.36-9+deb12u10) 2.36", "ldd (GNU libc) 2.28" or
 * "glibc 2.36"; null for musl or anything else.
 */
export function parseGlibcVersion(text: string): string | null {
  if (/\bmusl\b/i.test(text)) return null;
  const lines = splitLines(text).map((l) => l.trim()).filter((l) => l !== '');
  const first = lines[0];
  if (first === undefined) return null;
  const getconf = /^glibc\s+(\d+\.\d+(?:\.\d+)?)$/i.exec(first);
  if (getconf) return getconf[1] as string;
  if (/^ldd\b/i.test(first) || /GLIBC|GNU libc/i.test(first)) {
    const trailing = /\)\s+(\d+\.\d+(?:\.\d+)?)$/.exec(first);
    if (trailing) return trailing[1] as string;
    const inner = /(?:GLIBC|GNU libc)\s+(\d+\.\d+)/i.exec(first);
    if (inner) return inner[1] as string;
  }
  return null;
}

/** "1.2.4" from musl's ldd ("musl libc (x86_64)\nVersion 1.2.4\n..."); null otherwise. */
export function parseMuslVersion(text: string): string | null {
  if (!/\bmusl libc\b/i.test(text)) return null;
  return /^\s*Version\s+(\d+(?:\.\d+)+)\s*$/im.exec(text)?.[1] ?? null;
}
