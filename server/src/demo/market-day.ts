import type { Db } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { UserPrincipal } from '../kernel/principal.js';
import type { Reading } from '../kernel/quantities.js';
import { DAY_MS, QUARTER_HOUR_MS } from '../kernel/time.js';
import { formatNano, parseNano } from '../kernel/money.js';
import { findUserByEmail } from '../accounts/index.js';
import { ingestDevice, memberIdOfUser } from '../registry/index.js';
import { runSimulation, sunnyStreetDevices } from '../simulator/index.js';
import type { ReadingWriter } from '../ingest/index.js';
import { catchUpSlots, communityPayouts, decideOnPayout, fileDispute, memberWallet, requestDuePayouts, settleDispute, settleDueSlots } from '../market/index.js';
import { DEMO_MANAGER_EMAIL, demoDeviceId, demoMemberEmail } from './seed.js';

/** What the platform lends the demo's market day: its ingest writer, the interval job and how far the record holds the postings. */
export interface DemoMarketDayPlatform {
  readonly db: Db;
  readonly events: EventPublisher;
  readonly writer: ReadingWriter;
  readonly intervals: { flush(): Promise<void> };
  readonly ledger: { readonly service: { recordedMarketPostings(communityId: string): Promise<number> } };
}

export interface DemoMarketDay {
  readonly fromMs: number;
  readonly toMs: number;
  readonly readings: number;
  /** The member who disputed, the posting and the dispute. */
  readonly dispute?: { memberId: string; posting: number; id: string } | undefined;
  /** The payout the manager confirmed. */
  readonly payout?: { memberId: string; id: string } | undefined;
}

/** Simulated seconds per message: one message per device and quarter hour (each carries the quarter hours' register values). */
const TICK_MS = 10;
const SPEED = (15 * 60_000) / TICK_MS;
/** One cent, in nano-units. */
const REFUND = 10_000_000n;

/**
 * Midsummer day in Vienna (21 June, local) of the latest year in which it is over: a day of the
 * street's largest surplus, the same day at every start of a year.
 */
export function demoMarketDay(nowMs: number): { fromMs: number; toMs: number } {
  const start = (year: number) => Date.UTC(year, 5, 20, 22);
  let year = new Date(nowMs).getUTCFullYear();
  if (start(year) + DAY_MS > nowMs) year -= 1;
  return { fromMs: start(year), toMs: start(year) + DAY_MS };
}

/**
 * The demo's day of trading: the simulated street's meters of midsummer day go through ingest (the
 * writer the MQTT and HTTP uplinks use) and the interval job; the market then clears each slot as
 * its job catches up on past slots (the agents bid on what the meters showed before each gate) and
 * settles it against those meters, paying from the wallets (one posting per member and line kind for
 * the day). Member 1 disputes their purchase posting (the day's purchases, or the largest should there
 * be several) and the manager refunds a cent of it; the month's payouts are requested (wallets whose
 * market earnings reach the threshold) and the manager confirms the largest. Deterministic: the simulator's street from
 * its fixed seed and anchor, a fixed day, the market's rules.
 */
