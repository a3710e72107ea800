/** The local energy market: orders, agent limits, trades, wallets, settings and slot results (server/src/market). */
import { Type, type Static } from 'typebox';
import { errors, IdParams, IsoDateTime, NoContent, nullable, Uuid } from './common.js';
import { route } from './route.js';

/** A price per kWh: at most 6 integer digits and 4 places, never negative (a minus sign, NaN or 1e9 is refused). */
export const MarketPrice = Type.String({ pattern: '^\\d{1,6}(\\.\\d{1,4})?$', description: 'per kWh, exact, at most 4 places, e.g. "0.1250"' });
/** A share of the expected surplus or need: 0 … 1 with at most 6 places. */
const Share = Type.String({ pattern: '^(0(\\.\\d{1,6})?|1(\\.0{1,6})?)$', description: 'share 0 … 1, e.g. "0.8"' });
/** An exact amount of money in the community's currency (nano precision), e.g. "-1.234567891". */
const Amount = Type.String({ description: 'exact amount in the community\'s currency (up to 9 places); + the member receives / the account holds' });
/** Money a person enters: positive, whole units of the currency's minor unit at most (the service checks the currency's digits). */
const minorAmount = (description: string) => Type.String({ pattern: '^\\d{1,9}(\\.\\d{1,4})?$', description });
const Side = Type.Enum(['buy', 'sell']);
const RangeQuery = Type.Object({
  from: Type.Optional(IsoDateTime),
  to: Type.Optional(IsoDateTime),
}, { additionalProperties: false });

export const MarketOrder = Type.Object({
  id: Type.String(),
  memberId: Uuid,
  slotStart: IsoDateTime,
  side: Side,
  energyWh: Type.Integer(),
  price: MarketPrice,
  origin: Type.Enum(['member', 'agent']),
  submittedAt: IsoDateTime,
  state: Type.Enum(['open', 'withdrawn', 'closed'], { description: 'open until the gate closes; closed: the slot was cleared (or its gate passed)' }),
  gateClosesAt: IsoDateTime,
});
const OrderCreate = Type.Object({
  slotStart: IsoDateTime,
  side: Side,
  energyWh: Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'whole Wh, at most 10 MWh' }),
  price: MarketPrice,
}, { additionalProperties: false });

export const AgentLimits = Type.Object({
  enabled: Type.Boolean(),
  minSellPrice: nullable(MarketPrice),
  maxBuyPrice: nullable(MarketPrice),
  sellShare: Share,
  buyShare: Share,
  meteringPointIds: Type.Array(Uuid, { maxItems: 100, description: 'the member\'s metering points the agent trades; empty: all' }),
}, { additionalProperties: false });

export const MarketTrade = Type.Object({
  slotStart: IsoDateTime,
  side: Side,
  energyWh: Type.Integer(),
  price: MarketPrice,
  gridFee: MarketPrice,
  orderId: Type.String({ description: 'the member\'s order the trade filled' }),
});

export const WalletPosting = Type.Object({
  sequence: Type.Integer(),
  at: IsoDateTime,
  kind: Type.Enum(['top-up', 'settlement', 'settlement-correction', 'payout', 'dispute-correction', 'transfer']),
  line: nullable(Type.String()),
  slotStart: nullable(Type.String({ format: 'date-time', description: 'settlement movements: the first slot they pay' })),
  slotEnd: nullable(Type.String({ format: 'date-time', description: 'settlement movements since they pay a day per kind: the end of the last slot paid; null on older ones (one slot each) and others' })),
  lines: nullable(Type.Integer({ minimum: 1, description: 'settlement movements since they pay a day per kind: how many settlement lines the movement pays' })),
  amount: Amount,
  memo: Type.String(),
});
export const Wallet = Type.Object({
  memberId: Uuid,
  currency: Type.String(),
  balance: Amount,
  postings: Type.Array(Type.Object({
    ...WalletPosting.properties,
    recorded: Type.Boolean({ description: 'in the verifiable record yet: its batch is logged, so its proof can be asked for (GET …/postings/:sequence/proof); false for a moment after it is entered' }),
  }), { description: 'newest first, at most 200' }),
});

