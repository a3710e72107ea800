import { dayRange } from '../../kernel/calendar.js';
import { ispStartMs, layOut, periodGrid, sameUtcOffsets, type PeriodGrid } from './isp.js';
import { orderMismatches } from './matching.js';
import { agreedPrognosis } from './settlement.js';
import { rejection, rejectionReasonText, type Rejection } from './rejection-reasons.js';
import type { Participant } from './uftp/inbound.js';
import { mayReceive, maySend, type DPrognosis, type FlexOffer, type FlexOrder, type FlexRequest, type FlexSettlement, type IspRange, type MessageType, type UftpMessage, type UftpRole } from './uftp/messages.js';
import type { LocalDate } from './uftp/values.js';

/**
 * The rejection reasons of the specification as pure checks over an authenticated, schema-valid
 * message and the stored context it needs, passed in as plain data: the service (phase 2) loads
 * what `referenceOf` names and what the context asks for, calls `judgeIncoming`, and answers
 * with `respondTo(message, ids, verdict.reason)`. Each check is exported on its own too.
 */

export interface StoredReference {
  readonly message: UftpMessage;
  /** A FlexOffer revoked by a FlexOfferRevocation. */
  readonly revoked?: boolean;
  /** A FlexOffer that an accepted FlexOrder already bought. */
  readonly ordered?: boolean;
}

export interface InboundContext {
  readonly nowMs: number;
  /** Who we are: the domains we answer for and our role. */
  readonly self: { readonly domains: readonly string[]; readonly role: UftpRole };
  /** What the market agreed: the ISP length and the time zone of Periods. */
  readonly market: { readonly ispDurationMinutes: number; readonly timeZone: string };
  readonly addressBook: readonly Participant[];
  /** Congestion points at which we trade with the sender. */
  readonly congestionPoints: readonly string[];
  /** An earlier message from the same sender with the same MessageID. */
  readonly sameMessageId?: { readonly fingerprint: string } | undefined;
  /** The message this one refers to (see `referenceOf`), if it is known. */
  readonly reference?: StoredReference | undefined;
  /** The highest Revision accepted before from the sender for the same congestion point and Period. */
  readonly latestRevision?: number | undefined;
  /** A contract with the sender allows FlexOrders without a FlexOffer. */
  readonly directOrdersAgreed?: boolean;
  /** (direct FlexOrder) The D-Prognoses of ours the sender accepted for the order's congestion point and Period: its baseline. */
  readonly acceptedPrognoses?: readonly DPrognosis[];
  /** (DSO) Mutually exclusive offer options are supported at the congestion point. */
  readonly mutexOffersSupported?: boolean;
  /** (FlexSettlement) Orders we accepted from the sender that have not been settled yet. */
  readonly unsettledOrders?: readonly { readonly orderReference: string; readonly period: LocalDate }[];
}

export type Verdict =
  | { readonly outcome: 'accept' }
  /** Same MessageID and same content as a message accepted before: answer as before, process nothing. */
  | { readonly outcome: 'already_submitted' }
  | { readonly outcome: 'reject'; readonly rejections: readonly Rejection[]; readonly reason: string };

export interface JudgedMessage {
  readonly signedBy: { readonly domain: string; readonly role: UftpRole };
  readonly message: UftpMessage;
  readonly fingerprint: string;
}

