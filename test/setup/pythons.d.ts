/** The interpreter of `version` ('3.6.15' exactly, or the newest '3.6.x'), or null when this machine has none. */
export function findPython(version: string): string | null;
