import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadUftpSchemas, VENDORED_SCHEMA_DIRECTORY, type LoadedSchemas } from '../../src/flex/uftp-schemas.js';
import type { FlexOffer, FlexOrder, FlexRequest, UftpMessage } from '../../src/flex/domain/uftp/messages.js';
import { UftpTransportError } from '../../src/flex/domain/uftp/errors.js';

/**
 * The UFTP schemas are shipped with Gridshare (flex/uftp-xsd); the shared test material
 * (../shared/uftp next to the work tree: the reference conversation and published test keys) is
 * not: tests that need it are skipped with a message without it.
 */
export const UFTP_DIR = fileURLToPath(new URL('../../../../shared/uftp/', import.meta.url));
export const uftpPresent = existsSync(`${UFTP_DIR}examples/FlexRequest.xml`) && existsSync(`${UFTP_DIR}examples/keys.json`);
if (!uftpPresent) process.stderr.write(`flex tests: ${UFTP_DIR} not found: the reference-conversation and published-key tests are skipped\n`);

let loaded: LoadedSchemas | undefined;
/** The schemas as the platform loads them by default: the vendored copy. */
export function schemas(): LoadedSchemas {
  loaded ??= loadUftpSchemas(VENDORED_SCHEMA_DIRECTORY);
  return loaded;
}

export const example = (name: string): string => readFileSync(`${UFTP_DIR}examples/${name}`, 'utf8');

export interface PublishedKeyPair {
  readonly id: string;
  readonly secretKey_b64: string;
  readonly publicKey_b64: string;
}
export function publishedKeyPairs(): PublishedKeyPair[] {
  return (JSON.parse(example('keys.json')) as { keypairs: PublishedKeyPair[] }).keypairs;
}

export const DSO = 'dso.example.org';
export const AGR = 'community.example.org';
export const CRO = 'cro.example.org';
export const CONGESTION_POINT = 'ea1.2026-01.org.example.dso:feeder-7';
export const TIME_ZONE = 'Europe/Amsterdam';
/** 2026-06-01 (96 ISPs) starts at 2026-05-31T22:00Z in Europe/Amsterdam. */
export const PERIOD = '2026-06-01';
export const PERIOD_START = Date.UTC(2026, 4, 31, 22, 0);
export const NOW = Date.UTC(2026, 4, 31, 9, 0);

let counter = 0;
/** A fresh UUID-shaped id, deterministic per test run. */
export function id(): string {
  counter += 1;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
}

const meta = (from: string, to: string, conversationId = id()) => ({
  version: '3.1.0', senderDomain: from, recipientDomain: to, timeStamp: NOW, messageId: id(), conversationId,
});
const flexMeta = (from: string, to: string, conversationId?: string) => ({
  ...meta(from, to, conversationId), ispDurationMinutes: 15, timeZone: TIME_ZONE, period: PERIOD, congestionPoint: CONGESTION_POINT,
});

/** A DSO's request: less consumption in ISPs 73–76 (18:00–19:00 local), room elsewhere. */
export function flexRequest(overrides: Partial<FlexRequest> = {}): FlexRequest {
  return {
    type: 'FlexRequest', ...flexMeta(DSO, AGR), revision: 1, expirationDateTime: PERIOD_START - 3_600_000,
    isps: [
      { disposition: 'Available', minPower: -50_000, maxPower: 50_000, start: 1, duration: 72 },
      { disposition: 'Requested', minPower: -20_000, maxPower: -5_000, start: 73, duration: 4 },
      { disposition: 'Available', minPower: -50_000, maxPower: 50_000, start: 77, duration: 20 },
    ],
    ...overrides,
  };
}

export function flexOffer(request: FlexRequest, overrides: Partial<FlexOffer> = {}): FlexOffer {
  return {
    type: 'FlexOffer', ...flexMeta(AGR, DSO, request.conversationId), expirationDateTime: PERIOD_START - 1_800_000,
    flexRequestMessageId: request.messageId, currency: 'EUR',
    offerOptions: [
      { optionReference: 'A', price: 12_500_000_000n, minActivationFactor: 50, isps: [{ power: -8_000, start: 73, duration: 4 }] },
      { optionReference: 'B', price: 7_250_000_000n, minActivationFactor: 100, isps: [{ power: -4_000, start: 73, duration: 2 }, { power: -3_000, start: 75, duration: 2 }] },
    ],
    ...overrides,
  };
}

export function flexOrder(offer: FlexOffer, overrides: Partial<FlexOrder> = {}): FlexOrder {
  const option = offer.offerOptions[0]!;
  return {
    type: 'FlexOrder', ...flexMeta(DSO, AGR, offer.conversationId), flexOfferMessageId: offer.messageId,
    price: option.price, currency: offer.currency, orderReference: 'ORD-2026-0001', optionReference: option.optionReference,
    activationFactor: 100, isps: option.isps.map((isp) => ({ ...isp })),
    ...overrides,
  };
}

