/**
 * Typed failures of the domain, as values with a machine-readable code and a human-readable
 * message; nothing matches on message strings. They carry no transport status: the HTTP layer
 * maps codes to statuses in one table, an MQTT command or a UFTP reply maps them its own way.
 */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_requests'
  | 'unavailable'
  | 'internal';

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
}

/** Input that cannot be taken as it is; `field` names the offending part (`body/name`). */
export class BadRequestError extends DomainError {
  readonly code = 'bad_request';
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

export class UnauthorizedError extends DomainError {
  readonly code = 'unauthorized';
  constructor(message = 'authentication required') {
    super(message);
  }
}

export class ForbiddenError extends DomainError {
  readonly code = 'forbidden';
  constructor(message = 'not allowed') {
    super(message);
  }
}

/** Also used when a resource exists but the caller may not know that it does. */
export class NotFoundError extends DomainError {
  readonly code = 'not_found';
  constructor(what: string) {
    super(`${what} not found`);
  }
}

export class ConflictError extends DomainError {
  readonly code = 'conflict';
}

export class PayloadTooLargeError extends DomainError {
  readonly code = 'payload_too_large';
}

/** Input in a format the receiver does not take (e.g. JSON where an XML message is expected). */
export class UnsupportedMediaTypeError extends DomainError {
  readonly code = 'unsupported_media_type';
}

export class TooManyRequestsError extends DomainError {
  readonly code = 'too_many_requests';
}

/** Something the work needs cannot be reached now (the database connection was lost): nothing was done or acknowledged; try again. */
export class UnavailableError extends DomainError {
  readonly code = 'unavailable';
}

/**
 * A fault of Gridshare's own, not of the request (a file it wrote fails its schema): said plainly
 * rather than as "internal server error", since it names nothing secret, and logged at error
 * level with `context` (which community, which period, what is wrong) for whoever must fix it.
 */
export class InternalError extends DomainError {
  readonly code = 'internal';
  constructor(message: string, readonly context: Readonly<Record<string, string>>) {
    super(message);
  }
}
