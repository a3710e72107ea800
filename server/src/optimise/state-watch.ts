import type { Queryable } from '../platform/store/db.js';
import type { EventPayload } from '../kernel/events.js';
import { MINUTE_MS } from '../kernel/time.js';
import { departure, isStateQuantity, plannedStates, type Departure, type PlannedState } from './domain/state-change.js';
import { latestPlan } from './store.js';

/** A community's last plan's expectations are read again after this long (another process may have planned it since). */
const EXPECTATIONS_MAX_AGE_MS = 5 * MINUTE_MS;

interface Expectations {
  readonly loadedAtMs: number;
  /** Reports from before the plan was decided were known to it, or superseded by newer ones it knew. */
  readonly decidedAtMs: number;
  readonly states: ReadonlyMap<string, PlannedState>;
  /** A departure already asked for a new plan: the next plan brings new expectations. */
  asked: boolean;
}

/**
 * Hears devices' state reports (batteries' and EVs' state of charge, tanks' temperature) as ingest
 * commits them and tells the MPC job when one departs from the community's latest plan beyond its
 * threshold (domain/state-change.ts). Only fresh reports count (not older than `maxAgeMs`, never
 * stamped after now: what the next plan would start from; none from before the plan was decided); each plan asks at most once, so a device
 * that does not follow its plan is planned again once per plan, not once per report. Reading the
 * plan is a database query per community and few minutes, not per report.
 */
export class DeviceStateWatch {
  private readonly expectations = new Map<string, Promise<Expectations>>();
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Queryable,
    private readonly options: { now: () => number; maxAgeMs: number; onDeparture: (communityId: string, departure: Departure) => void },
  ) {}

  /** Committed readings: the state reports among them are compared with the plan (a failure rejects, for the bus to log). */
  heard(messages: EventPayload<'readings.committed'>['messages']): Promise<void> | undefined {
    const nowMs = this.options.now();
    const reports = messages.flatMap((message) => {
      // The newest fresh report per quantity of the message.
      const newest = new Map<string, { quantity: string; atMs: number; value: number }>();
      for (const reading of message.readings) {
        const atMs = Date.parse(reading.ts);
        if (!isStateQuantity(reading.quantity) || atMs > nowMs || atMs < nowMs - this.options.maxAgeMs) continue;
        if ((newest.get(reading.quantity)?.atMs ?? -Infinity) < atMs) newest.set(reading.quantity, { quantity: reading.quantity, atMs, value: reading.value });
      }
      return [...newest.values()].map((report) => ({ communityId: message.communityId, deviceId: message.deviceId, ...report }));
    });
    if (reports.length === 0) return undefined;
    const work = Promise.all(reports.map(async (report) => {
      const expected = await this.expectationsOf(report.communityId, nowMs);
      const state = expected?.states.get(report.deviceId);
      if (!state || expected.asked || report.atMs < expected.decidedAtMs || !isStateQuantity(report.quantity)) return;
      const found = departure(state, report.deviceId, report.quantity, report.value, report.atMs);
      if (!found) return;
      expected.asked = true;
      this.options.onDeparture(report.communityId, found);
    }));
    this.pending = Promise.all([this.pending, work.catch(() => undefined)]).then(() => undefined);
    return work.then(() => undefined);
  }

  /** A new plan was decided: its expectations are read on the next report. */
  planned(communityId: string): void {
    this.expectations.delete(communityId);
  }

  /** Resolves when the reports heard so far have been compared (the job's pass waits for them). */
  settled(): Promise<void> {
    return this.pending;
  }

  private expectationsOf(communityId: string, nowMs: number): Promise<Expectations> {
    const cached = this.expectations.get(communityId);
    if (cached) {
      return cached.then((entry) => {
        if (nowMs - entry.loadedAtMs <= EXPECTATIONS_MAX_AGE_MS) return entry;
        if (this.expectations.get(communityId) === cached) this.expectations.delete(communityId);
        return this.expectationsOf(communityId, nowMs);
      });
    }
    // A community without a plan expects nothing (until it has one or the entry is old).
    const loading = latestPlan(this.db, communityId, true).then((plan): Expectations => ({
      loadedAtMs: nowMs, decidedAtMs: plan?.decidedAtMs ?? -Infinity, states: plan?.document ? plannedStates(plan.document, plan.bindings, plan.scenario) : new Map(), asked: false,
    }));
    // A failed read is not kept: the next report reads again.
    loading.catch(() => this.expectations.delete(communityId));
    this.expectations.set(communityId, loading);
    return loading;
  }
}
