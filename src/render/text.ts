// Text from a snapshot or a file name may carry terminal escape sequences (a crafted os-release,
// a package version): shown as-is they could rewrite the screen. Everything printed from such a
// source goes through printable().

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Control characters become visible escapes (\u001b), so the text prints as one plain line. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A determinism finding as lines: "! message" (a warning) or "- message" (an info), and its fix on a line of its own. */
export function findingLines(finding: { level: 'warning' | 'info'; message: string; fix: string | null }, indent = '  '): string[] {
  const lines = [`${indent}${finding.level === 'warning' ? '!' : '-'} ${printable(finding.message)}`];
  if (finding.fix !== null) lines.push(`${indent}  fix: ${printable(finding.fix)}`);
  return lines;
}
