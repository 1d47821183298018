// A whole file's bytes, for readers that need all of it at once and must decide themselves how to
// decode it (a CSV table: strictly as UTF-8, never with replacement characters).
import { readFile, stat } from 'node:fs/promises';
import { UserInputError } from '../errors.js';
import { describeFsError } from './fs.js';

/** A whole file; one larger than maxBytes is refused rather than read into memory. */
export async function readWholeFile(path: string, what: string, maxBytes = 256 * 1024 * 1024): Promise<Buffer> {
  try {
    const { size } = await stat(path);
    if (size > maxBytes) {
      throw new UserInputError('FILE_TOO_LARGE', `${what} ${path} is ${size} bytes, more than the ${maxBytes} this reader holds in memory`, {
        hint: 'Compare it by bytes instead (a policy rule for it), or split it.',
      });
    }
    return await readFile(path);
  } catch (error) {
    if (error instanceof UserInputError) throw error;
    throw new UserInputError('UNREADABLE_FILE', `cannot read ${what} ${path}: ${describeFsError(error)}`, {
      hint: 'Check the path and its permissions.',
      cause: error,
    });
  }
}
