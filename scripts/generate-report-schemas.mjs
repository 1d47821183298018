#!/usr/bin/env node
// Writes the JSON Schemas of the reports others consume (compare's and replay's --json result,
// replay.json) from their TypeScript types, with ts-json-schema-generator, so the schema cannot
// drift from the code: test/integration/report-schemas.test.ts regenerates them and fails on any
// difference, and validates real output against them. Run after changing a report type:
//   node scripts/generate-report-schemas.mjs
// Numbers in a comparison may arrive as strings: JSON has no NaN, infinities or -0, and no
// integers past 2^53, so jsonSafe (src/core/compare/model.ts) writes those as "NaN", "-0", digits.
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const isNumber = (t) => t === 'number' || t === 'integer';

/** Every number under the comparison may be one of jsonSafe's strings. */
function widenNumbers(node) {
  if (Array.isArray(node)) return node.map(widenNumbers);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) out[key] = widenNumbers(value);
  if (isNumber(out.type)) out.type = [out.type, 'string'];
  else if (Array.isArray(out.type) && out.type.some(isNumber) && !out.type.includes('string')) out.type = [...out.type, 'string'];
  return out;
}

/**
 * Ajv's strict mode (which our validators use) takes a type list only as "X or null": any other
 * union becomes an anyOf of single types, the same schema spelled the strict way.
 */
function strictUnions(node) {
  if (Array.isArray(node)) return node.map(strictUnions);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) out[key] = strictUnions(value);
  if (Array.isArray(out.type) && out.type.filter((t) => t !== 'null').length > 1) {
    const { type, ...rest } = out;
    return { ...rest, anyOf: type.map((t) => ({ type: t })) };
  }
  return out;
}

/** The comparison's definitions are widened wherever they appear; the replay's own numbers are plain. */
const COMPARE_DEFINITIONS = new Set(['CompareReport', 'CompareSummary', 'OutputReport', 'TensorDiff', 'MetricDiff', 'Tolerance', 'MetricRule']);

export function generate() {
  const out = {};
  for (const [file, type, name, title] of [
    ['src/core/compare/model.ts', 'CompareReport', 'compare-report', 'snapshot compare: the result of --json'],
    ['src/core/replay/report.ts', 'ReplayReport', 'replay-report', 'snapshot replay: the result of --json, and replay.json in the replay folder'],
  ]) {
    const schema = createGenerator({ path: join(root, file), tsconfig: join(root, 'tsconfig.json'), type, skipTypeCheck: true, additionalProperties: false, sortProps: true }).createSchema(type);
    for (const [key, value] of Object.entries(schema.definitions ?? {})) if (COMPARE_DEFINITIONS.has(key)) schema.definitions[key] = widenNumbers(value);
    const body = strictUnions(schema);
    delete body.$schema;
    out[name] = { $schema: 'http://json-schema.org/draft-07/schema#', $id: `https://snapshot.dev/schemas/${name}.json`, title, description: `Generated from ${type} (${file}) by scripts/generate-report-schemas.mjs: do not edit.`, ...body };
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, schema] of Object.entries(generate())) writeFileSync(join(root, 'schemas', `${name}.schema.json`), `${JSON.stringify(schema, null, 2)}\n`);
  console.log('wrote schemas/compare-report.schema.json and schemas/replay-report.schema.json');
}
