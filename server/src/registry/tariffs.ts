import type { Db, Queryable } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import type { Principal } from '../kernel/principal.js';
import { isMemberOf, requireManager, requireUser } from '../accounts/index.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { conflictOnDuplicate } from '../platform/store/errors.js';
import { deleteTariffRow, insertTariff, patchTariff, tariffById, tariffsOfCommunity, type Tariff, type TariffInput, type TimeOfUseWindow } from './store/tariffs.js';

export type { Tariff, TariffInput, TimeOfUseWindow };

function assertTimeOfUse(windows: TimeOfUseWindow[] | null | undefined): void {
  for (const [index, window] of (windows ?? []).entries()) {
    if (window.from >= window.to && window.to !== '00:00') {
      throw new BadRequestError(`body/timeOfUse/${index}: "from" must be before "to"`, `body/timeOfUse/${index}`);
    }
  }
}

/** Tariffs are visible to the community's active members and its managers. */
function requireMemberOf(principal: Principal, communityId: string): void {
  requireUser(principal);
  if (!isMemberOf(principal, communityId)) throw new NotFoundError('community');
}

export async function listTariffs(db: Queryable, principal: Principal, communityId: string): Promise<Tariff[]> {
  requireMemberOf(principal, communityId);
  return loadTariffs(db, communityId);
}

/** Every tariff version of a community, oldest first (callers have checked access). */
export async function loadTariffs(db: Queryable, communityId: string): Promise<Tariff[]> {
  return tariffsOfCommunity(db, communityId);
}

async function loadTariff(db: Queryable, id: string): Promise<Tariff | undefined> {
  return tariffById(db, id);
}

export async function getTariff(db: Queryable, principal: Principal, id: string): Promise<Tariff> {
  requireUser(principal);
  const tariff = await loadTariff(db, id);
  if (!tariff || !isMemberOf(principal, tariff.communityId)) throw new NotFoundError('tariff');
  return tariff;
}

const DUPLICATE_START = 'a tariff already starts on this date';

export async function createTariff(db: Queryable, principal: Principal, communityId: string, input: TariffInput): Promise<Tariff> {
  requireManager(principal, communityId);
  assertTimeOfUse(input.timeOfUse);
  return conflictOnDuplicate(DUPLICATE_START, () => insertTariff(db, communityId, input));
}

/** A manager adds a tariff version; the audit trail records it. */
export async function addTariff(db: Db, events: EventPublisher, principal: Principal, communityId: string, input: TariffInput): Promise<Tariff> {
  return events.transaction(db, async (tx, publish) => {
    const tariff = await createTariff(tx, principal, communityId, input);
    await recordChange(publish, { kind: 'tariff', communityId, resourceId: tariff.id, action: 'create', before: null, after: tariff });
    return tariff;
  });
}

export async function updateTariff(db: Db, events: EventPublisher, principal: Principal, id: string, patch: Partial<TariffInput>): Promise<Tariff> {
  return events.transaction(db, async (tx, publish) => {
    const tariff = await getTariff(tx, principal, id);
    requireManager(principal, tariff.communityId, 'tariff');
    assertTimeOfUse(patch.timeOfUse);
    const after = await conflictOnDuplicate(DUPLICATE_START, () => patchTariff(tx, id, patch));
    await recordChange(publish, { kind: 'tariff', communityId: tariff.communityId, resourceId: id, action: 'update', before: tariff, after });
    return after;
  });
}

export async function deleteTariff(db: Db, events: EventPublisher, principal: Principal, id: string): Promise<void> {
  await events.transaction(db, async (tx, publish) => {
    const tariff = await getTariff(tx, principal, id);
    requireManager(principal, tariff.communityId, 'tariff');
    await deleteTariffRow(tx, id);
    await recordChange(publish, { kind: 'tariff', communityId: tariff.communityId, resourceId: id, action: 'delete', before: tariff, after: null });
  });
}
