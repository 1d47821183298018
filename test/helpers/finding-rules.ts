// The shipped rules (data/findings.json), read and parsed synchronously so a test can build its
// inputs at module level; the loader (loadFindingRules) is tested on its own.
import { readFileSync } from 'node:fs';
import { FINDINGS_DATA_PATH } from '../../src/adapters/package-files.js';
import { DETERMINISM_ENV_ALLOWLIST } from '../../src/core/determinism.js';
import { parseFindingRules, type FindingRules } from '../../src/core/findings.js';

export const FINDINGS_JSON: unknown = JSON.parse(readFileSync(FINDINGS_DATA_PATH, 'utf8'));

export const RULES: FindingRules = parseFindingRules(FINDINGS_JSON, new Set(Object.keys(DETERMINISM_ENV_ALLOWLIST)));
