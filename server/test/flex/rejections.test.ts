import { describe, expect, it } from 'vitest';
import { fingerprintOf, type Participant } from '../../src/flex/domain/uftp/inbound.js';
import type { DPrognosis, FlexOfferRevocation, FlexOrder, FlexSettlement, UftpMessage, UftpRole } from '../../src/flex/domain/uftp/messages.js';
import { judgeIncoming, referenceOf, type InboundContext, type JudgedMessage } from '../../src/flex/domain/rejections.js';
import { REJECTION_PHRASES, rejectionReasonText, type RejectionCode } from '../../src/flex/domain/rejection-reasons.js';
import { scaledOption } from '../../src/flex/domain/matching.js';
import { AGR, CONGESTION_POINT, DSO, flexOffer, flexOrder, flexRequest, id, NOW, oneOfEach, PERIOD, TIME_ZONE } from './support.js';

const addressBook: Participant[] = [
  { domain: DSO, role: 'DSO', publicKeys: [] },
  { domain: AGR, role: 'AGR', publicKeys: [] },
];

function context(role: UftpRole, overrides: Partial<InboundContext> = {}): InboundContext {
  return {
    nowMs: NOW,
    self: { domains: [role === 'AGR' ? AGR : DSO], role },
    market: { ispDurationMinutes: 15, timeZone: TIME_ZONE },
    addressBook,
    congestionPoints: [CONGESTION_POINT],
    ...overrides,
  };
}

const signed = (message: UftpMessage, by: { domain: string; role: UftpRole } = message.senderDomain === DSO ? { domain: DSO, role: 'DSO' } : { domain: AGR, role: 'AGR' }): JudgedMessage => ({
  signedBy: by, message, fingerprint: fingerprintOf(message),
});

interface Case {
  readonly incoming: JudgedMessage;
  readonly context: InboundContext;
}

const request = flexRequest();
const offer = flexOffer(request);
const order = flexOrder(offer);
/** An order (changed) against a stored reference; `null` for none. */
const orderCase = (changes: Partial<FlexOrder>, reference: InboundContext['reference'] | null = { message: offer }, nowMs = NOW): Case => ({
  incoming: signed({ ...order, ...changes }),
  context: context('AGR', { reference: reference ?? undefined, nowMs }),
});
const settlement = oneOfEach().find((m): m is FlexSettlement => m.type === 'FlexSettlement')!;
const AFTER_JUNE = Date.UTC(2026, 6, 2);
const settlementCase = (changes: Partial<FlexSettlement>, unsettled: InboundContext['unsettledOrders'] = [{ orderReference: order.orderReference, period: PERIOD }]): Case => ({
  incoming: signed({ ...settlement, ...changes }),
  context: context('AGR', { nowMs: AFTER_JUNE, unsettledOrders: unsettled }),
});
const prognosis = oneOfEach().find((m): m is DPrognosis => m.type === 'D-Prognosis')!;