export const MarketSettings = Type.Object({
  enabled: Type.Boolean({ description: 'false until the manager saved settings: the market does not run' }),
  mechanism: Type.String(),
  mechanisms: Type.Array(Type.String(), { description: 'the mechanisms to choose from' }),
  gateLeadMinutes: Type.Integer(),
  gridFee: MarketPrice,
  floor: nullable(MarketPrice),
  ceiling: nullable(MarketPrice),
  surplusPrice: MarketPrice,
  shortfallPrice: MarketPrice,
  payoutThreshold: nullable(Amount),
  lowBalanceThreshold: nullable(Amount),
});
const SettingsPut = Type.Object({
  mechanism: Type.String({ minLength: 1, maxLength: 40 }),
  gateLeadMinutes: Type.Integer({ minimum: 0, maximum: 1440 }),
  gridFee: MarketPrice,
  floor: nullable(MarketPrice),
  ceiling: nullable(MarketPrice),
  surplusPrice: MarketPrice,
  shortfallPrice: MarketPrice,
  payoutThreshold: Type.Optional(nullable(minorAmount('wallets holding at least this are offered a payout each month; null or left out: no payouts'))),
  lowBalanceThreshold: Type.Optional(nullable(minorAmount('a posting that takes a wallet below this tells its member (in the app and by email); null or left out: no alerts'))),
}, { additionalProperties: false });

export const SlotSummary = Type.Object({
  slotStart: IsoDateTime,
  mechanism: Type.String(),
  clearingPrice: nullable(MarketPrice),
  volumeWh: Type.Integer(),
  trades: Type.Integer(),
  orders: Type.Integer(),
  refused: Type.Integer(),
  welfare: Amount,
  clearedAt: IsoDateTime,
  settledAt: nullable(IsoDateTime),
});
const BookOrder = Type.Object({
  id: Type.String(),
  memberId: Uuid,
  side: Side,
  energyWh: Type.Integer(),
  matchedWh: Type.Integer(),
  price: MarketPrice,
  origin: Type.Enum(['member', 'agent']),
  submittedAt: IsoDateTime,
  withdrawn: Type.Boolean(),
  refused: nullable(Type.String({ description: 'why the order could not enter the book' })),
});
export const SlotResult = Type.Object({
  summary: SlotSummary,
  book: Type.Array(BookOrder, { description: 'bids by price high to low, offers low to high' }),
  trades: Type.Array(Type.Object({ buyOrderId: Type.String(), sellOrderId: Type.String(), energyWh: Type.Integer(), price: MarketPrice })),
});
const DepthLevel = Type.Object({
  price: MarketPrice,
  energyWh: Type.Integer({ description: 'Σ of the orders at this price' }),
  cumulativeWh: Type.Integer({ description: 'Σ at this price and better: the curve\'s value here' }),
});
export const SlotDepth = Type.Object({
  slotStart: IsoDateTime,
  mechanism: Type.String(),
  gridFee: MarketPrice,
  clearingPrice: nullable(MarketPrice),
  volumeWh: Type.Integer(),
  bids: Type.Array(DepthLevel, { description: 'the demand curve: the price a bid can pay the seller (its limit less the grid fee), high to low' }),
  offers: Type.Array(DepthLevel, { description: 'the supply curve: offers low to high' }),
});
/** averagePrice: volume-weighted over the trades, rounded half up to 4 places. */
export const MarketStatistics = Type.Object({
  from: IsoDateTime,
  to: IsoDateTime,
  slots: Type.Integer({ description: 'slots cleared in the period' }),
  tradedSlots: Type.Integer({ description: 'of those, slots with trades' }),
  trades: Type.Integer(),
  volumeWh: Type.Integer(),
  minPrice: nullable(MarketPrice),
  averagePrice: nullable(MarketPrice),
  maxPrice: nullable(MarketPrice),
  welfare: Amount,
  gridFees: Amount,
  sharedWh: Type.Integer({ description: 'energy the community shared among its members in the period (sharing\'s from-community energy)' }),
  tradedShare: nullable(Type.Number({ description: 'volume traded ÷ energy shared; null when nothing was shared' })),
});
export const WalletTotals = Type.Object({
  currency: Type.String(),
  accounts: Type.Array(Type.Object({ account: Type.String(), memberId: nullable(Uuid), balance: Amount })),
  walletsTotal: Amount,
  communityTotal: Amount,
  sum: Amount,
  drifted: Type.Integer({ description: 'accounts whose balance differs from their postings replayed (0)' }),
});
const TopUp = Type.Object({
  memberId: Uuid,
  amount: minorAmount('in the currency, at most its minor unit, e.g. "25.00"'),
  reference: Type.String({ minLength: 1, maxLength: 120 }),
}, { additionalProperties: false });
const SlotParams = Type.Object({ id: Uuid, start: IsoDateTime });

