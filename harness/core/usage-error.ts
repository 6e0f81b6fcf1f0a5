/** A mistake in how the harness was called: exit code 2, no stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
