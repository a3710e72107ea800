import type { Queryable } from '../platform/store/db.js';
import type { DeviceDataScope } from '../registry/index.js';
import { BadRequestError } from '../kernel/errors.js';
import { isQuantity } from '../kernel/quantities.js';
import { loadDeviceStates, readingsInWindows, type ReadingWindow, type StoredDeviceState } from './store.js';

/** A device that has not been heard from for this long is shown offline. */
export const ONLINE_WINDOW_MS = 5 * 60_000;

/** Raw readings one request returns at most. */
const READINGS_LISTED = 10_000;

/** A device's state as the API shows it. */
export interface DeviceStateView {
  deviceId: string;
  online: boolean;
  lastSeenAt: string | null;
  messagesTotal: number;
  readingsTotal: number;
  duplicatesTotal: number;
  rejectedTotal: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

/**
 * A member sees a device's state only since it was bound to their site: counters from there on,
 * and when it was last seen or last failed only if that was since.
 */
function scopeState(state: StoredDeviceState | undefined, scope: DeviceDataScope): StoredDeviceState | undefined {
  if (!state || scope.kind === 'all') return state;
  if (!scope.current) return undefined;
  const { from, countersAtStart: start } = scope.current;
  const since = (at: Date | null) => (at && (from === null || at.getTime() >= from) ? at : null);
  const lastErrorAt = since(state.lastErrorAt);
  return {
    deviceId: state.deviceId,
    lastSeenAt: since(state.lastSeenAt),
    messagesTotal: Math.max(0, state.messagesTotal - start.messages),
    readingsTotal: Math.max(0, state.readingsTotal - start.readings),
    duplicatesTotal: Math.max(0, state.duplicatesTotal - start.duplicates),
    rejectedTotal: Math.max(0, state.rejectedTotal - start.rejected),
    lastError: lastErrorAt ? state.lastError : null,
    lastErrorAt,
  };
}

/** The states of `ids`, in that order, as the caller may see them; a device never heard from has zero counters. */
export async function deviceStateViews(db: Queryable, ids: string[], scopes: ReadonlyMap<string, DeviceDataScope>): Promise<DeviceStateView[]> {
  const byId = new Map((await loadDeviceStates(db, ids)).map((s) => [s.deviceId, s]));
  const now = Date.now();
  return ids.map((deviceId) => {
    const s = scopeState(byId.get(deviceId), scopes.get(deviceId) ?? { kind: 'member', windows: [], current: undefined });
    return {
      deviceId,
      online: !!s?.lastSeenAt && now - s.lastSeenAt.getTime() < ONLINE_WINDOW_MS,
      lastSeenAt: s?.lastSeenAt?.toISOString() ?? null,
      messagesTotal: s?.messagesTotal ?? 0,
      readingsTotal: s?.readingsTotal ?? 0,
      duplicatesTotal: s?.duplicatesTotal ?? 0,
      rejectedTotal: s?.rejectedTotal ?? 0,
      lastError: s?.lastError ?? null,
      lastErrorAt: s?.lastErrorAt?.toISOString() ?? null,
    };
  });
}

/** Raw readings of a device or a metering point in a range, inside what the caller may see of it. */
export async function readingsIn(
  db: Queryable,
  of: { readonly deviceId: string } | { readonly meteringPointId: string },
  query: { from: string; to: string; quantity?: string | undefined },
  scope: DeviceDataScope,
): Promise<{ deviceId: string; ts: string; quantity: string; value: number }[]> {
  const { from, to, quantity } = query;
  if (quantity !== undefined && !isQuantity(quantity)) throw new BadRequestError('querystring/quantity: unknown quantity', 'querystring/quantity');
  if (Date.parse(to) <= Date.parse(from)) throw new BadRequestError('querystring/to: must be after from', 'querystring/to');
  const windows: readonly ReadingWindow[] = scope.kind === 'all' ? [{ from: null, until: null }] : scope.windows;
  if (windows.length === 0) return [];
  const rows = await readingsInWindows(db, of, { from: new Date(from), to: new Date(to), quantity: quantity ?? null, windows, limit: READINGS_LISTED });
  return rows.map((r) => ({ deviceId: r.deviceId, ts: r.ts.toISOString(), quantity: r.quantity, value: r.value }));
}

/** What a group of devices (a community's) sent, as an operator sees it: totals since they were first heard from. */
export interface IngestFigures {
  readonly devices: number;
  readonly devicesOnline: number;
  readonly messagesTotal: number;
  readonly readingsTotal: number;
  readonly refusedTotal: number;
  /** The most recent refusal among them. */
  readonly lastRefusal: { readonly at: Date; readonly message: string } | null;
}

export async function ingestFigures(db: Queryable, deviceIds: readonly string[], now: number): Promise<IngestFigures> {
  const states = deviceIds.length === 0 ? [] : await loadDeviceStates(db, deviceIds);
  let lastRefusal: IngestFigures['lastRefusal'] = null;
  for (const s of states) {
    if (s.lastErrorAt && s.lastError !== null && (!lastRefusal || s.lastErrorAt > lastRefusal.at)) lastRefusal = { at: s.lastErrorAt, message: s.lastError };
  }
  const sum = (field: 'messagesTotal' | 'readingsTotal' | 'rejectedTotal') => states.reduce((total, s) => total + s[field], 0);
  return {
    devices: deviceIds.length,
    devicesOnline: states.filter((s) => s.lastSeenAt && now - s.lastSeenAt.getTime() < ONLINE_WINDOW_MS).length,
    messagesTotal: sum('messagesTotal'),
    readingsTotal: sum('readingsTotal'),
    refusedTotal: sum('rejectedTotal'),
    lastRefusal,
  };
}