/** Which stored message the service must load for `context.reference`, and under which attribute it is named. */
export function referenceOf(message: UftpMessage): { readonly type: MessageType; readonly messageId: string; readonly attribute: string } | undefined {
  const ref = (type: MessageType, messageId: string | undefined, attribute: string) => (messageId === undefined ? undefined : { type, messageId, attribute });
  switch (message.type) {
    case 'FlexOffer': return ref('FlexRequest', message.flexRequestMessageId, 'FlexRequestMessageID');
    case 'FlexOrder': return ref('FlexOffer', message.flexOfferMessageId, 'FlexOfferMessageID');
    case 'FlexOfferRevocation': return ref('FlexOffer', message.flexOfferMessageId, 'FlexOfferMessageID');
    case 'D-PrognosisResponse': return ref('D-Prognosis', message.dPrognosisMessageId, 'D-PrognosisMessageID');
    case 'FlexReservationUpdateResponse': return ref('FlexReservationUpdate', message.flexReservationUpdateMessageId, 'FlexReservationUpdateMessageID');
    case 'FlexRequestResponse': return ref('FlexRequest', message.flexRequestMessageId, 'FlexRequestMessageID');
    case 'FlexOfferResponse': return ref('FlexOffer', message.flexOfferMessageId, 'FlexOfferMessageID');
    case 'FlexOfferRevocationResponse': return ref('FlexOfferRevocation', message.flexOfferRevocationMessageId, 'FlexOfferRevocationMessageID');
    case 'FlexOrderResponse': return ref('FlexOrder', message.flexOrderMessageId, 'FlexOrderMessageID');
    case 'FlexSettlementResponse': return ref('FlexSettlement', message.flexSettlementMessageId, 'FlexSettlementMessageID');
    case 'MeteringResponse': return ref('Metering', message.meteringMessageId, 'MeteringMessageID');
    case 'AGRPortfolioUpdateResponse': return ref('AGRPortfolioUpdate', message.agrPortfolioUpdateMessageId, 'AGRPortfolioUpdateMessageID');
    case 'AGRPortfolioQueryResponse': return ref('AGRPortfolioQuery', message.agrPortfolioQueryMessageId, 'AGRPortfolioQueryMessageID');
    case 'DSOPortfolioUpdateResponse': return ref('DSOPortfolioUpdate', message.dsoPortfolioUpdateMessageId, 'DSOPortfolioUpdateResponseMessageID');
    case 'DSOPortfolioQueryResponse': return ref('DSOPortfolioQuery', message.dsoPortfolioQueryMessageId, 'DSOPortfolioQueryMessageID');
    default: return undefined;
  }
}

/** Runs every check that applies to the message's type. */
export function judgeIncoming(incoming: JudgedMessage, context: InboundContext): Verdict {
  const duplicate = checkDuplicate(incoming.fingerprint, context.sameMessageId);
  if (duplicate === 'already_submitted') return { outcome: 'already_submitted' };
  const rejections = duplicate ? [duplicate] : [
    ...checkSender(incoming, context.addressBook),
    ...checkRecipient(incoming.message, context.self),
    ...checkTypeSpecific(incoming.message, context),
  ];
  return rejections.length === 0 ? { outcome: 'accept' } : { outcome: 'reject', rejections, reason: rejectionReasonText(rejections) };
}

/** "Duplicate Identifier" for a reused MessageID with other content; "Already Submitted" for the same content. */
export function checkDuplicate(fingerprint: string, earlier: { readonly fingerprint: string } | undefined): Rejection | 'already_submitted' | undefined {
  if (!earlier) return undefined;
  if (earlier.fingerprint === fingerprint) return 'already_submitted';
  return rejection('duplicate_identifier', 'this MessageID was used before for a message with other content');
}

/** The inner message must come from whom the envelope says signed it, in a role that sends this type. */
export function checkSender(incoming: JudgedMessage, addressBook: readonly Participant[]): Rejection[] {
  const { signedBy, message } = incoming;
  const found: Rejection[] = [];
  if (message.senderDomain !== signedBy.domain) {
    found.push(rejection('mismatch_sender_domain', `the message says ${message.senderDomain}, the SignedMessage ${signedBy.domain}`));
  } else if (!addressBook.some((p) => p.domain === message.senderDomain && p.role === signedBy.role)) {
    found.push(rejection('unknown_sender_domain', `${signedBy.role} ${message.senderDomain} is not known`));
  }
  if (!maySend(message.type, signedBy.role)) found.push(rejection('invalid_sender_role', `a ${signedBy.role} does not send ${message.type}`));
  return found;
}

export function checkRecipient(message: UftpMessage, self: InboundContext['self']): Rejection[] {
  if (!self.domains.includes(message.recipientDomain)) return [rejection('unknown_recipient_domain', `${message.recipientDomain} is not served here`)];
  if (!mayReceive(message.type, self.role)) return [rejection('invalid_message', `a ${self.role} does not receive ${message.type}`)];
  return [];
}

export function checkIspDuration(minutes: number, market: InboundContext['market']): Rejection[] {
  return minutes === market.ispDurationMinutes ? [] : [rejection('isp_duration_rejected', `ISP-Duration is ${minutes} minutes, the market's is ${market.ispDurationMinutes}`)];
}

/** The Period's ISP grid in the market's zone, after checking the message's TimeZone gives the same UTC offsets. */
export function checkTimeZone(period: LocalDate, timeZone: string, market: InboundContext['market']): { grid?: PeriodGrid; rejections: Rejection[] } {
  const grid = periodGrid(period, market.timeZone, market.ispDurationMinutes);
  if (!grid) return { rejections: [rejection('invalid_message', `Period ${period} cannot be divided into ${market.ispDurationMinutes}-minute ISPs`)] };
  if (!sameUtcOffsets(grid, timeZone)) return { grid, rejections: [rejection('time_zone_rejected', `${timeZone} has other UTC offsets than ${market.timeZone} on ${period}`)] };
  return { grid, rejections: [] };
}

