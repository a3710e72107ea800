import type { Db, Queryable } from '../platform/store/db.js';
import { createUser, findUserByEmail, hashPassword, upsertUserWithHash } from '../accounts/index.js';
import { communityIdByName, createCommunity, insertActiveMember, insertDevice, insertMeteringPoint, memberIdOfUser, patchMember, createTariff, type DeviceKind, type MeteringPointRole } from '../registry/index.js';
import type { UserPrincipal } from '../kernel/principal.js';
import { giveDeviceKeys } from '../provisioning/index.js';
import { writeCo2 } from '../sharing/index.js';
import { GARDEN_HOUSE, SITE_WITH_INVERTER } from '../simulator/index.js';
import type { SecretBox } from '../secrets/index.js';
import { addConnector } from '../connectors/index.js';
import { seedDemoPrivacy } from '../privacy/index.js';
import { fundWallet, openMarket, parseMarketPrice, setAgentLimits, SHARE_UNIT } from '../market/index.js';
import { DEMO_CSV_COLUMNS } from './connector-source.js';
import { enableDemoControl } from '../optimise/index.js';

import type { DeviceRole } from '../kernel/energy.js';
export const DEMO_COMMUNITY_NAME = 'Sunny Street';
export const DEMO_PASSWORD = 'sunny-street';
export const DEMO_MANAGER_EMAIL = 'manager@sunny-street.demo';
export const DEMO_HOUSEHOLDS = 30;
export const demoMemberEmail = (n: number) => `member${String(n).padStart(2, '0')}@sunny-street.demo`;

export interface DemoCommunity {
  communityId: string;
  created: boolean;
  logins: { role: string; email: string; password: string }[];
}

const logins = [
  { role: 'manager', email: DEMO_MANAGER_EMAIL, password: DEMO_PASSWORD },
  { role: 'member', email: demoMemberEmail(1), password: DEMO_PASSWORD },
];

/** The demo's devices, in the order of the simulator's Sunny Street sites. */
export const demoDeviceId = (index: number) => `demo-${String(index + 1).padStart(3, '0')}`;

/**
 * Household 1's devices that follow commands (issue 15): the plan's setpoints and the member's own
 * commands reach them over MQTT, and what they then do shows in their readings.
 */
export const DEMO_CONTROLLED_DEVICES = [
  { id: 'demo-home-battery', kind: 'battery', role: 'storage', name: 'Home battery, Sunny Street 1', model: 'battery' },
  { id: 'demo-ev-charger', kind: 'ev-charger', role: 'sub-load', name: 'EV charger, Sunny Street 1', model: 'ev-charger' },
  { id: 'demo-washing-machine', kind: 'smart-plug', role: 'sub-load', name: 'Washing machine, Sunny Street 1', model: 'washing-machine' },
  { id: 'demo-tank-heat-pump', kind: 'heat-pump', role: 'sub-load', name: 'Heat pump with hot-water tank, Sunny Street 1', model: 'heat-pump' },
] as const satisfies readonly { id: string; kind: DeviceKind; role: DeviceRole; name: string; model: string }[];

/** Grid connection ids in the Austrian Zählpunkt layout, unique per demo site. */
const zaehlpunkt = (n: number) => `AT0010000000000000000000000${String(n).padStart(6, '0')}`;

/**
 * Creates "Sunny Street" if it is absent: 30 households (every third with rooftop PV),
 * a library with 60 kWp PV and a 100 kWh community battery, with their meter readers; household 2
 * also has a garden house (a second site with its own meter), and Sunny Street 3 a PV inverter
 * beside its grid meter. Devices demo-001 … demo-034 in the order of the simulator's
 * `sunnyStreetDevices()`.
 */
export const DEMO_CONNECTOR_NAME = 'Heat pump gateway (CSV files)';
/** The household whose heat pump the demo's connector reads. */
const HEAT_PUMP_SITE = 'Sunny Street 5';