export const MarketDispute = Type.Object({
  id: Uuid,
  memberId: Uuid,
  posting: WalletPosting,
  reason: Type.String(),
  openedAt: IsoDateTime,
  state: Type.Enum(['open', 'rejected', 'corrected']),
  note: nullable(Type.String({ description: 'the manager\'s answer to the member' })),
  resolvedAt: nullable(IsoDateTime),
  amount: nullable(Type.String({ description: 'corrected: the amount credited to the member' })),
  correction: nullable(Type.Integer({ description: 'corrected: the sequence of the correcting posting (the disputed one stays as it was)' })),
});
const DisputeCreate = Type.Object({
  posting: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'the sequence of a posting of the member\'s wallet' }),
  reason: Type.String({ minLength: 1, maxLength: 1000 }),
}, { additionalProperties: false });
const DisputeResolve = Type.Object({
  outcome: Type.Enum(['rejected', 'corrected']),
  note: Type.String({ minLength: 1, maxLength: 500, description: 'shown to the member' }),
  amount: Type.Optional(minorAmount('corrected only: credited to the member, at most the currency\'s minor unit')),
}, { additionalProperties: false });
const DisputeParams = Type.Object({ id: Uuid, disputeId: Uuid });

export const MarketPayout = Type.Object({
  id: Uuid,
  memberId: Uuid,
  period: Type.String({ description: 'the month (UTC) of the run that asked for it, e.g. "2026-01"' }),
  amount: Amount,
  requestedAt: IsoDateTime,
  state: Type.Enum(['requested', 'confirmed', 'cancelled']),
  decidedAt: nullable(IsoDateTime),
  reference: nullable(Type.String()),
  posting: nullable(Type.Integer({ description: 'confirmed: the sequence of the payout\'s posting' })),
});
const PayoutDecision = Type.Object({
  outcome: Type.Enum(['confirmed', 'cancelled']),
  reference: Type.String({ minLength: 1, maxLength: 120, description: 'the bank transfer\'s reference, or why it was cancelled' }),
}, { additionalProperties: false });
const PayoutParams = Type.Object({ id: Uuid, payoutId: Uuid });

export type MarketOrder = Static<typeof MarketOrder>;
export type AgentLimits = Static<typeof AgentLimits>;
export type MarketTrade = Static<typeof MarketTrade>;
export type Wallet = Static<typeof Wallet>;
export type WalletPosting = Static<typeof WalletPosting>;
export type MarketSettings = Static<typeof MarketSettings>;
export type SlotSummary = Static<typeof SlotSummary>;
export type SlotResult = Static<typeof SlotResult>;
export type WalletTotals = Static<typeof WalletTotals>;
export type SlotDepth = Static<typeof SlotDepth>;
export type MarketStatistics = Static<typeof MarketStatistics>;
export type MarketDispute = Static<typeof MarketDispute>;
export type MarketPayout = Static<typeof MarketPayout>;