export async function tradeDemoDay(platform: DemoMarketDayPlatform, communityId: string, nowMs = Date.now()): Promise<DemoMarketDay> {
  const { fromMs, toMs } = demoMarketDay(nowMs);
  const readings = await replayMeters(platform, fromMs, toMs);
  await platform.intervals.flush();
  // As the market job catches up, with "now" at the day's last slot: the day's slots and none after.
  await catchUpSlots(platform.db, platform.events, communityId, fromMs, toMs - QUARTER_HOUR_MS);
  await settleDueSlots(platform.db, platform.events, communityId, toMs, toMs);

  const manager = await principalOf(platform.db, communityId, DEMO_MANAGER_EMAIL, 'manager');
  const member = await principalOf(platform.db, communityId, demoMemberEmail(1), 'member');
  const memberId = member.memberships[0]!.memberId;
  const wallet = await memberWallet(platform.db, member, memberId, (id) => platform.ledger.service.recordedMarketPostings(id));
  // The member's purchases of the day (one posting: the day settles in one transaction; the largest, earliest of equals, were there more), so the cent refunded is less than it.
  const purchase = wallet.postings.filter((p) => p.kind === 'settlement' && p.line === 'purchase')
    .sort((a, b) => Number(parseNano(a.amount) - parseNano(b.amount)) || a.sequence - b.sequence)[0];
  let dispute: DemoMarketDay['dispute'];
  if (purchase && -parseNano(purchase.amount) > REFUND) {
    const filed = await fileDispute(platform.db, platform.events, nowMs, member, memberId, {
      posting: purchase.sequence, reason: 'My meter showed less that day: please check the purchases.',
    });
    await settleDispute(platform.db, platform.events, nowMs, manager, communityId, filed.id, {
      outcome: 'corrected', note: 'Checked against the meter: one cent refunded.', amount: formatNano(REFUND),
    });
    dispute = { memberId, posting: purchase.sequence, id: filed.id };
  }

  await requestDuePayouts(platform.db, platform.events, communityId, nowMs);
  const requested = (await communityPayouts(platform.db, manager, communityId)).filter((p) => p.state === 'requested');
  const largest = requested.sort((a, b) => Number(parseNano(b.amount) - parseNano(a.amount)) || a.memberId.localeCompare(b.memberId))[0];
  let payout: DemoMarketDay['payout'];
  if (largest) {
    await decideOnPayout(platform.db, platform.events, nowMs, manager, communityId, largest.id, { outcome: 'confirmed', reference: 'DEMO-TRANSFER-1' });
    payout = { memberId: largest.memberId, id: largest.id };
  }
  return { fromMs, toMs, readings, dispute, payout };
}

/** The street's meters from `fromMs` to `toMs`, written as the devices would have sent them. */
async function replayMeters(platform: DemoMarketDayPlatform, fromMs: number, toMs: number): Promise<number> {
  const devices = sunnyStreetDevices().map(({ site, readings }, index) => ({ deviceId: demoDeviceId(index), site, readings }));
  const sources = new Map<string, { deviceId: string; communityId: string; meteringPointId: string | null; boundFrom: number | null }>();
  for (const { deviceId } of devices) {
    const device = await ingestDevice(platform.db, deviceId);
    if (device) sources.set(deviceId, { deviceId, communityId: device.communityId, meteringPointId: device.meteringPointId, boundFrom: device.boundFrom });
  }
  const writes: Promise<unknown>[] = [];
  let count = 0;
  const stop = new AbortController();
  // A loaded machine skips ticks (the next message carries the quarter hours passed), so the run
  // stops once every device has sent past the day's end, not when the first one has.
  const behind = new Set(sources.keys());
  const deliver = (deviceId: string, list: readonly Reading[]) => {
    const source = sources.get(deviceId);
    if (!source) return;
    const within = list.filter((r) => Date.parse(r.ts) <= toMs);
    if (within.length < list.length) behind.delete(deviceId);
    if (behind.size === 0) stop.abort();
    if (within.length === 0) return;
    count += within.length;
    writes.push(platform.writer.write(source, within));
  };
  await runSimulation({
    devices: devices.filter((d) => sources.has(d.deviceId)), deliver, intervalMs: TICK_MS, speed: SPEED, start: new Date(fromMs), signal: stop.signal,
  });
  await Promise.all(writes);
  return count;
}

async function principalOf(db: Db, communityId: string, email: string, role: 'manager' | 'member'): Promise<UserPrincipal> {
  const user = (await findUserByEmail(db, email))!;
  const memberId = (await memberIdOfUser(db, communityId, user.id))!;
  return { kind: 'user', userId: user.id, email: user.email, isAdmin: false, memberships: [{ memberId, communityId, role, state: 'active' }] };
}
