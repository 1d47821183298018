// Files that ship inside the package: Dockerfile templates, the compatibility data and the
// determinism findings rules.
// Resolved relative to this module, so they are found from dist/ and from a global install alike.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DETERMINISM_ENV_ALLOWLIST } from '../core/determinism.js';
import { parseCompat, type CompatTable } from '../core/dockerfile/compat.js';
import { parseFindingRules, type FindingRules } from '../core/findings.js';
import { TEMPLATE_NAMES, type Templates } from '../core/dockerfile/plan.js';
import { InternalError } from '../errors.js';
import { schemaProblems } from './json-schema.js';

const packageRoot = new URL('../../', import.meta.url);

export const COMPAT_DATA_PATH = fileURLToPath(new URL('data/compat.json', packageRoot));
export const FINDINGS_DATA_PATH = fileURLToPath(new URL('data/findings.json', packageRoot));
export const FINDINGS_SCHEMA_PATH = fileURLToPath(new URL('schemas/findings.schema.json', packageRoot));
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

const findingRules = new Map<string, Promise<FindingRules>>();

async function readFindingRules(path: string): Promise<FindingRules> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InternalError(`the findings rules ${path} cannot be read`, { cause: error });
  }
  const invalid = (problem: string, cause?: unknown) => new InternalError(`the findings rules ${path} are invalid: ${problem}`, { cause });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalid(`not JSON: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  const problems = schemaProblems(FINDINGS_SCHEMA_PATH, json);
  if (problems.length > 0) {
    // "rules.3.when...": say which rule that is by its code as well.
    const rules = (json as { rules?: unknown }).rules;
    const named = problems.map((line) =>
      line.replace(/^rules\.(\d+)/, (at, index: string) => {
        const code = Array.isArray(rules) ? (rules[Number(index)] as { code?: unknown } | undefined)?.code : undefined;
        return typeof code === 'string' ? `${at} (${code.slice(0, 60)})` : at;
      }),
    );
    throw invalid(`${named.slice(0, 5).join('; ')}${named.length > 5 ? ` (and ${named.length - 5} more)` : ''}`);
  }
  try {
    return parseFindingRules(json, new Set(Object.keys(DETERMINISM_ENV_ALLOWLIST)));
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : String(error), error);
  }
}

/** The determinism findings rules (data/findings.json), schema-checked and parsed once per path. */
export function loadFindingRules(path = FINDINGS_DATA_PATH): Promise<FindingRules> {
  let loading = findingRules.get(path);
  if (loading === undefined) {
    loading = readFindingRules(path);
    // A failed read is not cached: the next call tries again and says why again.
    loading.catch(() => findingRules.delete(path));
    findingRules.set(path, loading);
  }
  return loading;
}