/** One case per rejection reason: the message and context that must be refused for exactly that reason. */
const CASES: Record<RejectionCode, () => Case> = {
  unknown_sender_domain: () => ({ incoming: signed(request), context: context('AGR', { addressBook: addressBook.filter((p) => p.domain !== DSO) }) }),
  invalid_sender_role: () => ({ incoming: signed(request, { domain: DSO, role: 'AGR' }), context: context('AGR', { addressBook: [...addressBook, { domain: DSO, role: 'AGR', publicKeys: [] }] }) }),
  mismatch_sender_domain: () => ({ incoming: signed({ ...request, senderDomain: 'other-dso.example.org' }, { domain: DSO, role: 'DSO' }), context: context('AGR') }),
  invalid_message: () => ({ incoming: signed({ ...oneOfEach().find((m) => m.type === 'DSOPortfolioUpdate')!, recipientDomain: AGR }, { domain: DSO, role: 'DSO' }), context: context('AGR') }),
  unknown_recipient_domain: () => ({ incoming: signed({ ...request, recipientDomain: 'another-community.example.org' }), context: context('AGR') }),
  duplicate_identifier: () => ({ incoming: signed(request), context: context('AGR', { sameMessageId: { fingerprint: fingerprintOf({ ...request, revision: 7 }) } }) }),
  isp_duration_rejected: () => ({ incoming: signed({ ...request, ispDurationMinutes: 30, isps: [{ disposition: 'Requested', minPower: -5000, maxPower: -1000, start: 37, duration: 2 }] }), context: context('AGR') }),
  time_zone_rejected: () => ({ incoming: signed({ ...request, timeZone: 'Europe/London' }), context: context('AGR') }),
  invalid_congestion_point: () => ({ incoming: signed({ ...request, congestionPoint: 'ea1.2026-01.org.example.dso:feeder-9' }), context: context('AGR') }),
  unknown_reference: () => orderCase({}, null),
  reference_period_mismatch: () => orderCase({ period: '2026-06-02' }),
  reference_expired: () => orderCase({}, { message: { ...offer, expirationDateTime: NOW - 1 } }),
  reference_revoked: () => orderCase({}, { message: offer, revoked: true }),
  isps_out_of_bounds: () => ({ incoming: signed({ ...request, isps: [...request.isps.slice(0, 2), { disposition: 'Available', minPower: 0, maxPower: 1000, start: 77, duration: 21 }] }), context: context('AGR') }),
  isp_conflict: () => ({ incoming: signed({ ...request, isps: [...request.isps, { disposition: 'Available', minPower: 0, maxPower: 1000, start: 70, duration: 1 }] }), context: context('AGR') }),
  period_out_of_bounds: () => orderCase({}, { message: { ...offer, expirationDateTime: Date.UTC(2026, 5, 3) } }, Date.UTC(2026, 5, 2)),
  expiration_out_of_bounds: () => ({ incoming: signed({ ...request, expirationDateTime: NOW - 60_000 }), context: context('AGR') }),
  lacking_requested_disposition: () => ({ incoming: signed({ ...request, isps: request.isps.map((i) => ({ ...i, disposition: 'Available' as const })) }), context: context('AGR') }),
  requested_power_discrepancy: () => ({ incoming: signed({ ...request, isps: request.isps.map((i) => (i.disposition === 'Requested' ? { ...i, minPower: -1000, maxPower: 1000 } : i)) }), context: context('AGR') }),
  power_discrepancy: () => ({ incoming: signed({ ...request, isps: request.isps.map((i) => (i.start === 1 ? { ...i, minPower: 10, maxPower: -10 } : i)) }), context: context('AGR') }),
  subordinate_revision: () => ({ incoming: signed(request), context: context('AGR', { latestRevision: 1 }) }),
  isp_mismatch: () => orderCase({ isps: [{ power: -8000, start: 73, duration: 3 }] }),
  power_mismatch: () => orderCase({ isps: [{ power: -8000, start: 73, duration: 3 }, { power: -7000, start: 76, duration: 1 }] }),
  price_mismatch: () => orderCase({ price: 12_400_000_000n }),
  already_ordered: () => orderCase({}, { message: offer, ordered: true }),
  option_mismatch: () => orderCase({ optionReference: 'C' }),
  activation_factor_rejected: () => orderCase({ activationFactor: 40, ...scaledOption(offer.offerOptions[0]!, 40) }),
  currency_mismatch: () => orderCase({ currency: 'CHF' }),
  direct_order_not_agreed: () => orderCase({ unsolicited: true, flexOfferMessageId: undefined, optionReference: undefined }, null),
  request_mismatch: () => ({
    incoming: signed({ ...offer, offerOptions: [{ optionReference: 'A', price: 1_000_000_000n, minActivationFactor: 100, isps: [{ power: -1000, start: 80, duration: 4 }] }] }),
    context: context('DSO', { reference: { message: request } }),
  }),
  no_mutex_offer_support: () => ({ incoming: signed(offer), context: context('DSO', { reference: { message: request }, mutexOffersSupported: false }) }),
  flexibility_procured: () => ({
    incoming: signed({ type: 'FlexOfferRevocation', version: '3.1.0', senderDomain: AGR, recipientDomain: DSO, timeStamp: NOW, messageId: id(), conversationId: offer.conversationId, flexOfferMessageId: offer.messageId } satisfies FlexOfferRevocation),
    context: context('DSO', { reference: { message: offer, ordered: true } }),
  }),
  lacking_isps: () => ({ incoming: signed({ ...prognosis, isps: prognosis.isps.slice(0, 1) }), context: context('DSO') }),
  missing_settlement_items: () => settlementCase({}, [{ orderReference: order.orderReference, period: PERIOD }, { orderReference: 'ORD-2026-0002', period: '2026-06-15' }]),
  period_start_rejected: () => settlementCase({}, [{ orderReference: order.orderReference, period: PERIOD }, { orderReference: 'ORD-2026-0000', period: '2026-05-20' }]),
  period_end_rejected: () => settlementCase({ periodEnd: '2026-07-31' }),
};

