// Small helpers shared by the probe parsers. Pure: strings in, values out.

/** Splits text into lines, accepting LF, CRLF and lone CR endings. */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/** Lines with surrounding whitespace removed and empty ones dropped. */
export function nonEmptyLines(text: string): string[] {
  return splitLines(text)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** First capture group of the first match, or null. */
export function firstMatch(text: string, pattern: RegExp): string | null {
  const m = pattern.exec(text);
  return m?.[1] ?? null;
}

/** "12.4.131" → "12.4"; "12" → "12". */
export function majorMinor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}