export async function ensureDemoCommunity(db: Db, secrets: SecretBox, options: { connectorFolder?: string } = {}): Promise<DemoCommunity> {
  const existing = await communityIdByName(db, DEMO_COMMUNITY_NAME);
  if (existing) return { communityId: existing, created: false, logins };

  // One hash for every demo account: the demo password is public anyway, and start-up stays fast.
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  return db.transaction(async (tx) => {
    const manager = (await findUserByEmail(tx, DEMO_MANAGER_EMAIL))
      ?? (await createUser(tx, { email: DEMO_MANAGER_EMAIL, password: DEMO_PASSWORD, displayName: 'Sunny Street manager', emailVerified: true }));
    const principal: UserPrincipal = { kind: 'user', userId: manager.id, email: manager.email, isAdmin: false, memberships: [] };
    const community = await createCommunity(tx, principal, {
      name: DEMO_COMMUNITY_NAME,
      description: 'Demo community: thirty households, the district library with 60 kWp of PV on its roof and a 100 kWh community battery.',
      timeZone: 'Europe/Vienna',
      currency: 'EUR',
      locale: 'de-AT',
      location: { latitude: 48.1734, longitude: 16.3808 },
      postcode: '1100',
      gridArea: 'AT-WIEN-NETZ',
      country: 'AT',
      allocationRule: 'at-eeg-dynamic',
      isPublic: true,
    });
    const managerMemberId = (await memberIdOfUser(tx, community.id, manager.id))!;
    // The manager holds the community battery, which takes part while its holder does: from before
    // any day the demo replays or trades, as the households (whose part has no start).
    await patchMember(tx, managerMemberId, { activeFrom: new Date(Date.UTC(2000, 0, 1)) });
    const managerPrincipal: UserPrincipal = {
      ...principal,
      memberships: [{ memberId: managerMemberId, communityId: community.id, role: 'manager', state: 'active' }],
    };
    await createTariff(tx, managerPrincipal, community.id, {
      name: 'Standard 2026',
      gridPrice: '0.2850',
      communityPrice: '0.1400',
      feedInPrice: '0.0700',
      gridFeeReduction: '0.0180',
      validFrom: '2026-01-01',
      timeOfUse: null,
    });

    // Illustrative grid intensity for the demo's "CO2 avoided" (a manager sets the real one).
    await writeCo2(tx, community.id, 200, []);
    const sites: {
      member: string; name: string; role: MeteringPointRole; pv: number | null; battery: number | null; device: string; kind: DeviceKind; deviceRole: DeviceRole;
      communityBattery?: boolean; connectionCapacityW?: number;
    }[] = [];
    for (let n = 1; n <= DEMO_HOUSEHOLDS; n++) {
      const email = demoMemberEmail(n);
      const userId = await upsertUserWithHash(tx, { email, displayName: `Household ${n}`, passwordHash });
      // Members from the beginning (no start): the simulation's history counts for them.
      const member = await insertActiveMember(tx, { communityId: community.id, userId, displayName: `Household ${n}`, decidedBy: manager.id, activeFrom: null });
      const hasPv = n % 3 === 0;
      sites.push({
        member,
        name: `Sunny Street ${n}`,
        role: hasPv ? 'prosumer' : 'consumer',
        pv: hasPv ? 5_000 + (n % 4) * 1_000 : null,
        battery: null,
        device: `Meter reader, Sunny Street ${n}`,
        kind: 'meter-reader',
        deviceRole: 'billing-meter',
      });
    }
    const libraryUser = await upsertUserWithHash(tx, { email: 'library@sunny-street.demo', displayName: 'District library', passwordHash });
    const libraryMember = await insertActiveMember(tx, {
      communityId: community.id, userId: libraryUser, displayName: 'District library', decidedBy: manager.id, activeFrom: null,
    });
    // The library's inverter and the battery's controller are their sites' only meters: their billing meters.
    sites.push({ member: libraryMember, name: 'District library', role: 'producer', pv: 60_000, battery: null, device: 'Library PV inverter', kind: 'inverter', deviceRole: 'billing-meter' });
    sites.push({
      member: managerMemberId, name: 'Community battery', role: 'prosumer', pv: null, battery: 100_000, device: 'Community battery', kind: 'battery',
      deviceRole: 'billing-meter', communityBattery: true, connectionCapacityW: 60_000,
    });
    // Household 2's second site, with a meter of its own.
    sites.push({ member: sites[1]!.member, name: GARDEN_HOUSE, role: 'consumer', pv: null, battery: null, device: 'Meter reader, garden house', kind: 'meter-reader', deviceRole: 'billing-meter' });

    const addDevice = async (deviceId: string, pointId: string, kind: DeviceKind, role: DeviceRole, name: string) => {
      await insertDevice(tx, { id: deviceId, communityId: community.id, meteringPointId: pointId, kind, role, name, claimed: true });
      await giveDeviceKeys(tx, secrets, { id: deviceId, communityId: community.id });
    };
    const pointOf = new Map<string, string>();
    for (const [index, site] of sites.entries()) {
      const point = await insertMeteringPoint(tx, community.id, site.member, {
        name: site.name, address: `${site.name}, 1100 Wien`, gridConnectionId: zaehlpunkt(index + 1), role: site.role, pvCapacityW: site.pv,
        batteryCapacityWh: site.battery, communityBattery: site.communityBattery ?? false, connectionCapacityW: site.connectionCapacityW ?? null,
      });
      pointOf.set(site.name, point.id);
      await addDevice(demoDeviceId(index), point.id, site.kind, site.deviceRole, site.device);
    }
    // Sunny Street 3's PV inverter reports beside its grid meter: PV from the one, import and export from the other.
    await addDevice(demoDeviceId(sites.length), pointOf.get(SITE_WITH_INVERTER)!, 'inverter', 'production', `PV inverter, ${SITE_WITH_INVERTER}`);
    if (options.connectorFolder) {
      // Sunny Street 5's heat pump is read by a connector (CSV files a gateway drops in a folder), not by a meter reader.
      const heatPump = demoDeviceId(sites.length + 1);
      await insertDevice(tx, { id: heatPump, communityId: community.id, meteringPointId: pointOf.get(HEAT_PUMP_SITE)!, kind: 'heat-pump', role: 'sub-load', name: `Heat pump, ${HEAT_PUMP_SITE}`, claimed: true });
      await addConnector(tx, {
        communityId: community.id, kind: 'csv-files', name: DEMO_CONNECTOR_NAME, intervalS: 60, bindings: [{ target: 'heat-pump', deviceId: heatPump }],
        config: {
          source: { type: 'local', folder: options.connectorFolder },
          mapping: { timestampColumn: DEMO_CSV_COLUMNS.time, values: [{ field: DEMO_CSV_COLUMNS.register, target: 'heat-pump', quantity: 'energy.import', unit: 'kWh' }] },
        },
      });
    }
    // Household 1 (the demo member) shares a month of daily import with household 2; the manager read its quarter hours once.
    await seedDemoPrivacy(tx, {
      communityId: community.id, grantor: sites[0]!.member, meteringPoint: pointOf.get(sites[0]!.name)!,
      recipient: { kind: 'member', id: sites[1]!.member, label: 'Household 2' }, manager: { userId: manager.id, name: manager.email }, now: Date.now(),
    });
    await openDemoMarket(tx, community.id, sites);
    // Household 1 has a home battery, an EV charger, a washing machine on a smart plug and a heat pump
    // with a tank, simulated as devices that follow their commands; the demo lets the community's plan
    // control every controllable device, so a plan appears within a minute.
    for (const device of DEMO_CONTROLLED_DEVICES) await addDevice(device.id, pointOf.get('Sunny Street 1')!, device.kind, device.role, device.name);
    await enableDemoControl(tx, community.id);
    return { communityId: community.id, created: true, logins };
  });
}

