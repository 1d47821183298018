// Reads recorded probe outputs from test/fixtures/probes (see SOURCES.md there).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const probes = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/probes');

export function fixture(relative: string): string {
  return readFileSync(resolve(probes, relative), 'utf8');
}

/** The same text with CRLF line endings. */
export function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}
