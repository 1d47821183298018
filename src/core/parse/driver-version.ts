// /proc/driver/nvidia/version: the loaded kernel module, proprietary or open.
//   NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024
//   NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  575.57.08  Release Build  (dvs-builder@U16-...)  <date>

import { splitLines } from './text.js';

export interface KernelModuleInfo {
  version: string;
  flavor: 'proprietary' | 'open' | 'unknown';
  /** The NVRM line, trimmed. */
  raw: string;
}

export function parseProcDriverVersion(text: string): KernelModuleInfo | null {
  const raw = splitLines(text)
    .map((line) => line.trim())
    .find((line) => /^NVRM version:/i.test(line));
  if (raw === undefined) return null;
  // The version follows "Kernel Module" (and "for <arch>" on the open module); fall back to the
  // first dotted number standing alone on the line.
  const version =
    /Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)*)(?=\s|$)/i.exec(raw)?.[1] ??
    /\s(\d+\.\d+(?:\.\d+)*)(?=\s|$)/.exec(raw)?.[1];
  if (version === undefined) return null;
  const flavor = /\bOpen Kernel Module\b/i.test(raw) ? 'open' : /\bKernel Module\b/i.test(raw) ? 'proprietary' : 'unknown';
  return { version, flavor, raw };
}
