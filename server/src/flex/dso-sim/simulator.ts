import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage as HttpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Wh } from '../../kernel/energy.js';
import { UftpTransportError } from '../domain/uftp/errors.js';
import { parsePublicKey, type SigningKey } from '../domain/uftp/envelope.js';
import { isSimplyAnswered, openSignedMessage, readPayload, respondTo, responseHeader, sealMessage, WRITTEN_VERSION, type SchemaValidator } from '../domain/uftp/inbound.js';
import type { AGRPortfolioQuery, AGRPortfolioQueryResponse, DPrognosis, DSOPortfolioUpdate, FlexOffer, FlexOrder, FlexRequest, FlexSettlement, FlexSettlementResponse, IspRange, UftpMessage } from '../domain/uftp/messages.js';
import { ENVELOPE_LIMITS } from '../domain/uftp/xml.js';
import { periodGrid, periodOf, perIsp, type PeriodGrid } from '../domain/isp.js';
import { scaledOption } from '../domain/matching.js';
import { settleOrder, toFlexOrderSettlement, type SettlementTerms } from '../domain/settlement.js';

/**
 * A small grid operator (DSO) speaking real UFTP over HTTP to one aggregator, for the demo and the
 * end-to-end tests: its own Ed25519 key and domain, one congestion point; it answers what the AGR
 * sends (Accepted), plays the CRO its DSOPortfolioUpdate goes to (answering the AGR's
 * AGRPortfolioQuery), keeps the D-Prognoses as the baseline, publishes FlexRequests, orders every
 * offer it receives exactly as offered (`scaledOption` at its activation factor) and, after the
 * Period, settles its accepted orders with its own metering (`toFlexOrderSettlement`).
 * It is the other side of Gridshare's transport, not part of it: nothing here touches the database.
 */

export interface DsoSimulatorOptions {
  readonly domain: string;
  readonly signingKey: SigningKey;
  readonly congestionPoint: string;
  /** Entity addresses of the connections at the congestion point (in the DSOPortfolioUpdate; at least one). */
  readonly connections: readonly string[];
  readonly timeZone: string;
  readonly ispDurationMinutes: number;
  /** The aggregator: its UFTP endpoint, domain and public key (base64). */
  readonly agr: { readonly url: string; readonly domain: string; readonly publicKey: string };
  readonly schemas: SchemaValidator;
  /** The contract's penalty per kWh not delivered (micro-units) and how the price is paid. */
  readonly terms: SettlementTerms;
  /** The activation factor offers are ordered at (hundredths), raised to an option's minimum (default 100). */
  readonly activationFactor?: number;
  /** The DSO's metering at the congestion point per ISP of a Period; by default delivery exactly as ordered. */
  readonly meteredEnergyWh?: (period: string) => ReadonlyMap<number, Wh>;
  readonly now?: () => number;
  readonly host?: string;
  readonly port?: number;
  readonly log?: (line: string) => void;
}

/** What the simulator publishes on its schedule: which ISPs of tomorrow it asks for, in which power band (W, + = consumption). */
export interface RequestSchedule {
  readonly everyMs: number;
  readonly requested: ReadonlyArray<IspRange & { readonly minPower: number; readonly maxPower: number }>;
  /** How long before the Period starts the request expires. */
  readonly expiresBeforePeriodMs: number;
  /** How long after a Period's end its orders are settled. */
  readonly settleAfterMs: number;
}

interface PlacedOrder {
  readonly order: FlexOrder;
  state: 'sent' | 'accepted' | 'rejected' | 'settled';
}

/** Free space around the requested band: what the DSO says the AGR may do in the other ISPs. */
const AVAILABLE_BAND_W = 1_000_000;
const HTTP_LIMIT = ENVELOPE_LIMITS.maxBytes;

/**
 * When a scheduled request for a period beginning at `periodStartMs` expires: `leadMs` before the
 * period, or, when asked later than that (a start late in the evening asks for tomorrow), `leadMs`
 * from now, so that a request is never born expired.
 */
