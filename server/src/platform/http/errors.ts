import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ProofError } from '@gridshare/contract/proof/errors';
import { DomainError, InternalError, type ErrorCode } from '../../kernel/errors.js';
import { DATE_RANGE_TEXT } from '../../kernel/time.js';

export interface ErrorBody {
  error: string;
  message: string;
  field?: string;
  reason?: string;
  /** The limit a `quota_exceeded` refusal names (server/src/quotas). */
  quota?: string;
}

interface AjvIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** `body/meteringPoint/name` style path of the offending field, so a client knows what to fix. */
function describeValidation(context: string | undefined, issue: AjvIssue): { field: string; message: string } {
  const base = `${context ?? 'request'}${issue.instancePath}`;
  if (issue.keyword === 'additionalProperties') {
    const field = `${base}/${String(issue.params.additionalProperty)}`;
    return { field, message: `${field}: unknown field` };
  }
  if (issue.keyword === 'required') {
    const field = `${base}/${String(issue.params.missingProperty)}`;
    return { field, message: `${field}: is required` };
  }
  if (issue.keyword === 'format' && (issue.params.format === 'date-time' || issue.params.format === 'date')) {
    const example = issue.params.format === 'date' ? '2026-01-01' : '2026-01-01T00:00:00Z';
    return { field: base, message: `${base}: must be an ISO 8601 ${issue.params.format} like ${example}, ${DATE_RANGE_TEXT}` };
  }
  return { field: base, message: `${base}: ${issue.message ?? 'is invalid'}` };
}

/** The one table from a domain error's code to its HTTP status. */
const STATUS_OF: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  unavailable: 503,
  internal: 500,
};

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof InternalError) request.log.error({ ...error.context }, error.message);
  // A refused proof (the contract's, shared with the browser, so no DomainError) is a bad request like any other.
  if (error instanceof DomainError || error instanceof ProofError) {
    const body: ErrorBody = { error: error.code, message: error.message };
    if ('field' in error && typeof error.field === 'string') body.field = error.field;
    if ('reason' in error && typeof error.reason === 'string') body.reason = error.reason;
    if ('quota' in error && typeof error.quota === 'string') body.quota = error.quota;
    if ('retryAfterSeconds' in error && typeof error.retryAfterSeconds === 'number') void reply.header('retry-after', String(error.retryAfterSeconds));
    void reply.status(STATUS_OF[error.code]).send(body);
    return;
  }
  if (error.validation && error.validation.length > 0) {
    const { field, message } = describeValidation(error.validationContext, error.validation[0] as AjvIssue);
    void reply.status(400).send({ error: 'bad_request', message, field } satisfies ErrorBody);
    return;
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const message = error instanceof SyntaxError ? `malformed JSON body: ${error.message}` : error.message;
    void reply.status(status).send({ error: STATUS_CODES[status] ?? 'bad_request', message } satisfies ErrorBody);
    return;
  }
  request.log.error({ err: error }, 'unhandled error');
  void reply.status(500).send({ error: 'internal', message: 'internal server error' } satisfies ErrorBody);
}