export function checkCongestionPoint(congestionPoint: string, congestionPoints: readonly string[]): Rejection[] {
  return congestionPoints.includes(congestionPoint) ? [] : [rejection('invalid_congestion_point', `${congestionPoint} is not a congestion point we trade at with this sender`)];
}

/** At least one ISP, each inside the Period, none addressed twice. */
export function checkIsps(isps: readonly IspRange[], grid: PeriodGrid, what = 'the message'): Rejection[] {
  if (isps.length === 0) return [rejection('isps_out_of_bounds', `${what} has no ISP`)];
  const { conflicts, outOfBounds } = layOut(isps, grid.count);
  const found: Rejection[] = [];
  if (outOfBounds.length > 0) {
    const first = outOfBounds[0]!;
    found.push(rejection('isps_out_of_bounds', `${what}: ISP ${first.start} (duration ${first.duration}) is outside 1–${grid.count} of ${grid.period}`));
  }
  if (conflicts.length > 0) found.push(rejection('isp_conflict', `${what}: ISP ${conflicts.slice(0, 5).join(', ')}${conflicts.length > 5 ? ', …' : ''} addressed more than once`));
  return found;
}

/** A Period already over cannot be planned, offered or ordered. */
export function checkPeriodNotPast(grid: PeriodGrid, nowMs: number): Rejection[] {
  return grid.endMs <= nowMs ? [rejection('period_out_of_bounds', `Period ${grid.period} is over`)] : [];
}

/** ExpirationDateTime neither past nor after the end of the last ISP the message is about. */
export function checkExpiration(expirationMs: number, isps: readonly IspRange[], grid: PeriodGrid, nowMs: number): Rejection[] {
  if (expirationMs <= nowMs) return [rejection('expiration_out_of_bounds', 'ExpirationDateTime has passed')];
  const lastIsp = Math.min(grid.count, Math.max(...isps.map((i) => i.start + i.duration - 1)));
  const lastEnd = ispStartMs(grid, lastIsp + 1);
  return expirationMs > lastEnd ? [rejection('expiration_out_of_bounds', `ExpirationDateTime is after the end of ISP ${lastIsp}`)] : [];
}

/** The referenced message exists between the same parties, is of the right type, not revoked, not expired, and about the same Period. */
export function checkReference(message: UftpMessage, reference: StoredReference | undefined, nowMs: number): Rejection[] {
  const named = referenceOf(message);
  if (!named) return [];
  const stored = reference?.message;
  const sameParties = stored !== undefined
    && ((stored.senderDomain === message.recipientDomain && stored.recipientDomain === message.senderDomain)
      || (stored.senderDomain === message.senderDomain && stored.recipientDomain === message.recipientDomain));
  if (!stored || stored.type !== named.type || stored.messageId !== named.messageId || !sameParties) {
    return [rejection('unknown_reference', `${named.attribute} ${named.messageId} is not known`)];
  }
  const found: Rejection[] = [];
  if (reference?.revoked) found.push(rejection('reference_revoked', `${named.type} ${named.messageId} was revoked`));
  if ('expirationDateTime' in stored && stored.expirationDateTime <= nowMs) found.push(rejection('reference_expired', `${named.type} ${named.messageId} has expired`));
  if ('period' in stored && 'period' in message && stored.period !== message.period) {
    found.push(rejection('reference_period_mismatch', `${named.type} ${named.messageId} is for ${stored.period}, this message for ${message.period}`));
  }
  return found;
}

/** Checks of a message that carries a Period of ISPs: duration, zone, congestion point, ISPs, Period. */
function checkFlexEnvelope(message: DPrognosis | FlexRequest | FlexOffer | FlexOrder | Extract<UftpMessage, { type: 'FlexReservationUpdate' }>, context: InboundContext, isps: ReadonlyArray<readonly IspRange[]>): { grid?: PeriodGrid; rejections: Rejection[] } {
  const found = [...checkIspDuration(message.ispDurationMinutes, context.market), ...checkCongestionPoint(message.congestionPoint, context.congestionPoints)];
  const zone = checkTimeZone(message.period, message.timeZone, context.market);
  found.push(...zone.rejections);
  if (zone.grid && found.every((r) => r.code !== 'isp_duration_rejected')) {
    isps.forEach((list, index) => found.push(...checkIsps(list, zone.grid!, isps.length > 1 ? `option ${index + 1}` : 'the message')));
    found.push(...checkPeriodNotPast(zone.grid, context.nowMs));
  }
  return { ...(zone.grid ? { grid: zone.grid } : {}), rejections: found };
}

