/**
 * Typed failures of the domain. The HTTP layer maps `status` and `code` to the JSON
 * error body `{ error, message }`; nothing matches on message strings.
 */
export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
}

export class BadRequestError extends AppError {
  readonly status = 400;
  readonly code = 'bad_request';
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

export class UnauthorizedError extends AppError {
  readonly status = 401;
  readonly code = 'unauthorized';
  constructor(message = 'authentication required') {
    super(message);
  }
}

export class ForbiddenError extends AppError {
  readonly status = 403;
  readonly code = 'forbidden';
  constructor(message = 'not allowed') {
    super(message);
  }
}

/** Also used when a resource exists but the caller may not know that it does. */
export class NotFoundError extends AppError {
  readonly status = 404;
  readonly code = 'not_found';
  constructor(what: string) {
    super(`${what} not found`);
  }
}

export class ConflictError extends AppError {
  readonly status = 409;
  readonly code = 'conflict';
}

export class TooManyRequestsError extends AppError {
  readonly status = 429;
  readonly code = 'too_many_requests';
}

/** A request body in a format the route does not take (e.g. JSON where an XML message is expected). */
export class UnsupportedMediaTypeError extends AppError {
  readonly status = 415;
  readonly code = 'unsupported_media_type';
}

/** The database cannot be reached (connection lost, server restarting): nothing was acknowledged, try again. */
export class DatabaseUnavailableError extends AppError {
  readonly status = 503;
  readonly code = 'database_unavailable';
  constructor(cause: string) {
    super(`the database is unavailable (${cause}); nothing was acknowledged, try again`);
  }
}
