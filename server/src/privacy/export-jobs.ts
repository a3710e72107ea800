import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import type { JobDefinition } from '../platform/jobs/index.js';
import type { Principal } from '../kernel/principal.js';
import { ConflictError, NotFoundError } from '../kernel/errors.js';
import { DAY_MS } from '../kernel/time.js';
import { getUser, isManagerOf, requireUser, usersByIds } from '../accounts/index.js';
import { loadCommunity } from '../registry/index.js';
import type { PrivacyLanguage } from './domain/index.js';
import { memberExportFileName, writeMemberExportFile } from './export.js';
import { checkRegulatorPeriod, logRegulatorReads, managedCommunity, regulatorExportFileName, regulatorMasking, writeRegulatorCsv } from './masking.js';
import { activeManagerOf, exportFilePath, ownMember, recordPersonalDataRead, retentionOf, type PrivacyContext } from './service.js';
import * as store from './store.js';

export const PRIVACY_EXPORTS_JOB = 'privacy-exports';

/** A manager's export as a job covers up to a year and a day (the synchronous one 32 days). */
export const MAX_REGULATOR_JOB_MS = 366 * DAY_MS;
/** Progress is written at most this often while a job runs (and always at its end). */
const PROGRESS_EVERY_MS = 500;
/** Jobs looked at per pass. */
const BATCH = 5;


/** A member asks for their export: queued for the job, or the one already waiting or running. */
export async function requestMemberExportJob(ctx: PrivacyContext, principal: Principal, memberId: string, language: PrivacyLanguage): Promise<store.StoredExportJob> {
  const { user, member } = await ownMember(ctx.db, principal, memberId);
  const { job } = await store.insertExportJob(ctx.db, {
    id: randomUUID(), communityId: member.communityId, export: 'member', memberId, requestedBy: user.userId, requesterKind: 'member', language,
    period: null, requestedAt: ctx.now(),
  });
  return job;
}

/** A manager asks for a regulator export of up to a year: one at a time per community (409 while one waits or runs). */
export async function requestRegulatorExportJob(ctx: PrivacyContext, principal: Principal, communityId: string, fromMs: number, toMs: number): Promise<store.StoredExportJob> {
  const { user } = await managedCommunity(ctx, principal, communityId);
  checkRegulatorPeriod(ctx, fromMs, toMs, MAX_REGULATOR_JOB_MS, 'body');
  const { job, created } = await store.insertExportJob(ctx.db, {
    id: randomUUID(), communityId, export: 'regulator-intervals', memberId: null, requestedBy: user.userId,
    requesterKind: activeManagerOf(user, communityId) ? 'manager' : 'admin', language: 'en', period: { fromMs, toMs }, requestedAt: ctx.now(),
  });
  if (!created) throw new ConflictError(`an export of the community is ${job.state} (${job.id}); ask again once it is done`);
  return job;
}

export async function memberExportJobs(ctx: PrivacyContext, principal: Principal, memberId: string): Promise<store.StoredExportJob[]> {
  const { member } = await ownMember(ctx.db, principal, memberId);
  return store.exportJobsOf(ctx.db, member.communityId, memberId);
}

export async function communityExportJobs(ctx: PrivacyContext, principal: Principal, communityId: string): Promise<store.StoredExportJob[]> {
  await managedCommunity(ctx, principal, communityId);
  return store.exportJobsOf(ctx.db, communityId, null);
}

const OVERVIEW_ROUTE = 'GET /api/v1/communities/:id/export-jobs/overview';

/**
 * The managers' overview of every export job of the community, members' personal exports too:
 * what, whose, who asked and in which role, state, progress, when — so they can see that requests
 * are answered and spot failures. Never a member export's file, its name or its error text (the
 * file and the job's own page stay the member's alone, 404 to anyone else). Each member listed has
 * the read in their access log (identity, data-subject-rights): who looked, when, why.
 */
export async function communityExportOverview(ctx: PrivacyContext, principal: Principal, communityId: string): Promise<{ job: store.StoredExportJob; requester: string }[]> {
  await managedCommunity(ctx, principal, communityId);
  const jobs = await store.allExportJobsOf(ctx.db, communityId);
  // Who asked for their data, and when, is about the member: each member listed has this read in their access log.
  for (const memberId of new Set(jobs.flatMap((j) => (j.memberId === null ? [] : [j.memberId])))) {
    await recordPersonalDataRead(ctx, principal, {
      subject: { member: memberId }, data: { category: 'identity', period: null, resolution: null }, purpose: 'data-subject-rights', route: OVERVIEW_ROUTE,
    });
  }
  const users = await usersByIds(ctx.db, [...new Set(jobs.map((j) => j.requestedBy))]);
  return jobs.map((job) => ({ job, requester: users.get(job.requestedBy)?.displayName ?? job.requestedBy }));
}

/**
 * A job the caller may see: a member's export is that member's alone, a manager export the
 * community's managers' (and admins'). Anyone else learns nothing of it (404), not even a
 * manager of the member's community: the job says when a member asked for their data.
 */
export async function visibleExportJob(ctx: PrivacyContext, principal: Principal, id: string): Promise<store.StoredExportJob> {
  const user = requireUser(principal);
  const job = /^[0-9a-f-]{36}$/i.test(id) ? await store.exportJobById(ctx.db, id) : undefined;
  const visible = job !== undefined && (job.memberId !== null
    ? user.memberships.some((m) => m.memberId === job.memberId)
    : isManagerOf(user, job.communityId));
  if (!visible) throw new NotFoundError('export job');
  return job;
}

