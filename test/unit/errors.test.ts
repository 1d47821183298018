import { describe, expect, it } from '@jest/globals';
import { ExitCode, InternalError, UserInputError } from '../../src/errors.js';

describe('error taxonomy', () => {
  it('keeps user errors as they are and wraps anything else as a bug', () => {
    const user = new UserInputError('BAD_PYTHON', '--python /x is not a Python interpreter', { hint: 'pass a python' });
    expect(InternalError.from(user)).toBe(user);
    expect(user.exitCode).toBe(ExitCode.badInput);
    const wrapped = InternalError.from(new TypeError('boom'));
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.exitCode).toBe(ExitCode.internal);
    expect(wrapped.message).toBe('boom');
  });
});
