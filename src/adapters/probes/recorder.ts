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
  const problems = schemaProblems(RECORD_SCHEMA, value);
  if (problems.length > 0) return { record: null, problem: `the record does not match its schema: ${problems.slice(0, 3).join('; ')}` };
  return { record: value as RunRecording, problem: null };
}