/** A finished job's file, streamed; 409 before it is done, 404 once it is gone. */
export async function exportJobFile(ctx: PrivacyContext, principal: Principal, id: string): Promise<{ job: store.StoredExportJob; stream: ReadStream; contentType: string }> {
  const job = await visibleExportJob(ctx, principal, id);
  if (job.state !== 'done') throw new ConflictError(job.state === 'failed' ? `the export failed: ${job.error}` : `the export is ${job.state} (${job.itemsDone} of ${job.itemsTotal ?? '?'} done)`);
  const path = exportFilePath(ctx, job.id);
  try {
    await stat(path);
  } catch {
    throw new NotFoundError('export file');
  }
  return { job, stream: createReadStream(path), contentType: job.export === 'member' ? 'application/zip' : 'text/csv; charset=utf-8' };
}

/** Progress as the job goes: counted in memory, written at most every PROGRESS_EVERY_MS (a pass never waits on it). */
function progressWriter(ctx: PrivacyContext, job: store.StoredExportJob) {
  let last = 0;
  let writing: Promise<void> = Promise.resolve();
  return {
    report(done: number, total: number) {
      const now = Date.now();
      if (done !== 0 && done < total && now - last < PROGRESS_EVERY_MS) return;
      last = now;
      writing = writing.then(() => store.exportJobProgress(ctx.db, job, done, total));
    },
    settled: () => writing,
  };
}

/** Writes one job's file under a temporary name, then puts it in place and marks the job done (or failed, with why). */
async function runExportJob(ctx: PrivacyContext, job: store.StoredExportJob): Promise<void> {
  if (!await store.startExportJob(ctx.db, job, ctx.now())) return;
  await mkdir(ctx.exportsDir, { recursive: true, mode: 0o700 });
  const path = exportFilePath(ctx, job.id);
  const partial = `${path}.partial`;
  const progress = progressWriter(ctx, job);
  try {
    let items: number;
    let fileName: string;
    if (job.export === 'member') {
      ({ items } = await writeMemberExportFile(ctx, job.memberId!, job.language, job.id, partial, 'POST /api/v1/members/:id/export-jobs', progress.report));
      fileName = memberExportFileName(ctx.now());
    } else {
      ({ items, fileName } = await writeRegulatorFile(ctx, job, partial, progress.report));
    }
    await progress.settled();
    const community = await loadCommunity(ctx.db, job.communityId);
    const keepDays = community ? (await retentionOf(ctx.db, community)).exportFilesDays : 0;
    await rename(partial, path);
    const at = ctx.now();
    const { size } = await stat(path);
    // The member erased (or the community removed) meanwhile: nobody is left to fetch it.
    if (!await store.finishExportJob(ctx.db, job, { at, expiresAt: at + keepDays * DAY_MS, fileName, bytes: size, items })) await rm(path, { force: true });
  } catch (error) {
    await progress.settled().catch(() => undefined);
    await rm(partial, { force: true });
    await store.failExportJob(ctx.db, job, ctx.now(), (error as Error).message);
  }
}

async function writeRegulatorFile(ctx: PrivacyContext, job: store.StoredExportJob, destination: string, report: (done: number, total: number) => void): Promise<{ items: number; fileName: string }> {
  const community = await loadCommunity(ctx.db, job.communityId);
  if (!community) throw new NotFoundError('community');
  const { fromMs, toMs } = job.period!;
  const masking = await regulatorMasking(ctx, community);
  const out = createWriteStream(destination, { mode: 0o600 });
  let items = 0;
  try {
    const reads = await writeRegulatorCsv(ctx, community, masking, fromMs, toMs, async (text) => {
      if (!out.write(`${text}\r\n`)) await once(out, 'drain');
    }, (done, total) => {
      items = total;
      report(done, total);
    });
    out.end();
    await once(out, 'finish');
    const requester = await getUser(ctx.db, job.requestedBy);
    await logRegulatorReads(ctx, reads, { communityId: job.communityId, fromMs, toMs, masking, route: 'POST /api/v1/communities/:id/export-jobs' },
      { kind: job.requesterKind === 'admin' ? 'admin' : 'manager', userId: job.requestedBy, name: requester.email });
  } finally {
    out.destroy();
  }
  return { items, fileName: regulatorExportFileName(fromMs, toMs) };
}

/** Deletes the files of jobs past their expiry (and of failed jobs after a day) with their rows. */
export async function removeExpiredExports(ctx: PrivacyContext): Promise<number> {
  const ids = await store.deleteExpiredExportJobs(ctx.db, ctx.now());
  for (const id of ids) await rm(exportFilePath(ctx, id), { force: true });
  return ids.length;
}

/**
 * The export job: takes the exports waiting, each under a lease (`export:<id>`), so two processes
 * never write one; one left running by a process that died is taken up again once its lease has
 * run out, and written again from the start. Woken by a request; hourly it also deletes the
 * files past the community's retention of export files.
 */
export function exportJob(ctx: PrivacyContext): JobDefinition {
  return {
    name: PRIVACY_EXPORTS_JOB,
    delayMs: 100,
    everyMs: 60 * 60_000,
    async pass({ lease }) {
      await removeExpiredExports(ctx);
      const waiting = await store.unfinishedExportJobs(ctx.db, BATCH);
      let done = 0;
      for (const unit of await lease(waiting.map((j) => `export:${j.id}`))) {
        await runExportJob(ctx, waiting.find((j) => `export:${j.id}` === unit)!);
        done++;
      }
      // Jobs another process holds are its own: only a full batch done here asks for another pass.
      return { done, more: waiting.length === BATCH && done > 0 };
    },
    async waitingSince() {
      const [oldest] = await store.unfinishedExportJobs(ctx.db, 1);
      return oldest ? new Date(oldest.requestedAt) : null;
    },
  };
}
