/**
 * Which part of a device's data a member may see, from the periods the device was bound to
 * metering points (device_bindings). Pure: instants are epoch milliseconds, null an open end.
 */

export interface DeviceCounters {
  readonly messages: number;
  readonly readings: number;
  readonly duplicates: number;
  readonly rejected: number;
}

export const NO_COUNTS: DeviceCounters = { messages: 0, readings: 0, duplicates: 0, rejected: 0 };

export interface BindingPeriod {
  readonly meteringPointId: string;
  /** The member who owns the metering point (null: the point was deleted since). */
  readonly ownerMemberId: string | null;
  /** Null: the device's first binding, which also covers what it sent before. */
  readonly from: number | null;
  /** Null: still bound. */
  readonly until: number | null;
  /** The device's counters when the period started. */
  readonly countersAtStart: DeviceCounters;
}

/** A half-open time range [from, until); null ends are unbounded. */
export interface TimeWindow {
  readonly from: number | null;
  readonly until: number | null;
}

export type DeviceDataScope =
  | { readonly kind: 'all' }
  | {
    readonly kind: 'member';
    /** The periods the device was on the member's sites: their readings. */
    readonly windows: readonly TimeWindow[];
    /** The start of the member's current unbroken period: their state and counters. Undefined when the device is not on their site now. */
    readonly current: { readonly from: number | null; readonly countersAtStart: DeviceCounters } | undefined;
  };

/** A member's part of a device's data. */
export type MemberDataScope = Extract<DeviceDataScope, { readonly kind: 'member' }>;

const byStart = (a: BindingPeriod, b: BindingPeriod) => (a.from ?? -Infinity) - (b.from ?? -Infinity);

/** The member's periods with the device, merged where one ends as the next begins (moved between their own sites). */
export function memberWindows(periods: readonly BindingPeriod[], memberIds: ReadonlySet<string>): TimeWindow[] {
  const windows: { from: number | null; until: number | null }[] = [];
  for (const period of [...periods].sort(byStart)) {
    if (period.ownerMemberId === null || !memberIds.has(period.ownerMemberId)) continue;
    const last = windows.at(-1);
    if (last && last.until !== null && last.until === period.from) last.until = period.until;
    else windows.push({ from: period.from, until: period.until });
  }
  return windows;
}

/**
 * The member's current unbroken period with the device (across moves between their own sites)
 * and the counters at its start, or undefined when the device is not bound to their site now.
 */
export function currentPeriod(periods: readonly BindingPeriod[], memberIds: ReadonlySet<string>): { from: number | null; countersAtStart: DeviceCounters } | undefined {
  const sorted = [...periods].sort(byStart);
  let index = sorted.findIndex((p) => p.until === null);
  const owns = (p: BindingPeriod | undefined) => p !== undefined && p.ownerMemberId !== null && memberIds.has(p.ownerMemberId);
  if (index < 0 || !owns(sorted[index])) return undefined;
  while (index > 0 && owns(sorted[index - 1]) && sorted[index - 1]!.until === sorted[index]!.from) index -= 1;
  const start = sorted[index]!;
  return { from: start.from, countersAtStart: start.countersAtStart };
}

export function memberScope(periods: readonly BindingPeriod[], memberIds: ReadonlySet<string>): MemberDataScope {
  return { kind: 'member', windows: memberWindows(periods, memberIds), current: currentPeriod(periods, memberIds) };
}