function checkTypeSpecific(message: UftpMessage, context: InboundContext): Rejection[] {
  switch (message.type) {
    case 'FlexRequest': return checkFlexRequest(message, context);
    case 'FlexOrder': return checkFlexOrder(message, context);
    case 'FlexOffer': return checkFlexOffer(message, context);
    case 'FlexOfferRevocation': {
      const found = checkReference(message, context.reference, context.nowMs).filter((r) => r.code !== 'reference_expired');
      if (found.length === 0 && context.reference?.ordered) found.push(rejection('flexibility_procured', `FlexOffer ${message.flexOfferMessageId} has been ordered`));
      return found;
    }
    case 'D-Prognosis': {
      const { grid, rejections } = checkFlexEnvelope(message, context, [message.isps]);
      if (grid && layOut(message.isps, grid.count).byIsp.size < grid.count) rejections.push(rejection('lacking_isps', `the prognosis does not cover all ${grid.count} ISPs of ${grid.period}`));
      rejections.push(...checkRevision(message.revision, context.latestRevision));
      return rejections;
    }
    case 'FlexReservationUpdate': return checkFlexEnvelope(message, context, [message.isps]).rejections;
    case 'FlexSettlement': return checkFlexSettlement(message, context);
    default: return checkReference(message, context.reference, context.nowMs);
  }
}

function checkRevision(revision: number, latest: number | undefined): Rejection[] {
  return latest !== undefined && revision <= latest ? [rejection('subordinate_revision', `Revision ${revision} is not above ${latest}, accepted before`)] : [];
}

export function checkFlexRequest(message: FlexRequest, context: InboundContext): Rejection[] {
  const { grid, rejections } = checkFlexEnvelope(message, context, [message.isps]);
  if (grid) rejections.push(...checkExpiration(message.expirationDateTime, message.isps, grid, context.nowMs));
  const requested = message.isps.filter((isp) => isp.disposition === 'Requested');
  if (requested.length === 0) rejections.push(rejection('lacking_requested_disposition', 'no ISP has Disposition=Requested'));
  const undirected = requested.find((isp) => isp.minPower < 0 && isp.maxPower > 0);
  if (undirected) rejections.push(rejection('requested_power_discrepancy', `ISP ${undirected.start} is requested in no direction (MinPower ${undirected.minPower} < 0 < MaxPower ${undirected.maxPower})`));
  const inverted = message.isps.find((isp) => isp.minPower > isp.maxPower);
  if (inverted) rejections.push(rejection('power_discrepancy', `ISP ${inverted.start} has MinPower ${inverted.minPower} above MaxPower ${inverted.maxPower}`));
  rejections.push(...checkRevision(message.revision, context.latestRevision));
  return rejections;
}

/**
 * A FlexOrder names an offer (and must then match it exactly) or, where 3.1 allows it and a
 * contract says so, is a direct order without one.
 */
export function checkFlexOrder(order: FlexOrder, context: InboundContext): Rejection[] {
  const { rejections } = checkFlexEnvelope(order, context, [order.isps]);
  const direct = order.unsolicited ?? order.flexOfferMessageId === undefined;
  if (direct) {
    if (order.flexOfferMessageId !== undefined) rejections.push(rejection('invalid_message', 'an unsolicited FlexOrder names a FlexOffer'));
    else if (!context.directOrdersAgreed) rejections.push(rejection('direct_order_not_agreed', 'no contract allows FlexOrders without a FlexOffer'));
    else rejections.push(...checkDirectBaseline(order, context.acceptedPrognoses ?? []));
    return rejections;
  }
  if (order.flexOfferMessageId === undefined) {
    rejections.push(rejection('invalid_message', 'a solicited FlexOrder must name its FlexOffer'));
    return rejections;
  }
  const referenceProblems = checkReference(order, context.reference, context.nowMs);
  rejections.push(...referenceProblems);
  if (referenceProblems.some((r) => r.code === 'unknown_reference')) return rejections;
  if (context.reference?.ordered) rejections.push(rejection('already_ordered', `FlexOffer ${order.flexOfferMessageId} has been ordered already`));
  const offer = context.reference!.message as FlexOffer;
  rejections.push(...orderMismatches(order, offer).filter((m) => !rejections.some((r) => r.code === m.code)));
  return rejections;
}

/**
 * A direct order is measured against a D-Prognosis the DSO accepted (there is no offer's baseline):
 * the one it names must be one of those (else Unknown MessageID reference), and without a name
 * there must be one for its congestion point and Period.
 */
