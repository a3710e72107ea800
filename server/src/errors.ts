export {
  DomainError as AppError, BadRequestError, ConflictError, ForbiddenError, NotFoundError, PayloadTooLargeError,
  TooManyRequestsError, UnauthorizedError, UnavailableError, UnsupportedMediaTypeError,
} from './kernel/errors.js';
