/**
 * The rejection reasons of the Shapeshifter specification (its "Message validation" table and
 * the failure outcomes of each use case), by code, with the phrase the specification uses, plus
 * the few reasons Gridshare adds where the specification allows "[other reasonable cause]".
 * A RejectionReason attribute carries one or more of them, separated by semicolons.
 */
export const REJECTION_PHRASES = {
  // Generic (Message validation)
  unknown_sender_domain: 'Unknown SenderDomain',
  invalid_sender_role: 'Invalid SenderRole',
  mismatch_sender_domain: 'Mismatch SenderDomain',
  invalid_message: 'Invalid Message',
  unknown_recipient_domain: 'Unknown RecipientDomain',
  duplicate_identifier: 'Duplicate Identifier',
  isp_duration_rejected: 'ISP duration rejected',
  time_zone_rejected: 'TimeZone rejected',
  invalid_congestion_point: 'Invalid CongestionPoint',
  unknown_reference: 'Unknown MessageID reference',
  reference_period_mismatch: 'Reference Period mismatch',
  reference_expired: 'Reference message expired',
  reference_revoked: 'Reference message revoked',
  isps_out_of_bounds: 'ISPs out of bounds',
  isp_conflict: 'ISP conflict',
  period_out_of_bounds: 'Period out of bounds',
  expiration_out_of_bounds: 'ExpirationDateTime out of bounds',
  // FlexRequest
  lacking_requested_disposition: 'Lacking Requested Disposition',
  requested_power_discrepancy: 'Requested Power discrepancy',
  power_discrepancy: 'Power discrepancy',
  subordinate_revision: 'Subordinate sequence number',
  // FlexOrder
  isp_mismatch: 'ISP mismatch',
  power_mismatch: 'Power mismatch',
  price_mismatch: 'Price mismatch',
  already_ordered: 'Offer already ordered',
  option_mismatch: 'Option mismatch',
  activation_factor_rejected: 'Activation factor below minimum',
  currency_mismatch: 'Currency mismatch',
  direct_order_not_agreed: 'Direct FlexOrder not agreed',
  // FlexOffer and FlexOfferRevocation (what a DSO answers)
  request_mismatch: 'Request mismatch',
  no_mutex_offer_support: 'No MutEx offer support',
  flexibility_procured: 'Flexibility procured',
  // D-Prognosis (what a DSO answers)
  lacking_isps: 'Lacking ISPs',
  // FlexSettlement
  missing_settlement_items: 'Missing Settlement Items',
  period_start_rejected: 'PeriodStart rejected',
  period_end_rejected: 'PeriodEnd rejected',
} as const;

export type RejectionCode = keyof typeof REJECTION_PHRASES;

export interface Rejection {
  readonly code: RejectionCode;
  /** What exactly was wrong, for the human reading the RejectionReason. */
  readonly detail: string;
}

export function rejection(code: RejectionCode, detail: string): Rejection {
  return { code, detail };
}

/** The RejectionReason attribute: `Phrase: detail; Phrase: detail`. */
export function rejectionReasonText(rejections: readonly Rejection[]): string {
  return rejections.map((r) => `${REJECTION_PHRASES[r.code]}: ${r.detail.replace(/;/g, ',')}`).join('; ');
}