describe('UFTP rejection reasons: one case each', () => {
  it('every reason of the catalogue has a case', () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(REJECTION_PHRASES).sort());
  });

  it.each(Object.entries(CASES) as Array<[RejectionCode, () => Case]>)('%s', (code, make) => {
    const { incoming, context: ctx } = make();
    const verdict = judgeIncoming(incoming, ctx);
    expect(verdict.outcome).toBe('reject');
    if (verdict.outcome !== 'reject') return;
    expect(verdict.rejections.map((r) => r.code)).toContain(code);
    expect(verdict.reason).toContain(REJECTION_PHRASES[code]);
  });
});

describe('UFTP: what must be accepted is accepted', () => {
  it('a valid FlexRequest, and a second revision above the first', () => {
    expect(judgeIncoming(signed(request), context('AGR'))).toEqual({ outcome: 'accept' });
    expect(judgeIncoming(signed({ ...request, revision: 2 }), context('AGR', { latestRevision: 1 }))).toEqual({ outcome: 'accept' });
  });

  it('the same message again is "Already Submitted", not a duplicate', () => {
    expect(judgeIncoming(signed(request), context('AGR', { sameMessageId: { fingerprint: fingerprintOf(request) } }))).toEqual({ outcome: 'already_submitted' });
  });

  it('a TimeZone with the same UTC offsets as the market’s is not rejected', () => {
    expect(judgeIncoming(signed({ ...request, timeZone: 'Europe/Berlin' }), context('AGR'))).toEqual({ outcome: 'accept' });
  });

  it('an order copying its offer, each option, and a partial activation rounded either way', () => {
    expect(judgeIncoming(signed(order), context('AGR', { reference: { message: offer } }))).toEqual({ outcome: 'accept' });
    const b = offer.offerOptions[1]!;
    expect(judgeIncoming(signed({ ...order, optionReference: 'B', price: b.price, isps: b.isps }), context('AGR', { reference: { message: offer } }))).toEqual({ outcome: 'accept' });
    // 0.67 × −8000 W = −5360 W; 0.67 × 12.5 = 8.375.
    const partial = scaledOption(offer.offerOptions[0]!, 67);
    expect(partial.price).toBe(8_375_000_000n);
    expect(partial.isps[0]!.power).toBe(-5360);
    expect(judgeIncoming(signed({ ...order, activationFactor: 67, ...partial }), context('AGR', { reference: { message: offer } }))).toEqual({ outcome: 'accept' });
    const odd = { ...offer, offerOptions: [{ ...offer.offerOptions[0]!, price: 10_000_100_000n, isps: [{ power: -8001, start: 73, duration: 4 }] }] };
    for (const [power, price] of [[-4000, 5_000_000_000n], [-4001, 5_000_100_000n]] as const) {
      expect(judgeIncoming(signed({ ...order, activationFactor: 50, price, isps: [{ power, start: 73, duration: 4 }] }), context('AGR', { reference: { message: odd } })).outcome).toBe('accept');
    }
    expect(judgeIncoming(signed({ ...order, activationFactor: 50, price: 5_000_000_000n, isps: [{ power: -3999, start: 73, duration: 4 }] }), context('AGR', { reference: { message: odd } })).outcome).toBe('reject');
  });

  it('a direct order where a contract allows it, measured against a D-Prognosis the DSO accepted', () => {
    const direct = { ...order, unsolicited: true, flexOfferMessageId: undefined, optionReference: undefined };
    const baseline = { ...prognosis, period: direct.period, congestionPoint: direct.congestionPoint };
    const codes = (message: typeof direct, accepted: readonly DPrognosis[]) => {
      const verdict = judgeIncoming(signed(message), context('AGR', { directOrdersAgreed: true, acceptedPrognoses: accepted }));
      return verdict.outcome === 'reject' ? verdict.rejections.map((r) => r.code) : verdict.outcome;
    };
    expect(codes(direct, [baseline])).toBe('accept');
    expect(codes({ ...direct, dPrognosisMessageId: baseline.messageId }, [baseline])).toBe('accept');
    // No accepted D-Prognosis for its congestion point and Period: no baseline.
    expect(codes(direct, [])).toEqual(['invalid_message']);
    expect(codes(direct, [{ ...baseline, period: '2026-06-03' }])).toEqual(['invalid_message']);
    // One it names that is not among those accepted.
    expect(codes({ ...direct, dPrognosisMessageId: '00000000-0000-4000-8000-00000000dead' }, [baseline])).toEqual(['unknown_reference']);
  });

  it('an order for an offer Gridshare sent to another DSO is an unknown reference', () => {
    const verdict = judgeIncoming(signed(order), context('AGR', { reference: { message: { ...offer, recipientDomain: 'other-dso.example.org' } } }));
    expect(verdict.outcome === 'reject' && verdict.rejections.map((r) => r.code)).toEqual(['unknown_reference']);
  });

  it('a DSO accepts the offer, the revocation of an open offer and a full D-Prognosis', () => {
    expect(judgeIncoming(signed(offer), context('DSO', { reference: { message: request }, mutexOffersSupported: true }))).toEqual({ outcome: 'accept' });
    const revocation = CASES.flexibility_procured().incoming;
    expect(judgeIncoming(revocation, context('DSO', { reference: { message: offer } }))).toEqual({ outcome: 'accept' });
    expect(judgeIncoming(signed(prognosis), context('DSO', { latestRevision: 2 }))).toEqual({ outcome: 'accept' });
  });

  it('a settlement covering every unsettled order of a month that is over', () => {
    expect(judgeIncoming(signed(settlement), context('AGR', { nowMs: AFTER_JUNE, unsettledOrders: [{ orderReference: order.orderReference, period: PERIOD }] }))).toEqual({ outcome: 'accept' });
  });

  it('ISP bounds follow the DST days: 92 ISPs in spring, 100 in autumn', () => {
    const on = (period: string, lastIsp: number) => signed({
      ...request, period, expirationDateTime: Date.UTC(2026, 1, 1),
      isps: [{ disposition: 'Requested', minPower: -5000, maxPower: -1000, start: lastIsp, duration: 1 }],
    });
    const winter = context('AGR', { nowMs: Date.UTC(2026, 0, 1) });
    expect(judgeIncoming(on('2026-03-29', 92), winter).outcome).toBe('accept');
    expect(judgeIncoming(on('2026-03-29', 93), winter).outcome).toBe('reject');
    expect(judgeIncoming(on('2026-10-25', 100), winter).outcome).toBe('accept');
    expect(judgeIncoming(on('2026-10-25', 101), winter).outcome).toBe('reject');
  });

  it('several reasons go into one RejectionReason, separated by semicolons', () => {
    const verdict = judgeIncoming(signed({ ...request, congestionPoint: 'ea1.2026-01.org.example.dso:feeder-9', isps: request.isps.map((i) => ({ ...i, disposition: 'Available' as const })) }), context('AGR'));
    expect(verdict.outcome === 'reject' && verdict.reason).toBe(rejectionReasonText(verdict.outcome === 'reject' ? verdict.rejections : []));
    expect(verdict.outcome === 'reject' && verdict.reason.split('; ').length).toBe(2);
  });

  it('names the stored message a service must load for each referring message', () => {
    expect(referenceOf(order)).toEqual({ type: 'FlexOffer', messageId: offer.messageId, attribute: 'FlexOfferMessageID' });
    expect(referenceOf(offer)).toEqual({ type: 'FlexRequest', messageId: request.messageId, attribute: 'FlexRequestMessageID' });
    expect(referenceOf(request)).toBeUndefined();
    const responses = oneOfEach().filter((m) => m.type.endsWith('Response') && m.type !== 'TestMessageResponse');
    for (const response of responses) expect(referenceOf(response), response.type).toBeDefined();
  });

  it('a response to a message we never sent is an unknown reference', () => {
    const response = oneOfEach().find((m) => m.type === 'FlexOfferResponse')!;
    const verdict = judgeIncoming(signed(response), context('AGR'));
    expect(verdict.outcome === 'reject' && verdict.rejections.map((r) => r.code)).toEqual(['unknown_reference']);
    expect(judgeIncoming(signed(response), context('AGR', { reference: { message: { ...offer, messageId: (response as { flexOfferMessageId: string }).flexOfferMessageId } } }))).toEqual({ outcome: 'accept' });
  });
});
