export {
  DomainError as AppError, BadRequestError, ConflictError, ForbiddenError, NotFoundError, PayloadTooLargeError,
  TooManyRequestsError, UnauthorizedError, UnsupportedMediaTypeError,
} from './kernel/errors.js';
