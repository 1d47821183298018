// Files that ship inside the package: Dockerfile templates and the compatibility data.
// Resolved relative to this module, so they are found from dist/ and from a global install alike.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseCompat, type CompatTable } from '../core/dockerfile/compat.js';
import { TEMPLATE_NAMES, type Templates } from '../core/dockerfile/plan.js';
import { InternalError } from '../errors.js';

const packageRoot = new URL('../../', import.meta.url);

export const COMPAT_DATA_PATH = fileURLToPath(new URL('data/compat.json', packageRoot));
export const TEMPLATES_DIR = fileURLToPath(new URL('templates/dockerfile/', packageRoot));

export async function loadTemplates(): Promise<Templates> {
  const entries = await Promise.all(
    TEMPLATE_NAMES.map(async (name) => {
      try {
        return [name, await readFile(new URL(`templates/dockerfile/${name}.tmpl`, packageRoot), 'utf8')] as const;
      } catch (error) {
        throw new InternalError(`the template ${name}.tmpl is missing from ${TEMPLATES_DIR}`, { cause: error });
      }
    }),
  );
  return Object.fromEntries(entries) as Templates;
}

export async function loadCompatTable(path = COMPAT_DATA_PATH): Promise<CompatTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InternalError(`the compatibility table ${path} cannot be read`, { cause: error });
  }
  try {
    return parseCompat(JSON.parse(text));
  } catch (error) {
    throw new InternalError(`the compatibility table ${path} is invalid: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
