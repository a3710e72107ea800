import type { Db, Queryable } from '../platform/store/db.js';
import { createLocalClock, dayRange, localDateOf } from '../kernel/calendar.js';
import { mandateEvidenceEnds } from './domain/mandate-evidence.js';
import {
  deleteBillingRecordsBefore, deleteMandateOf, deleteRestrictedMandatesBefore, mandateCollections, pseudonymiseBillingDetails, restrictMandate,
} from './store.js';

/**
 * What billing keeps of a member who erased their account (issue 20, called by privacy inside the
 * erasure's transaction) and when it ends (called by privacy's retention job). Issued invoices keep
 * the buyer's name and address as issued (a tax document); statements carry the pseudonym
 * (`pseudonymiseStatements`); the master data future invoices would be made out to goes here.
 */

export interface BillingErasure {
  /** Members whose billing details now carry the pseudonym. */
  readonly detailsPseudonymised: number;
  /** Mandates deleted at once: no collection could have been made under them. */
  readonly mandatesDeleted: number;
  /** Mandates kept restricted as evidence for refund claims, each until the instant it goes. */
  readonly mandatesRestricted: readonly { readonly memberId: string; readonly until: number }[];
}

/**
 * Erasure of billing's master data of the members (`label`: the pseudonym): billing details keep the
 * pseudonym and the VAT status only; a mandate under which nothing could have been collected is
 * deleted, any other is kept restricted (never collected under again, never shown) until 13 months
 * after the last possible collection (`mandateEvidenceEnds`), then deleted by `endBillingRetention`.
 */
export async function eraseBillingMasterData(
  tx: Queryable, memberIds: readonly string[], label: string, nowMs: number, timeZone: string,
): Promise<BillingErasure> {
  const detailsPseudonymised = await pseudonymiseBillingDetails(tx, memberIds, label);
  const erasedOn = localDateOf(nowMs, createLocalClock(timeZone));
  let mandatesDeleted = 0;
  const mandatesRestricted: { memberId: string; until: number }[] = [];
  for (const { memberId, communityId, lastDue } of await mandateCollections(tx, memberIds)) {
    const ends = mandateEvidenceEnds(lastDue, erasedOn);
    if (ends === null) {
      await deleteMandateOf(tx, memberId, communityId);
      mandatesDeleted++;
      continue;
    }
    const until = dayRange(ends, timeZone)!.startMs;
    await restrictMandate(tx, memberId, communityId, until);
    mandatesRestricted.push({ memberId, until });
  }
  return { detailsPseudonymised, mandatesDeleted, mandatesRestricted };
}

export interface BillingRetention {
  /** Restricted mandates whose time as evidence ended. */
  readonly mandates: number;
  /** Closed months whose every record was older than the billing-records cutoff, gone with their statements and invoices. */
  readonly settlements: number;
  readonly statements: number;
  readonly invoices: number;
}

/**
 * The end of billing's retention in a community at `nowMs`: restricted mandates past their time,
 * and the closed months whose records all precede `billingRecordsCutoffMs` (privacy's
 * `retentionCutoffs`, never below the country's legal minimum) with their statements, invoices and
 * payment history. One transaction (the triggers let only it through); a second run removes nothing.
 */
export async function endBillingRetention(db: Db, communityId: string, billingRecordsCutoffMs: number, nowMs: number): Promise<BillingRetention> {
  return db.transaction(async (tx) => {
    const mandates = await deleteRestrictedMandatesBefore(tx, communityId, nowMs);
    return { mandates, ...await deleteBillingRecordsBefore(tx, communityId, billingRecordsCutoffMs) };
  });
}
