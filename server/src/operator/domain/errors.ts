import { BadRequestError } from '../../kernel/errors.js';

/**
 * Why an EDA message was refused. A message is refused whole: the operator's figures are either
 * read exactly as sent or not at all, never partly or by guessing.
 */
export type EdaErrorReason =
  /** Larger than the size limit, or deeper / more elements than any ConsumptionRecord has. */
  | 'too_large'
  | 'not_utf8'
  | 'malformed_xml'
  /** A DOCTYPE: EDA messages have none, and refusing it rules out entity expansion and external entities. */
  | 'forbidden_xml'
  | 'not_a_consumption_record'
  | 'unsupported_version'
  | 'missing_element'
  | 'repeated_element'
  /** An identifier or code that does not have its documented form (Zählpunkt, message id, meter code, …). */
  | 'invalid_value'
  /** A time without offset, an impossible date, or a quarter hour not on a UTC quarter-hour boundary. */
  | 'bad_time'
  /** MeteringIntervall other than QH (15 minutes). */
  | 'unsupported_interval'
  /** UOM other than KWH. */
  | 'unsupported_unit'
  /** A quantity that is not a decimal of at most 10 integer and 6 fraction digits (NaN, 1e3, 1,5, …). */
  | 'bad_quantity'
  /** A negative energy where the code cannot be negative. */
  | 'negative_quantity'
  /** More than 2^31 − 1 Wh in a quarter hour (8.6 GW), which no community connection carries. */
  | 'implausible_quantity'
  /** MeteringPeriodEnd − MeteringPeriodStart is not NumberOfMeteringIntervall quarter hours. */
  | 'period_mismatch'
  /** An EnergyData block with a number of positions other than NumberOfMeteringIntervall. */
  | 'count_mismatch'
  /** A position outside its Energy block's period, or whose DTT is not DTF + 15 minutes. */
  | 'position_outside_period'
  /** The same meter code for the same quarter hour twice in one message. */
  | 'duplicate_position';

/** A refused EDA message: HTTP 400 `bad_request`, `field` names the place in the message. */
export class EdaMessageError extends BadRequestError {
  constructor(readonly reason: EdaErrorReason, message: string, field?: string) {
    super(field ? `${field}: ${message}` : message, field);
    this.name = 'EdaMessageError';
  }
}

/** Inputs to the mapping or reconciliation that no parsed message can produce (a caller's mistake). */
export class EdaInputError extends BadRequestError {
  constructor(message: string, field?: string) {
    super(message, field);
    this.name = 'EdaInputError';
  }
}
