import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../platform/store/db.js';
import type { UserPrincipal } from '../kernel/principal.js';
import type { Reading } from '../kernel/quantities.js';
import type { Wh } from '../kernel/energy.js';
import { parsePrice } from '../kernel/money.js';
import { findUserByEmail } from '../accounts/index.js';
import { memberIdOfUser, meteringPointsOfCommunity } from '../registry/index.js';
import { readingsAt, sunnyStreetDevices } from '../simulator/index.js';
import {
  DsoSimulator, generateSigningKey, ispAt, ispStartMs, periodGrid, periodOf, secretKeyBytes, signingKeyFromSecret,
  type FlexAdmin, type FlexContracts, type FlexPortfolio, type PeriodGrid, type RequestSchedule, type SchemaValidator,
} from '../flex/index.js';
import { DEMO_CONTROLLED_DEVICES, DEMO_MANAGER_EMAIL, demoDeviceId, demoMemberEmail } from './seed.js';

/** The demo community's UFTP identity and its grid operator (simulated in this process). */
export const DEMO_AGR_DOMAIN = 'sunny-street.gridshare.demo';
export const DEMO_DSO_DOMAIN = 'dso.wien-netz.gridshare.demo';
export const DEMO_CONGESTION_POINT = 'ea1.2026-01.demo.gridshare.dso:sunny-street-feeder';
const ZONE = 'Europe/Vienna';
const ISP_MINUTES = 15;
const HOUR_MS = 3_600_000;
/** The contract's prices (EUR): what the offers are priced with and the settlement's penalty. */
const VOLUME_PRICE = '0.12';
const PENALTY_RATE = '0.30';
/** The settled day's ordered hour (local): the evening, when the street consumes and its PV is off all year. */
const SETTLED_HOUR = 20;
/** The DSO's live requests: tomorrow's evening peak, 18:00–19:00 local, a decrease of 1–8 kW. */
const LIVE_HOUR = 18;
const TICK_MS = 60_000;
/** Household 5's heat pump, read by the demo's connector (seed.ts), when the demo has it. */
const CONNECTOR_HEAT_PUMP = demoDeviceId(sunnyStreetDevices().length);

export interface DemoFlexOptions {
  readonly db: Db;
  readonly communityId: string;
  readonly admin: FlexAdmin;
  readonly contracts: FlexContracts;
  readonly portfolio: FlexPortfolio;
  /** Runs a pass of the `flex prognosis` job (on the flex clock). */
  readonly prognose: () => Promise<void>;
  readonly schemas: () => SchemaValidator;
  /** The platform's UFTP endpoint as this process reaches it. */
  readonly agrUrl: string;
  /** Where the simulated DSO keeps its signing key (private to the user, like the agents' keys). */
  readonly folder: string;
  /** Sets the flex clock to an instant (to seed a past day) or back to the wall clock (undefined). */
  readonly setClock: (atMs: number | undefined) => void;
  readonly now: () => number;
  /** Lets the platform answer what is in flight: the validate job, the outbox. */
  readonly flush: () => Promise<void>;
  /** Hands a device's readings to ingest, as its agent would have sent them. */
  readonly ingest: (deviceId: string, readings: readonly Reading[]) => Promise<void>;
  /** Computes the quarter hours of what was ingested. */
  readonly flushIntervals: () => Promise<void>;
  /** What the DSO sends and receives (info), and what kept the demo from trading (warn). */
  readonly log: (line: string) => void;
  readonly warn: (line: string) => void;
}