export function requestExpiry(nowMs: number, periodStartMs: number, leadMs: number): number {
  return Math.max(periodStartMs - leadMs, nowMs + leadMs);
}

export class DsoSimulator {
  /** Every message opened from the AGR, in order of arrival. */
  readonly received: UftpMessage[] = [];
  /** Every message sent to the AGR, with the HTTP status of its POST (0: no answer). */
  readonly sent: Array<{ readonly message: UftpMessage; readonly status: number }> = [];
  readonly orders: PlacedOrder[] = [];
  readonly publicKey: string;
  private readonly prognoses = new Map<string, DPrognosis>();
  /** Every D-Prognosis received by MessageID: an order names the one it is settled against. */
  private readonly prognosesById = new Map<string, DPrognosis>();
  private portfolio: DSOPortfolioUpdate | undefined;
  private readonly pending = new Set<Promise<void>>();
  private nextRequestAtMs: number | undefined;

  private constructor(private readonly options: DsoSimulatorOptions, private readonly server: Server, readonly url: string) {
    this.publicKey = Buffer.from(options.signingKey.publicKey).toString('base64');
  }

  static async start(options: DsoSimulatorOptions): Promise<DsoSimulator> {
    let simulator: DsoSimulator | undefined;
    const server = createServer((request, response) => {
      simulator!.handle(request, response).catch((error: unknown) => {
        options.log?.(`answering a POST failed: ${(error as Error).message}`);
        if (!response.headersSent) response.statusCode = 500;
        response.end();
      });
    });
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, resolve);
    });
    const { port } = server.address() as AddressInfo;
    simulator = new DsoSimulator(options, server, `http://${host.includes(':') ? `[${host}]` : host}:${port}/shapeshifter/api/v3/message`);
    return simulator;
  }

  private get now(): number {
    return (this.options.now ?? Date.now)();
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  /** Until every message received so far has been answered and acted on. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private async handle(request: HttpRequest, response: ServerResponse): Promise<void> {
    const answer = (status: number, text = '') => {
      response.statusCode = status;
      response.end(text);
    };
    if (request.method !== 'POST' || !request.url?.endsWith('/shapeshifter/api/v3/message')) return answer(404);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > HTTP_LIMIT) return answer(413);
      chunks.push(chunk);
    }
    let message: UftpMessage;
    try {
      const book = [{ domain: this.options.agr.domain, role: 'AGR' as const, publicKeys: [parsePublicKey(this.options.agr.publicKey)] }];
      message = openSignedMessage(Buffer.concat(chunks), book, this.options.schemas).message;
    } catch (error) {
      if (!(error instanceof UftpTransportError)) throw error;
      this.log(`refused a message: ${error.message}`);
      return answer(error.code === 'unauthorized' ? 401 : error.code === 'payload_too_large' ? 413 : 400, error.message);
    }
    this.received.push(message);
    answer(200);
    // Answered as a separate message, after the HTTP exchange (UFTP is asynchronous).
    const work = this.act(message).catch((error: unknown) => this.log(`${message.type} ${message.messageId}: ${(error as Error).message}`));
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async act(message: UftpMessage): Promise<void> {
    this.log(`received ${message.type} ${message.messageId}${'result' in message ? ` (${message.result}${message.rejectionReason ? `: ${message.rejectionReason}` : ''})` : ''}`);
    if (isSimplyAnswered(message.type)) {
      await this.send(respondTo(message as Extract<UftpMessage, { type: typeof message.type }>, this.ids()));
    }
    if (message.type === 'AGRPortfolioQuery') await this.answerPortfolioQuery(message);
    else if (message.type === 'D-Prognosis') this.keepPrognosis(message);
    else if (message.type === 'FlexOffer') await this.order(message);
    else if (message.type === 'FlexSettlementResponse') {
      // A disputed order is settled again with the next FlexSettlement (after the DSO checked its figures).
      for (const status of message.flexOrderSettlementStatuses) {
        const placed = this.orders.find((o) => o.order.orderReference === status.orderReference && o.state === 'settled');
        if (placed && status.disposition === 'Disputed') placed.state = 'accepted';
      }
    } else if (message.type === 'FlexOrderResponse') {
      const placed = this.orders.find((o) => o.order.messageId === message.flexOrderMessageId);
      if (placed) placed.state = message.result === 'Accepted' ? 'accepted' : 'rejected';
    }
  }

  private keepPrognosis(prognosis: DPrognosis): void {
    this.prognosesById.set(prognosis.messageId, prognosis);
    const latest = this.prognoses.get(prognosis.period);
    if (prognosis.congestionPoint === this.options.congestionPoint && (!latest || prognosis.revision > latest.revision)) this.prognoses.set(prognosis.period, prognosis);
  }

  /** Orders the offer's first option (or, with mutually exclusive options, the cheapest), exactly as offered at the activation factor. */
  private async order(offer: FlexOffer): Promise<void> {
    if (offer.expirationDateTime <= this.now) return;
    const option = [...offer.offerOptions].sort((a, b) => (a.price < b.price ? -1 : a.price > b.price ? 1 : 0))[0];
    if (!option) return;
    const factor = Math.max(option.minActivationFactor, this.options.activationFactor ?? 100);
    const { isps, price } = scaledOption(option, factor);
    const order: FlexOrder = {
      type: 'FlexOrder', ...this.header(offer.conversationId), ...this.flexHeader(offer.period),
      flexOfferMessageId: offer.messageId, price, currency: offer.currency, orderReference: `${this.options.domain}-${this.orders.length + 1}`,
      optionReference: option.optionReference, activationFactor: factor, isps,
      ...(offer.dPrognosisMessageId === undefined ? {} : { dPrognosisMessageId: offer.dPrognosisMessageId }),
    };
    this.orders.push({ order, state: 'sent' });
    await this.send(order);
  }

  /**
   * A direct FlexOrder (UFTP 3.1: Unsolicited, no FlexOffer), for a contract that allows them: the
   * deviation per ISP at the DSO's price, measured against the D-Prognosis it names (`dPrognosisMessageId`)
   * or else the latest accepted for the Period; settled like any order.
   */
  async orderDirectly(period: string, isps: FlexOrder['isps'], price: bigint, options: { readonly currency?: string; readonly dPrognosisMessageId?: string } = {}): Promise<FlexOrder> {
    const order: FlexOrder = {
      type: 'FlexOrder', ...this.header(), ...this.flexHeader(period), unsolicited: true, price, currency: options.currency ?? 'EUR',
      orderReference: `${this.options.domain}-${this.orders.length + 1}`, activationFactor: 100, isps,
      ...(options.dPrognosisMessageId === undefined ? {} : { dPrognosisMessageId: options.dPrognosisMessageId }),
    };
    this.orders.push({ order, state: 'sent' });
    await this.send(order);
    return order;
  }

  /**
   * The DSOPortfolioUpdate this DSO registers its congestion point and connections with. UFTP
   * sends it to the common reference operator (CRO), not to aggregators; the simulator plays that
   * CRO too (same domain and key, role CRO) and answers an AGR's AGRPortfolioQuery from it.
   */
  portfolioUpdate(startPeriod = periodOf(this.now, this.options.timeZone)): DSOPortfolioUpdate {
    this.portfolio = {
      type: 'DSOPortfolioUpdate', ...this.header(), recipientDomain: this.options.domain, timeZone: this.options.timeZone,
      congestionPoints: [{
        entityAddress: this.options.congestionPoint, startPeriod, mutexOffersSupported: true, dayAheadRedispatchBy: 'AGR',
        connections: this.options.connections.map((entityAddress) => ({ entityAddress, startPeriod })),
      }],
    };
    // What the CRO would receive: valid against the schema like everything sent.
    readPayload(sealMessage(this.portfolio, this.options.signingKey, 'DSO').payloadXml, this.options.schemas);
    return this.portfolio;
  }

  /** As the CRO: the congestion point and connections registered (see portfolioUpdate) for the Period asked about. */
  private async answerPortfolioQuery(query: AGRPortfolioQuery): Promise<void> {
    const registered = (this.portfolio ?? this.portfolioUpdate()).congestionPoints.filter((cp) => cp.startPeriod <= query.period && (cp.endPeriod === undefined || query.period <= cp.endPeriod));
    const response: AGRPortfolioQueryResponse = {
      type: 'AGRPortfolioQueryResponse', ...responseHeader(query, this.ids()), timeZone: this.options.timeZone, agrPortfolioQueryMessageId: query.messageId, period: query.period,
      dsoViews: [{
        dsoPortfolios: [{
          dsoDomain: this.options.domain,
          congestionPoints: registered.map((cp) => ({
            entityAddress: cp.entityAddress, mutexOffersSupported: cp.mutexOffersSupported, dayAheadRedispatchBy: cp.dayAheadRedispatchBy,
            connections: cp.connections.filter((c) => c.startPeriod <= query.period && (c.endPeriod === undefined || query.period <= c.endPeriod)).map((c) => ({ entityAddress: c.entityAddress })),
          })),
        }],
        connections: [],
      }],
    };
    await this.send(response, 'CRO');
  }

  /**
   * A FlexRequest for a Period: the requested ISPs in their band, every other ISP available within
   * `elsewhere` (default: anything; a DSO whose feeder cannot take a rebound later that day narrows it).
   */
  async sendFlexRequest(
    period: string, requested: RequestSchedule['requested'], expirationMs: number,
    elsewhere: { readonly minPower: number; readonly maxPower: number } = { minPower: -AVAILABLE_BAND_W, maxPower: AVAILABLE_BAND_W },
  ): Promise<FlexRequest> {
    const grid = this.grid(period);
    const asked = perIsp(requested, (r) => r);
    const isps: Array<FlexRequest['isps'][number]> = [];
    for (let isp = 1; isp <= grid.count; isp++) {
      const band = asked.get(isp);
      isps.push(band
        ? { disposition: 'Requested', minPower: band.minPower, maxPower: band.maxPower, start: isp, duration: 1 }
        : { disposition: 'Available', ...elsewhere, start: isp, duration: 1 });
    }
    const request: FlexRequest = { type: 'FlexRequest', ...this.header(), ...this.flexHeader(period), revision: 1, expirationDateTime: expirationMs, isps };
    await this.send(request);
    return request;
  }

  /**
   * The FlexSettlement of a Period: every accepted order of it, with the D-Prognosis it names (else
   * the latest received for the Period) as the baseline and the DSO's metering as the actuals. Undefined when there is nothing to settle.
   */
  async settle(period: string): Promise<FlexSettlement | undefined> {
    const due = this.orders.filter((o) => o.state === 'accepted' && o.order.period === period);
    if (due.length === 0) return undefined;
    const prognosis = this.prognoses.get(period);
    if (!prognosis) {
      this.log(`no D-Prognosis for ${period}: its orders cannot be settled`);
      return undefined;
    }
    const metered = this.options.meteredEnergyWh?.(period);
    const items = due.map(({ order }) => {
      // The baseline is the D-Prognosis the order names (a later revision does not move it), else the latest.
      const named = order.dPrognosisMessageId === undefined ? undefined : this.prognosesById.get(order.dPrognosisMessageId);
      const baselinePower = perIsp((named ?? prognosis).isps, (isp) => isp.power);
      const ordered = perIsp(order.isps, (isp) => isp.power);
      const actualEnergyWh = metered ?? asOrderedWh(baselinePower, ordered, order.ispDurationMinutes);
      return toFlexOrderSettlement(settleOrder({ order, baselinePower, actualEnergyWh, terms: this.options.terms }), order);
    });
    const grid = this.grid(period);
    const settlement: FlexSettlement = {
      type: 'FlexSettlement', ...this.header(), result: 'Accepted', periodStart: period, periodEnd: period, currency: due[0]!.order.currency,
      flexOrderSettlements: items,
      contractSettlements: [{ periods: [{ period, isps: [{ start: 1, duration: grid.count, reservedPower: 0 }] }] }],
    };
    for (const placed of due) placed.state = 'settled';
    await this.send(settlement);
    return settlement;
  }

  /** The AGR's answers to FlexSettlements, newest last. */
  settlementResponses(): FlexSettlementResponse[] {
    return this.received.filter((m): m is FlexSettlementResponse => m.type === 'FlexSettlementResponse');
  }

  /** One step of the schedule: a FlexRequest for tomorrow when one is due; the settlement of every Period over long enough. */
  async tick(schedule: RequestSchedule): Promise<void> {
    const now = this.now;
    if (this.nextRequestAtMs === undefined || now >= this.nextRequestAtMs) {
      this.nextRequestAtMs = now + schedule.everyMs;
      const tomorrow = this.grid(periodOf(this.grid(periodOf(now, this.options.timeZone)).endMs, this.options.timeZone));
      await this.sendFlexRequest(tomorrow.period, schedule.requested, requestExpiry(now, tomorrow.startMs, schedule.expiresBeforePeriodMs));
    }
    const periods = new Set(this.orders.filter((o) => o.state === 'accepted').map((o) => o.order.period));
    for (const period of periods) {
      if (this.grid(period).endMs + schedule.settleAfterMs <= now) await this.settle(period);
    }
  }

  private grid(period: string): PeriodGrid {
    const grid = periodGrid(period, this.options.timeZone, this.options.ispDurationMinutes);
    if (!grid) throw new Error(`${period} is not a Period in ${this.options.timeZone} with ${this.options.ispDurationMinutes}-minute ISPs`);
    return grid;
  }

  private ids() {
    return { messageId: randomUUID(), nowMs: this.now };
  }

  private header(conversationId: string = randomUUID()) {
    return {
      version: WRITTEN_VERSION, senderDomain: this.options.domain, recipientDomain: this.options.agr.domain, timeStamp: this.now, messageId: randomUUID(), conversationId,
    };
  }

  private flexHeader(period: string) {
    return { ispDurationMinutes: this.options.ispDurationMinutes, timeZone: this.options.timeZone, period, congestionPoint: this.options.congestionPoint };
  }

  /** Seals and POSTs a message to the AGR (one attempt: a simulator reports, it does not retry); as the CRO for portfolio answers. */
  async send(message: UftpMessage, role: 'DSO' | 'CRO' = 'DSO'): Promise<number> {
    const { signedXml } = sealMessage(message, this.options.signingKey, role);
    let status = 0;
    try {
      const response = await fetch(this.options.agr.url, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: signedXml, redirect: 'manual', signal: AbortSignal.timeout(20_000) });
      status = response.status;
      if (status !== 200) this.log(`${message.type} ${message.messageId}: HTTP ${status} ${await response.text()}`);
      else await response.body?.cancel();
    } catch (error) {
      this.log(`${message.type} ${message.messageId}: ${(error as Error).message}`);
    }
    this.sent.push({ message, status });
    this.log(`sent ${message.type} ${message.messageId} (HTTP ${status})`);
    return status;
  }

  async close(): Promise<void> {
    await this.idle();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Energy per ordered ISP if the portfolio delivered exactly as ordered: (baseline + ordered flex) × ISP length. */
function asOrderedWh(baselinePower: ReadonlyMap<number, number>, ordered: ReadonlyMap<number, number>, ispMinutes: number): Map<number, Wh> {
  const energy = new Map<number, Wh>();
  for (const [isp, flex] of ordered) energy.set(isp, Math.round(((baselinePower.get(isp) ?? 0) + flex) * ispMinutes / 60));
  return energy;
}
