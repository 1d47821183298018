// /proc/meminfo.

/** MemTotal in bytes (the file says kB, meaning KiB); null when absent or malformed. */
export function parseMemTotalBytes(text: string): number | null {
  const m = /^\s*MemTotal:\s*(\d+)\s*kB\s*$/im.exec(text);
  if (!m) return null;
  const kib = Number(m[1]);
  return Number.isSafeInteger(kib * 1024) ? kib * 1024 : null;
}