export interface DemoFlex {
  /** The simulated DSO, once it runs. */
  readonly dso: () => DsoSimulator | undefined;
  /** Settles once the DSO runs and a new demo's first day is traded and settled (failures are logged, not thrown). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Sunny Street trades flexibility with a simulated grid operator: the DSO simulator (flex/dso-sim)
 * runs in this process with its own key and HTTP endpoint and speaks UFTP to the platform's own
 * `/shapeshifter/api/v3/message`. When the demo has no UFTP identity yet, the manager's side is set
 * up through flex's services (identity, address book, congestion point, contract, members'
 * opt-ins) and yesterday is traded and settled by really exchanging the messages, with the flex
 * clock set back while they are made (see the demo README). Then the DSO asks, every few hours,
 * for tomorrow's evening peak and settles its orders once their day is over. All of it after the
 * start, in the background: the platform answers meanwhile.
 */
export function startDemoFlex(options: DemoFlexOptions): DemoFlex {
  let dso: DsoSimulator | undefined;
  let timer: NodeJS.Timeout | undefined;
  // A stop does not wait for the whole first day: the step under way ends, the rest is left.
  const stop = new AbortController();
  const ready = (async () => {
    const started = await startDso(options, (running) => {
      dso = running;
    });
    if (!started.existing) {
      await contract(options, started.manager, started.participantId, started.connections);
      await seedSettledDay(options, started.dso, started.metered, stop.signal).catch((error: Error) => {
        if (!stop.signal.aborted) options.warn(`demo: yesterday's flexibility was not traded: ${error.message}`);
      });
    }
    if (stop.signal.aborted) return;
    const tick = () => {
      started.dso.tick(liveSchedule(options.now())).catch((error: Error) => options.warn(`demo DSO: ${error.message}`));
    };
    timer = setInterval(tick, TICK_MS);
    timer.unref();
    tick();
  })().catch((error: Error) => {
    if (!stop.signal.aborted) options.warn(`demo: its grid operator does not trade flexibility: ${error.message}`);
  });
  return {
    dso: () => dso,
    ready,
    async close() {
      stop.abort();
      await ready;
      clearInterval(timer);
      await dso?.close();
    },
  };
}

/** The DSO simulator with its key, on the port of the last start when free, and its address-book entry (made, or its endpoint moved). */
async function startDso(options: DemoFlexOptions, running: (dso: DsoSimulator) => void) {
  const { communityId, admin } = options;
  const manager = await principalOf(options.db, communityId, DEMO_MANAGER_EMAIL);
  const signingKey = dsoKey(options.folder);
  const existing = await admin.identity(manager, communityId).catch(() => undefined);
  const identity = existing ?? await admin.setIdentity(manager, communityId, { domain: DEMO_AGR_DOMAIN, timeZone: ZONE, ispDurationMinutes: ISP_MINUTES });
  const known = (await admin.participants(manager, communityId)).find((p) => p.domain === DEMO_DSO_DOMAIN && p.role === 'DSO');
  const metered = new Map<string, Map<number, Wh>>();
  const connections = await streetConnections(options.db, communityId);
  const start = (port: number) => DsoSimulator.start({
    domain: DEMO_DSO_DOMAIN, signingKey, congestionPoint: DEMO_CONGESTION_POINT, connections, timeZone: ZONE, ispDurationMinutes: ISP_MINUTES,
    agr: { url: options.agrUrl, domain: identity.domain, publicKey: identity.publicKey }, schemas: options.schemas(),
    terms: { penaltyPerKwh: parsePrice(PENALTY_RATE), remuneration: 'delivered' }, now: options.now, port,
    meteredEnergyWh: (period) => metered.get(period) ?? new Map(),
    log: (line) => options.log(`demo DSO: ${line}`),
  });
  const previousPort = known ? Number(new URL(known.endpoint).port) : 0;
  const dso = await start(previousPort).catch(() => start(0));
  running(dso);
  let participant = known;
  if (!participant) {
    participant = await admin.addParticipant(manager, communityId, {
      domain: DEMO_DSO_DOMAIN, role: 'DSO', endpoint: dso.url, publicKeys: [dso.publicKey], barred: false, congestionPoints: [DEMO_CONGESTION_POINT],
    });
  } else if (participant.endpoint !== dso.url) {
    participant = await admin.updateParticipant(manager, participant.id, { ...participant, endpoint: dso.url });
  }
  return { dso, manager, existing, participantId: participant.id, connections, metered };
}

/** The congestion point behind which all of Sunny Street is, the contract with the DSO, and the members' devices that take part. */
async function contract(options: DemoFlexOptions, manager: UserPrincipal, participantId: string, connections: readonly string[]): Promise<void> {
  const { db, communityId } = options;
  await options.portfolio.setByHand(manager, participantId, [{ entityAddress: DEMO_CONGESTION_POINT, connections, mutexOffersSupported: false, prognosisGate: '12:00' }]);
  const today = periodOf(options.now(), ZONE);
  const year = Number(today.slice(0, 4));
  const created = await options.contracts.create(manager, communityId, {
    participantId, congestionPoints: [DEMO_CONGESTION_POINT], serviceType: 'congestion-management', validFrom: `${year - 1}-01-01`, validTo: `${year + 1}-12-31`,
    windows: [{ weekdays: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '24:00' }], capacityRemuneration: '0.50', volumeRemuneration: VOLUME_PRICE, penaltyRate: PENALTY_RATE,
  });
  await options.contracts.activate(manager, created.id);
  // Household 1 lets its battery, EV charger, heat pump and washing machine take part (the plan controls them);
  // household 5 its heat pump, which the plan does not control (it is asked by hand).
  const household1 = await principalOf(db, communityId, demoMemberEmail(1));
  for (const device of DEMO_CONTROLLED_DEVICES) await options.contracts.optIn(household1, created.id, device.id, null);
  const household5 = await principalOf(db, communityId, demoMemberEmail(5));
  await options.contracts.optIn(household5, created.id, CONNECTOR_HEAT_PUMP, null).catch(() => undefined);
}

/**
 * Yesterday, traded and settled: the flex clock is set to the day before yesterday, 10:30 (the
 * D-Prognosis is due from two hours before the 12:00 gate), the prognosis job plans and sends it,
 * the DSO asks for more consumption in the evening hour, the validate job re-plans and offers, the
 * DSO orders; then, on the wall clock again, the street's meters of that hour (the simulator's,
 * the same registers the replay continues) go through ingest and the DSO settles against its own
 * reading of them. Today's D-Prognosis is made the same way, at yesterday 10:30.
 */
async function seedSettledDay(options: DemoFlexOptions, dso: DsoSimulator, metered: Map<string, Map<number, Wh>>, signal: AbortSignal): Promise<void> {
  const nowMs = options.now();
  const today = grid(periodOf(nowMs, ZONE));
  const yesterday = grid(periodOf(today.startMs - 1, ZONE));
  const first = ispAt(yesterday, yesterday.startMs + SETTLED_HOUR * HOUR_MS)!;
  // The meters' history is stepped from 2026-01-01 (seconds of CPU on this thread) while the solver plans in its own.
  const street = streetReadings(yesterday, first, first + 3, signal);
  street.catch(() => undefined);
  // Each message's answer may start another exchange (offer → order → its response): a few rounds settle them all.
  const exchange = async () => {
    for (let round = 0; round < 4; round++) {
      signal.throwIfAborted();
      await options.flush();
      await dso.idle();
    }
  };
  try {
    options.setClock(yesterday.startMs - 13.5 * HOUR_MS);
    await options.prognose();
    await exchange();
    if (!dso.received.some((m) => m.type === 'D-Prognosis' && m.period === yesterday.period)) {
      options.warn('demo: no D-Prognosis could be planned for yesterday: the demo has no settled flexibility');
      return;
    }
    // Nothing asked of the other ISPs (no rebound): what is ordered is the requested hour, the one metered.
    await dso.sendFlexRequest(yesterday.period, [{ start: first, duration: 4, minPower: 1_000, maxPower: 8_000 }], yesterday.startMs - HOUR_MS, { minPower: 0, maxPower: 0 });
    await exchange();
    options.setClock(today.startMs - 13.5 * HOUR_MS);
    await options.prognose();
    await exchange();
  } finally {
    options.setClock(undefined);
  }
  const order = dso.orders.find((o) => o.state === 'accepted' && o.order.period === yesterday.period)?.order;
  if (!order) {
    options.warn('demo: the DSO\'s order for yesterday was not accepted: the demo has no settled flexibility');
    return;
  }
  const { readings, instants } = await street;
  signal.throwIfAborted();
  for (const [deviceId, list] of readings) await options.ingest(deviceId, list);
  await options.flushIntervals();
  metered.set(yesterday.period, dsoMetering(readings, instants, first));
  await dso.settle(yesterday.period);
  await exchange();
}

/** What each street device reports at the quarter hours bounding ISPs `first`…`last` of a day: the simulator's registers, continuous with the replay's. */
async function streetReadings(day: PeriodGrid, first: number, last: number, signal: AbortSignal): Promise<{ readings: Map<string, Reading[]>; instants: number[] }> {
  const street = sunnyStreetDevices().map((device, index) => ({ ...device, deviceId: demoDeviceId(index) }));
  const instants = Array.from({ length: last - first + 2 }, (_, i) => ispStartMs(day, first) + i * ISP_MINUTES * 60_000);
  return { readings: await readingsAt(street, instants, { signal }), instants };
}

/** The DSO's reading of the same meters: import − export per ISP over the billing meters (the devices that report the grid registers). */
function dsoMetering(readings: ReadonlyMap<string, readonly Reading[]>, instants: readonly number[], first: number): Map<number, Wh> {
  const register = (list: readonly Reading[], quantity: string, at: number) => list.find((r) => r.quantity === quantity && Date.parse(r.ts) === at)?.value ?? 0;
  const energy = new Map<number, Wh>();
  for (const list of readings.values()) {
    if (!list.some((r) => r.quantity === 'energy.import')) continue;
    for (let i = 0; i + 1 < instants.length; i++) {
      const [from, to] = [instants[i]!, instants[i + 1]!];
      const net = register(list, 'energy.import', to) - register(list, 'energy.import', from) - (register(list, 'energy.export', to) - register(list, 'energy.export', from));
      energy.set(first + i, (energy.get(first + i) ?? 0) + net);
    }
  }
  return energy;
}

/** Tomorrow's evening peak, asked for every six hours; orders settled an hour after their day. */
function liveSchedule(nowMs: number): RequestSchedule {
  const tomorrow = grid(periodOf(grid(periodOf(nowMs, ZONE)).endMs, ZONE));
  const first = ispAt(tomorrow, tomorrow.startMs + LIVE_HOUR * HOUR_MS)!;
  return { everyMs: 6 * HOUR_MS, requested: [{ start: first, duration: 4, minPower: -8_000, maxPower: -1_000 }], expiresBeforePeriodMs: HOUR_MS, settleAfterMs: HOUR_MS };
}

/** Every metering point's grid connection id (Austrian metering point numbers, which the DSO names its connections by). */
async function streetConnections(db: Db, communityId: string): Promise<string[]> {
  return (await meteringPointsOfCommunity(db, communityId)).map((p) => p.gridConnectionId).filter((id): id is string => id !== null);
}

function grid(period: string): PeriodGrid {
  return periodGrid(period, ZONE, ISP_MINUTES)!;
}

async function principalOf(db: Db, communityId: string, email: string): Promise<UserPrincipal> {
  const user = (await findUserByEmail(db, email))!;
  const memberId = (await memberIdOfUser(db, communityId, user.id))!;
  const role = email === DEMO_MANAGER_EMAIL ? 'manager' : 'member';
  return { kind: 'user', userId: user.id, email: user.email, isAdmin: false, memberships: [{ memberId, communityId, role, state: 'active' }] };
}

/** The simulated DSO's Ed25519 key, made at the first start and kept (mode 600) so the address book's entry stays right. */
function dsoKey(folder: string) {
  const path = join(folder, 'dso-signing-key');
  if (!existsSync(path)) {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeFileSync(path, `${Buffer.from(secretKeyBytes(generateSigningKey())).toString('base64')}\n`, { mode: 0o600 });
  }
  return signingKeyFromSecret(readFileSync(path, 'utf8').trim());
}
