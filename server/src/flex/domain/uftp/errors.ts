import { DomainError, type ErrorCode } from '../../../kernel/errors.js';

/**
 * Why a message was refused before it could be answered in UFTP terms. The specification
 * answers these on the transport (HTTP status), not with a signed response message, because
 * until the payload is known to be valid and authentic there is nobody to answer:
 *
 *   malformed_xml, forbidden_xml, not_schema_valid, unsupported_version, invalid_message → 400
 *   too_large → 413, bad_signature → 401, unknown_sender → 401 (or 419 while a lookup is pending),
 *   barred_sender → 403
 */
export type TransportRefusal =
  | 'malformed_xml'
  | 'forbidden_xml'
  | 'too_large'
  | 'not_schema_valid'
  | 'unsupported_version'
  | 'invalid_message'
  | 'unknown_sender'
  | 'barred_sender'
  | 'bad_signature';

const ERROR_CODES: Record<TransportRefusal, ErrorCode> = {
  malformed_xml: 'bad_request',
  forbidden_xml: 'bad_request',
  too_large: 'payload_too_large',
  not_schema_valid: 'bad_request',
  unsupported_version: 'bad_request',
  invalid_message: 'bad_request',
  unknown_sender: 'unauthorized',
  barred_sender: 'forbidden',
  bad_signature: 'unauthorized',
};

export class UftpTransportError extends DomainError {
  readonly code: ErrorCode;
  constructor(readonly refusal: TransportRefusal, message: string) {
    super(message);
    this.code = ERROR_CODES[refusal];
  }
}

/** Gridshare asked to write something UFTP cannot carry (a programming error, never input). */
export class UftpEncodeError extends Error {}