/** One valid message of every UFTP type, as Gridshare (or its DSO simulator) would write it. */
export function oneOfEach(): UftpMessage[] {
  const request = flexRequest();
  const offer = flexOffer(request);
  const order = flexOrder(offer);
  const response = (from: string, to: string) => ({ ...meta(from, to), result: 'Accepted' as const });
  return [
    { type: 'TestMessage', ...meta(AGR, DSO) },
    { type: 'TestMessageResponse', ...meta(DSO, AGR) },
    { type: 'D-Prognosis', ...flexMeta(AGR, DSO), revision: 3, isps: [{ power: 41_000, start: 1, duration: 48 }, { power: 63_500, start: 49, duration: 48 }] },
    { type: 'D-PrognosisResponse', ...response(DSO, AGR), dPrognosisMessageId: id(), flexOrderStatuses: [{ flexOrderMessageId: order.messageId, isValidated: true }] },
    { type: 'FlexReservationUpdate', ...flexMeta(DSO, AGR), contractId: 'C-17', reference: 'R-1', isps: [{ power: -10_000, start: 73, duration: 4 }] },
    { type: 'FlexReservationUpdateResponse', ...response(AGR, DSO), flexReservationUpdateMessageId: id() },
    request,
    { type: 'FlexRequestResponse', ...response(AGR, DSO), flexRequestMessageId: request.messageId },
    offer,
    { ...offer, messageId: id(), unsolicited: true, flexRequestMessageId: undefined, dPrognosisMessageId: id() } as FlexOffer,
    { type: 'FlexOfferResponse', ...response(DSO, AGR), flexOfferMessageId: offer.messageId },
    { type: 'FlexOfferRevocation', ...meta(AGR, DSO), flexOfferMessageId: offer.messageId },
    { type: 'FlexOfferRevocationResponse', ...response(DSO, AGR), rejectionReason: undefined, flexOfferRevocationMessageId: id() } as UftpMessage,
    order,
    { type: 'FlexOrderResponse', ...response(AGR, DSO), flexOrderMessageId: order.messageId },
    {
      type: 'FlexSettlement', ...response(DSO, AGR), periodStart: '2026-06-01', periodEnd: '2026-06-30', currency: 'EUR',
      flexOrderSettlements: [{
        orderReference: order.orderReference, period: PERIOD, congestionPoint: CONGESTION_POINT, price: 12_500_000_000n, penalty: 1_100_000_000n, netSettlement: 11_400_000_000n,
        isps: [{ start: 73, duration: 4, baselinePower: 40_000, orderedFlexPower: -8_000, actualPower: 33_000, deliveredFlexPower: -7_000, powerDeficiency: 1_000 }],
      }],
      contractSettlements: [{ contractId: 'C-17', periods: [{ period: PERIOD, isps: [{ start: 73, duration: 4, reservedPower: -10_000, orderedPower: -8_000 }] }] }],
    },
    { type: 'FlexSettlementResponse', ...response(AGR, DSO), flexSettlementMessageId: id(), flexOrderSettlementStatuses: [{ orderReference: order.orderReference, disposition: 'Disputed', disputeReason: 'actual power ISP 73: 33000 W, metered 35200 W' }] },
    {
      type: 'Metering', ...meta(AGR, DSO), revision: 1, ispDurationMinutes: 15, timeZone: TIME_ZONE, currency: 'EUR', period: PERIOD, ean: 'E1234567890123456',
      profiles: [{ profileType: 'ImportEnergy', unit: 'kWh', isps: [{ start: 1, value: '1.25' }, { start: 2, value: '0.75' }] }],
    },
    { type: 'MeteringResponse', ...response(DSO, AGR), meteringMessageId: id() },
    { type: 'AGRPortfolioUpdate', ...meta(AGR, CRO), timeZone: TIME_ZONE, connections: [{ entityAddress: 'ean.871685900012636543', startPeriod: '2026-01-01' }] },
    { type: 'AGRPortfolioUpdateResponse', ...response(CRO, AGR), agrPortfolioUpdateMessageId: id() },
    { type: 'AGRPortfolioQuery', ...meta(AGR, CRO), timeZone: TIME_ZONE, period: PERIOD },
    {
      type: 'AGRPortfolioQueryResponse', ...response(CRO, AGR), timeZone: TIME_ZONE, agrPortfolioQueryMessageId: id(), period: PERIOD,
      dsoViews: [{
        dsoPortfolios: [{ dsoDomain: DSO, congestionPoints: [{ entityAddress: CONGESTION_POINT, mutexOffersSupported: true, dayAheadRedispatchBy: 'AGR', connections: [{ entityAddress: 'ean.871685900012636543' }] }] }],
        connections: [{ entityAddress: 'ean.871685900012636544' }],
      }],
    },
    {
      type: 'DSOPortfolioUpdate', ...meta(DSO, CRO), timeZone: TIME_ZONE,
      congestionPoints: [{ entityAddress: CONGESTION_POINT, startPeriod: '2026-01-01', mutexOffersSupported: false, dayAheadRedispatchBy: 'DSO', intradayRedispatchBy: 'DSO', connections: [{ entityAddress: 'ean.871685900012636543', startPeriod: '2026-01-01', endPeriod: '2026-12-31' }] }],
    },
    { type: 'DSOPortfolioUpdateResponse', ...response(CRO, DSO), dsoPortfolioUpdateMessageId: id() },
    { type: 'DSOPortfolioQuery', ...meta(DSO, CRO), timeZone: TIME_ZONE, period: PERIOD, entityAddress: CONGESTION_POINT },
    {
      type: 'DSOPortfolioQueryResponse', ...response(CRO, DSO), dsoPortfolioQueryMessageId: id(), timeZone: TIME_ZONE, period: PERIOD,
      congestionPoints: [{ entityAddress: CONGESTION_POINT, connections: [{ entityAddress: 'ean.871685900012636543', agrDomain: AGR }] }],
    },
  ];
}

/** The refusal code a call throws (a UftpTransportError), or the test fails. */
export function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof UftpTransportError) return error.refusal;
    throw error;
  }
  throw new Error('expected a refusal');
}
