import { randomUUID } from 'node:crypto';
import type { FlexContract, FlexMyDevices, FlexOptIn } from '@gridshare/contract/flex';
import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import type { EventPublisher, Publish } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import { BadRequestError, ConflictError, NotFoundError } from '../kernel/errors.js';
import { activeMembership, requireUser } from '../accounts/index.js';
import { communityDevices, deviceById, loadCommunity, meteringPointIdsOfMember, requireCommunityManager } from '../registry/index.js';
import { isControllableKind } from '../optimise/index.js';
import { afterAction, checkContract, formatFeePercent, formatPrice, type ContractAction, type ContractInput } from './domain/contracts.js';
import {
  contractById, contractsOfCommunity, deleteOptIn, identityOfCommunity, optInsOfDevices, participantById, participationOf, saveContract, saveOptIn,
  type Participation, type StoredContract, type StoredOptIn,
} from './store.js';

const iso = (ms: number) => new Date(ms).toISOString();
const NOBODY: Participation = { devices: 0, devicesWithoutLimit: 0, allowedPowerW: 0 };

/**
 * Flexibility contracts with DSOs (managers) and members' devices taking part in them. Managers
 * see how many devices take part and the power allowed, never whose; members opt in only their own
 * controllable devices. Every change is on the audit trail (kind `flex`) in its transaction.
 */
export class FlexContracts {
  constructor(private readonly options: { db: Db; events: EventPublisher; now: () => number }) {}

  async list(principal: Principal, communityId: string): Promise<FlexContract[]> {
    const { db } = this.options;
    await requireCommunityManager(db, principal, communityId);
    const contracts = await contractsOfCommunity(db, communityId);
    const participation = await participationOf(db, contracts.map((c) => c.id));
    return contracts.map((c) => contractView(c, participation.get(c.id)));
  }

  async create(principal: Principal, communityId: string, input: ContractInput): Promise<FlexContract> {
    const { db, events } = this.options;
    await requireCommunityManager(db, principal, communityId);
    const nowMs = this.options.now();
    return events.transaction(db, async (tx, publish) => {
      const contract: StoredContract = {
        id: randomUUID(), communityId, ...(await this.checked(tx, communityId, input)), state: 'draft',
        createdAtMs: nowMs, updatedAtMs: nowMs, activatedAtMs: null, endedAtMs: null,
      };
      await saveContract(tx, contract);
      await this.recordContract(publish, 'create-contract', undefined, contract);
      return contractView(contract, undefined);
    });
  }

  async get(principal: Principal, id: string): Promise<FlexContract> {
    const contract = await this.managed(this.options.db, principal, id);
    return this.view(this.options.db, contract);
  }

  async update(principal: Principal, id: string, input: ContractInput): Promise<FlexContract> {
    return this.change(principal, id, 'update', async (tx, contract) => ({ ...contract, ...(await this.checked(tx, contract.communityId, input)) }));
  }

  /** Activation checks the terms again: the address book may have changed since the draft was written. */
  async activate(principal: Principal, id: string): Promise<FlexContract> {
    return this.change(principal, id, 'activate', async (tx, contract) => {
      await this.checked(tx, contract.communityId, { ...contract, capacityRemuneration: formatPrice(contract.capacityPrice),
        volumeRemuneration: formatPrice(contract.volumePrice), penaltyRate: formatPrice(contract.penaltyRate),
        communityFeePercent: formatFeePercent(contract.communityFeeBasisPoints), directOrders: contract.directOrders });
      return { ...contract, activatedAtMs: this.options.now() };
    });
  }

  async end(principal: Principal, id: string): Promise<FlexContract> {
    return this.change(principal, id, 'end', async (_tx, contract) => ({ ...contract, endedAtMs: this.options.now() }));
  }

  /** The caller's own controllable devices in the community, the contracts open to them and where each takes part. */
  async myDevices(principal: Principal, communityId: string): Promise<FlexMyDevices> {
    const { db } = this.options;
    const membership = activeMembership(requireUser(principal), communityId);
    if (!membership) throw new NotFoundError('community');
    const points = new Set(await meteringPointIdsOfMember(db, membership.memberId));
    const devices = (await communityDevices(db, communityId)).filter((d) => d.meteringPointId !== null && points.has(d.meteringPointId) && isControllableKind(d.kind));
    const optIns = await optInsOfDevices(db, devices.map((d) => d.id));
    const contracts = await contractsOfCommunity(db, communityId, ['draft', 'active']);
    return {
      contracts: contracts.map((c) => ({ id: c.id, serviceType: c.serviceType, state: c.state, validFrom: c.validFrom, validTo: c.validTo, timeZone: c.timeZone, windows: windowsView(c) })),
      devices: devices.map((d) => ({
        id: d.id, name: d.name, kind: d.kind,
        optIns: optIns.filter((o) => o.deviceId === d.id).map((o) => ({ contractId: o.contractId, maxPowerW: o.maxPowerW, optedInAt: iso(o.optedInAtMs) })),
      })),
    };
  }

