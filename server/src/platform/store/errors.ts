import { ConflictError } from '../../kernel/errors.js';

/** PostgreSQL's SQLSTATE for a unique-constraint violation. */
const UNIQUE_VIOLATION = '23505';

/** Runs a write and turns a unique-constraint violation into a ConflictError with a clear message. */
export async function conflictOnDuplicate<T>(message: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new ConflictError(message);
    throw error;
  }
}
