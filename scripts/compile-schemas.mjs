#!/usr/bin/env node
// Build step: every schema in schemas/ compiled once into a standalone validator (Ajv's own
// standalone code generation) under dist/schemas/, so a command does not spend ~200 ms compiling
// the snapshot schema at every start. Each file records the sha256 of the schema it was made from;
// src/adapters/json-schema.ts uses it only while that still matches, and compiles at run time otherwise.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import standaloneModule from 'ajv/dist/standalone/index.js';
import addFormatsModule from 'ajv-formats';

// Both are CommonJS: their default export may arrive wrapped.
const standaloneCode = standaloneModule.default ?? standaloneModule;
const addFormats = addFormatsModule.default ?? addFormatsModule;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'schemas');
mkdirSync(out, { recursive: true });
for (const name of readdirSync(join(root, 'schemas')).filter((f) => f.endsWith('.schema.json')).sort()) {
  const text = readFileSync(join(root, 'schemas', name), 'utf8');
  // The same options as the run-time compile in json-schema.ts: the same errors either way.
  const ajv = new Ajv({ allErrors: true, strict: true, code: { source: true } });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(text));
  const sha256 = createHash('sha256').update(text).digest('hex');
  writeFileSync(join(out, name.replace(/\.schema\.json$/, '.validate.cjs')), `${standaloneCode(ajv, validate)}\nmodule.exports.schemaSha256 = ${JSON.stringify(sha256)};\n`);
}