const demoPrice = (text: string) => parseMarketPrice(text)!;
/** 0.01 in nano-units: payouts are asked for every wallet that earned on the market (their opening top-ups are never paid out). */
const DEMO_PAYOUT_THRESHOLD = 10_000_000n;
const DEMO_SELL_PRICES = ['0.0800', '0.0900', '0.1000', '0.1100'];
const DEMO_BUY_PRICES = ['0.1700', '0.1800', '0.1900', '0.2000', '0.2100'];

/**
 * The demo's local market: a uniform double auction between the feed-in tariff and the grid price
 * less a grid fee, gate closure 5 minutes before delivery; every household's and the library's
 * agent trades all of their expected surplus (at 0.08–0.11 per kWh at least) and need (at
 * 0.17–0.21 at most), the community battery's sells at 0.12 and buys at 0.09, and every member
 * but the library has 50.00 in its wallet.
 */
async function openDemoMarket(tx: Queryable, communityId: string, sites: readonly { member: string; role: MeteringPointRole; communityBattery?: boolean | undefined }[]): Promise<void> {
  const nowMs = Date.now();
  await openMarket(tx, communityId, {
    mechanism: 'uniform', gateLeadMinutes: 5, gridFee: demoPrice('0.0100'), floor: demoPrice('0.0700'), ceiling: demoPrice('0.2750'),
    surplusPrice: demoPrice('0.0700'), shortfallPrice: demoPrice('0.2850'), payoutThreshold: DEMO_PAYOUT_THRESHOLD,
  }, nowMs);
  const members = [...new Map(sites.map((s) => [s.member, s])).values()];
  for (const [n, { member: memberId, role, communityBattery }] of members.entries()) {
    const sells = role !== 'consumer';
    // The community battery sells what it discharges above the households' offers and buys to charge below them.
    await setAgentLimits(tx, communityId, {
      memberId, enabled: true, sellShare: SHARE_UNIT, buyShare: SHARE_UNIT, devices: [],
      minSellPrice: communityBattery ? demoPrice('0.1200') : sells ? demoPrice(DEMO_SELL_PRICES[n % DEMO_SELL_PRICES.length]!) : undefined,
      maxBuyPrice: communityBattery ? demoPrice('0.0900') : role === 'producer' ? undefined : demoPrice(DEMO_BUY_PRICES[n % DEMO_BUY_PRICES.length]!),
    }, nowMs);
    if (role !== 'producer') await fundWallet(tx, communityId, { memberId, amountMinor: 5_000n, digits: 2, reference: 'demo opening balance' }, nowMs);
  }
}
