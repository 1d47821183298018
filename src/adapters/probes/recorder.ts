// The recorder's side of the host: where its folder is, and reading what it wrote. The file comes
// from the training's own interpreter, so it is untrusted: bounded in size, parsed, and validated
// against schemas/run-record.schema.json before anything uses it.
import { fileURLToPath } from 'node:url';
import type { RunRecording } from '../../core/recording.js';
import { RECORD_FORMAT } from '../../core/recording.js';
import { readOptionalText } from '../fs.js';
import { schemaProblems } from '../json-schema.js';

/** The folder put first on the training's PYTHONPATH: it holds the recorder's sitecustomize. */
export const RECORDER_DIR = fileURLToPath(new URL('../../../python/snapshot_recorder', import.meta.url));
const RECORD_SCHEMA = fileURLToPath(new URL('../../../schemas/run-record.schema.json', import.meta.url));
/** A record larger than this is not a record (a model with ten thousand layers is 2 MB). */
const MAX_RECORD_BYTES = 32 * 1024 * 1024;

/** The recorder's deepest value is a structure digest six levels down in a fit: far above it is hostile. */
const MAX_DEPTH = 32;

/** Whether value holds arrays or objects more than `limit` levels deep; walked without recursion. */
export function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [next, depth] = stack.pop() as [unknown, number];
    if (typeof next !== 'object' || next === null) continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(next) ? next : Object.values(next)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

export type RecordReading = { record: RunRecording; problem: null } | { record: null; problem: string };

/** What the recorder wrote to `file`, or why there is nothing to use (never thrown: a recorder failure never fails the training). */
export async function readRecording(file: string): Promise<RecordReading> {
  let text: string | null;
  try {
    text = await readOptionalText(file, 'the run record', MAX_RECORD_BYTES);
  } catch (error) {
    return { record: null, problem: `the record ${file} could not be read: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (text === null) return { record: null, problem: 'the recorder wrote no record (the training did not start Python, or left through os._exec or a kill)' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { record: null, problem: `the record is not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const format = typeof value === 'object' && value !== null ? (value as { recorder?: unknown }).recorder : undefined;
  if (format !== RECORD_FORMAT) return { record: null, problem: `the record is in format ${JSON.stringify(format)}, this tool reads ${RECORD_FORMAT}` };
  // A value nested thousands deep would overflow the validator's stack (and every later walk of it).
  if (nestedDeeperThan(value, MAX_DEPTH)) return { record: null, problem: `the record nests deeper than ${MAX_DEPTH} levels: it is not the recorder's` };
  let problems: string[];
  try {
    problems = schemaProblems(RECORD_SCHEMA, value);
  } catch (error) {
    return { record: null, problem: `the record could not be checked against its schema: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (problems.length > 0) return { record: null, problem: `the record does not match its schema: ${problems.slice(0, 3).join('; ')}` };
  return { record: value as RunRecording, problem: null };
}