export const marketRoutes = {
  marketOrders: route('GET', '/api/v1/members/:id/market/orders', {
    tags: ['market'], summary: 'A member\'s orders by delivery slot (default: the last day and the next two) (the member, managers)',
    params: IdParams, querystring: RangeQuery, response: { 200: Type.Array(MarketOrder), ...errors(400, 401, 404) },
  }),
  submitMarketOrder: route('POST', '/api/v1/members/:id/market/orders', {
    tags: ['market'], summary: 'Place a bid or an offer for a 15-minute slot, until its gate closes (the member)',
    params: IdParams, body: OrderCreate, response: { 201: MarketOrder, ...errors(400, 401, 403, 404, 409) },
  }),
  withdrawMarketOrder: route('DELETE', '/api/v1/market-orders/:id', {
    tags: ['market'], summary: 'Withdraw an order, until its slot\'s gate closes (the member)',
    params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }), response: { ...NoContent, ...errors(401, 403, 404, 409) },
  }),
  marketAgentLimits: route('GET', '/api/v1/members/:id/market/agent-limits', {
    tags: ['market'], summary: 'The limits within which the automatic agent trades for the member (the member, managers)',
    params: IdParams, response: { 200: AgentLimits, ...errors(401, 404) },
  }),
  putMarketAgentLimits: route('PUT', '/api/v1/members/:id/market/agent-limits', {
    tags: ['market'], summary: 'Set the agent\'s limits: least sell price, most buy price, shares of the expected surplus and need, metering points (the member)',
    params: IdParams, body: AgentLimits, response: { 200: AgentLimits, ...errors(400, 401, 403, 404) },
  }),
  marketTrades: route('GET', '/api/v1/members/:id/market/trades', {
    tags: ['market'], summary: 'A member\'s trades, newest first (default: the last 7 days) (the member, managers)',
    params: IdParams, querystring: RangeQuery, response: { 200: Type.Array(MarketTrade), ...errors(400, 401, 404) },
  }),
  marketWallet: route('GET', '/api/v1/members/:id/market/wallet', {
    tags: ['market'], summary: 'A member\'s wallet: balance and postings (the member, managers)',
    params: IdParams, response: { 200: Wallet, ...errors(401, 404) },
  }),
  marketSettings: route('GET', '/api/v1/communities/:id/market/settings', {
    tags: ['market'], summary: 'The community\'s market settings (managers)',
    params: IdParams, response: { 200: MarketSettings, ...errors(401, 403, 404) },
  }),
  putMarketSettings: route('PUT', '/api/v1/communities/:id/market/settings', {
    tags: ['market'], summary: 'Set the mechanism, gate closure, grid fee, price floor and ceiling, balancing prices; the market runs from then (managers)',
    params: IdParams, body: SettingsPut, response: { 200: MarketSettings, ...errors(400, 401, 403, 404) },
  }),
  marketSlots: route('GET', '/api/v1/communities/:id/market/slots', {
    tags: ['market'], summary: 'The latest cleared slots: price, volume, trades (managers)',
    params: IdParams, querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }, { additionalProperties: false }),
    response: { 200: Type.Array(SlotSummary), ...errors(400, 401, 403, 404) },
  }),
  marketSlot: route('GET', '/api/v1/communities/:id/market/slots/:start', {
    tags: ['market'], summary: 'One cleared slot: the order book after clearing, its trades, price and volume (managers)',
    params: SlotParams, response: { 200: SlotResult, ...errors(400, 401, 403, 404) },
  }),
  marketSlotDepth: route('GET', '/api/v1/communities/:id/market/slots/:start/depth', {
    tags: ['market'], summary: 'A cleared slot\'s order-book depth: the cumulative bid and offer curves per price and the clearing point (managers)',
    params: SlotParams, response: { 200: SlotDepth, ...errors(400, 401, 403, 404) },
  }),
  marketStatistics: route('GET', '/api/v1/communities/:id/market/statistics', {
    tags: ['market'], summary: 'The market over a period (default: the last 7 days, at most 366): volume, clearing prices, welfare, share of the shared energy traded (managers)',
    params: IdParams, querystring: RangeQuery, response: { 200: MarketStatistics, ...errors(400, 401, 403, 404) },
  }),
  marketWalletTotals: route('GET', '/api/v1/communities/:id/market/wallets', {
    tags: ['market'], summary: 'Every account of the community\'s ledger and their totals, which add up to zero (managers)',
    params: IdParams, response: { 200: WalletTotals, ...errors(401, 403, 404) },
  }),
  marketTopUp: route('POST', '/api/v1/communities/:id/market/top-ups', {
    tags: ['market'], summary: 'Record money a member paid into their wallet (managers; a payment provider would post the same)',
    params: IdParams, body: TopUp, response: { 201: WalletPosting, ...errors(400, 401, 403, 404, 409) },
  }),
  marketDisputes: route('GET', '/api/v1/members/:id/market/disputes', {
    tags: ['market'], summary: 'A member\'s disputes, open ones first (the member, managers)',
    params: IdParams, response: { 200: Type.Array(MarketDispute), ...errors(401, 404) },
  }),
  openMarketDispute: route('POST', '/api/v1/members/:id/market/disputes', {
    tags: ['market'], summary: 'Dispute a posting of one\'s wallet: a trade, fee, balancing or correction line (the member)',
    params: IdParams, body: DisputeCreate, response: { 201: MarketDispute, ...errors(400, 401, 403, 404, 409) },
  }),
  communityMarketDisputes: route('GET', '/api/v1/communities/:id/market/disputes', {
    tags: ['market'], summary: 'The community\'s disputes, open ones first (managers)',
    params: IdParams, querystring: Type.Object({ state: Type.Optional(Type.Enum(['open', 'resolved'])) }, { additionalProperties: false }),
    response: { 200: Type.Array(MarketDispute), ...errors(400, 401, 403, 404) },
  }),
  resolveMarketDispute: route('POST', '/api/v1/communities/:id/market/disputes/:disputeId/resolution', {
    tags: ['market'], summary: 'Resolve a dispute: reject it with a note, or correct it by a new posting in the member\'s favour (managers)',
    params: DisputeParams, body: DisputeResolve, response: { 200: MarketDispute, ...errors(400, 401, 403, 404, 409) },
  }),
  marketPayouts: route('GET', '/api/v1/communities/:id/market/payouts', {
    tags: ['market'], summary: 'The community\'s payout requests, those awaiting a decision first (managers)',
    params: IdParams, response: { 200: Type.Array(MarketPayout), ...errors(401, 403, 404) },
  }),
  decideMarketPayout: route('POST', '/api/v1/communities/:id/market/payouts/:payoutId/decision', {
    tags: ['market'], summary: 'Confirm a payout request (posting it from the wallet) or cancel it, once (managers)',
    params: PayoutParams, body: PayoutDecision, response: { 200: MarketPayout, ...errors(400, 401, 403, 404, 409) },
  }),
};