  /**
   * A member's own choice, kept off the community's audit trail: managers see participation only
   * as counts (see README), and the trail is theirs to read. The opt-in keeps its time here.
   */
  async optIn(principal: Principal, contractId: string, deviceId: string, maxPowerW: number | null): Promise<FlexOptIn> {
    return this.options.db.transaction(async (tx) => {
      const { contract, device, memberId } = await this.ownDeviceIn(tx, principal, contractId, deviceId, { lock: true });
      if (!isControllableKind(device.kind)) {
        throw new BadRequestError(`params/deviceId: a ${device.kind} cannot be controlled for flexibility (batteries, EV chargers, heat pumps and appliances can)`, 'params/deviceId');
      }
      afterAction(contract.state, 'opt-in');
      const existing = (await optInsOfDevices(tx, [deviceId])).find((o) => o.contractId === contractId);
      const optIn = { contractId, deviceId, maxPowerW, optedInAtMs: existing?.optedInAtMs ?? this.options.now() };
      await saveOptIn(tx, { ...optIn, communityId: contract.communityId, memberId });
      return { ...optIn, optedInAt: iso(optIn.optedInAtMs) };
    });
  }

  async optOut(principal: Principal, contractId: string, deviceId: string): Promise<void> {
    await this.options.db.transaction(async (tx) => {
      await this.ownDeviceIn(tx, principal, contractId, deviceId, { lock: true });
      await deleteOptIn(tx, contractId, deviceId);
    });
  }

  /** A contract's terms and state as the API shows them; who takes part is no manager's change, so not on its entries. */
  private async recordContract(publish: Publish, action: string, before: StoredContract | undefined, after: StoredContract): Promise<void> {
    const terms = (c: StoredContract) => {
      const { participation: _participation, ...view } = contractView(c, undefined);
      return view;
    };
    await recordChange(publish, {
      kind: 'flex', communityId: after.communityId, resourceId: after.id, action, before: before ? terms(before) : null, after: terms(after), atMs: this.options.now(),
    });
  }

  /** The contract (only its community's active members learn it exists) and the caller's own device in that community. */
  private async ownDeviceIn(db: Queryable, principal: Principal, contractId: string, deviceId: string, options: { lock: boolean }) {
    const user = requireUser(principal);
    const contract = await contractById(db, contractId, options);
    const membership = contract && activeMembership(user, contract.communityId);
    if (!contract || !membership) throw new NotFoundError('contract');
    const device = await deviceById(db, deviceId);
    const own = device?.communityId === contract.communityId && device.meteringPointId !== null
      && (await meteringPointIdsOfMember(db, membership.memberId)).includes(device.meteringPointId);
    if (!device || !own) throw new NotFoundError('device');
    return { contract, device, memberId: membership.memberId };
  }

  private async managed(db: Queryable, principal: Principal, id: string, options: { lock?: boolean } = {}): Promise<StoredContract> {
    const contract = await contractById(db, id, options);
    if (!contract) throw new NotFoundError('contract');
    await requireCommunityManager(db, principal, contract.communityId);
    return contract;
  }

  private async change(principal: Principal, id: string, action: ContractAction, apply: (tx: Queryable, contract: StoredContract) => Promise<StoredContract>): Promise<FlexContract> {
    return this.options.events.transaction(this.options.db, async (tx, publish) => {
      const contract = await this.managed(tx, principal, id, { lock: true });
      const state = afterAction(contract.state, action);
      const changed: StoredContract = { ...(await apply(tx, contract)), state, updatedAtMs: this.options.now() };
      await saveContract(tx, changed);
      await this.recordContract(publish, `${action}-contract`, contract, changed);
      return this.view(tx, changed);
    });
  }

  /** The terms, checked against the community's own address book, with the zone and currency they are read in. */
  private async checked(db: Queryable, communityId: string, input: ContractInput) {
    const identity = await identityOfCommunity(db, communityId);
    if (!identity) throw new ConflictError('set the community\'s UFTP identity first: its time zone is the one of the contract\'s windows');
    const participant = await participantById(db, input.participantId);
    const terms = checkContract(input, participant?.communityId === communityId ? participant : undefined);
    const community = await loadCommunity(db, communityId);
    if (!community) throw new NotFoundError('community');
    return { ...terms, timeZone: identity.timeZone, currency: community.currency };
  }

  private async view(db: Queryable, contract: StoredContract): Promise<FlexContract> {
    return contractView(contract, (await participationOf(db, [contract.id])).get(contract.id));
  }
}

const windowsView = (c: StoredContract) => c.windows.map((w) => ({ ...w, weekdays: [...w.weekdays] }));

function contractView(c: StoredContract, participation: Participation | undefined): FlexContract {
  return {
    id: c.id, communityId: c.communityId, participantId: c.participantId, congestionPoints: [...c.congestionPoints], serviceType: c.serviceType,
    validFrom: c.validFrom, validTo: c.validTo, timeZone: c.timeZone, windows: windowsView(c), currency: c.currency,
    capacityRemuneration: formatPrice(c.capacityPrice), volumeRemuneration: formatPrice(c.volumePrice), penaltyRate: formatPrice(c.penaltyRate),
    communityFeePercent: formatFeePercent(c.communityFeeBasisPoints), directOrders: c.directOrders, state: c.state, createdAt: iso(c.createdAtMs), updatedAt: iso(c.updatedAtMs), activatedAt: c.activatedAtMs === null ? null : iso(c.activatedAtMs),
    endedAt: c.endedAtMs === null ? null : iso(c.endedAtMs), participation: { ...(participation ?? NOBODY) },
  };
}