function checkDirectBaseline(order: FlexOrder, accepted: readonly DPrognosis[]): Rejection[] {
  if (agreedPrognosis(accepted, order)) return [];
  return order.dPrognosisMessageId === undefined
    ? [rejection('invalid_message', `no D-Prognosis for ${order.congestionPoint} on ${order.period} was accepted: a direct FlexOrder has no baseline`)]
    : [rejection('unknown_reference', `D-PrognosisMessageID ${order.dPrognosisMessageId} is no D-Prognosis for ${order.congestionPoint} on ${order.period} you accepted`)];
}

/** What a DSO checks of a FlexOffer (the DSO simulator uses it). */
export function checkFlexOffer(offer: FlexOffer, context: InboundContext): Rejection[] {
  const { grid, rejections } = checkFlexEnvelope(offer, context, offer.offerOptions.map((o) => o.isps));
  if (grid) rejections.push(...checkExpiration(offer.expirationDateTime, offer.offerOptions.flatMap((o) => o.isps), grid, context.nowMs));
  if (offer.offerOptions.length > 1 && context.mutexOffersSupported === false) {
    rejections.push(rejection('no_mutex_offer_support', `${offer.offerOptions.length} mutually exclusive options are not supported`));
  }
  const solicited = !(offer.unsolicited ?? offer.flexRequestMessageId === undefined);
  if (solicited !== (offer.flexRequestMessageId !== undefined)) {
    rejections.push(rejection('invalid_message', solicited ? 'a solicited FlexOffer must name its FlexRequest' : 'an unsolicited FlexOffer names a FlexRequest'));
    return rejections;
  }
  if (!solicited) return rejections;
  const referenceProblems = checkReference(offer, context.reference, context.nowMs);
  rejections.push(...referenceProblems);
  if (referenceProblems.length === 0) {
    const request = context.reference!.message as FlexRequest;
    const requested = layOut(request.isps.filter((i) => i.disposition === 'Requested'), Number.MAX_SAFE_INTEGER).byIsp;
    const offered = offer.offerOptions.flatMap((o) => [...layOut(o.isps, Number.MAX_SAFE_INTEGER).byIsp.keys()]);
    if (!offered.some((isp) => requested.has(isp))) rejections.push(rejection('request_mismatch', 'the offer covers none of the requested ISPs'));
  }
  return rejections;
}

/**
 * A FlexSettlement covers a period that is over, lists every order of that period we have not
 * been paid for yet, and nothing outside it.
 */
export function checkFlexSettlement(settlement: FlexSettlement, context: InboundContext): Rejection[] {
  const found: Rejection[] = [];
  const start = dayRange(settlement.periodStart, context.market.timeZone);
  const end = dayRange(settlement.periodEnd, context.market.timeZone);
  if (!start || !end) return [rejection('invalid_message', 'PeriodStart or PeriodEnd is not a day')];
  if (start.startMs > end.startMs) found.push(rejection('period_end_rejected', `PeriodEnd ${settlement.periodEnd} is before PeriodStart ${settlement.periodStart}`));
  else if (end.endMs > context.nowMs) found.push(rejection('period_end_rejected', `PeriodEnd ${settlement.periodEnd} is not over yet`));
  const inPeriod = (day: LocalDate) => day >= settlement.periodStart && day <= settlement.periodEnd;
  const earlier = (context.unsettledOrders ?? []).filter((o) => o.period < settlement.periodStart);
  if (earlier.length > 0) found.push(rejection('period_start_rejected', `order ${earlier[0]!.orderReference} of ${earlier[0]!.period}, before PeriodStart, is not settled yet`));

  settlement.flexOrderSettlements.forEach((item, index) => {
    const what = `FlexOrderSettlement ${item.orderReference ?? index + 1}`;
    if (!inPeriod(item.period)) {
      found.push(rejection('period_out_of_bounds', `${what} is for ${item.period}, outside ${settlement.periodStart}–${settlement.periodEnd}`));
      return;
    }
    found.push(...checkCongestionPoint(item.congestionPoint, context.congestionPoints));
    const grid = periodGrid(item.period, context.market.timeZone, context.market.ispDurationMinutes);
    if (grid) found.push(...checkIsps(item.isps, grid, what));
  });
  const listed = new Set(settlement.flexOrderSettlements.map((item) => item.orderReference));
  const missing = (context.unsettledOrders ?? []).filter((o) => inPeriod(o.period) && !listed.has(o.orderReference));
  if (missing.length > 0) found.push(rejection('missing_settlement_items', `orders ${missing.map((o) => o.orderReference).join(', ')} are not included`));
  return found;
}
