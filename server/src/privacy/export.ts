import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream, type ReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Principal } from '../kernel/principal.js';
import { DAY_MS, EARLIEST_INSTANT_MS, formatUtcInstant } from '../kernel/time.js';
import { getUser } from '../accounts/index.js';
import { devicesOfMembers, loadCommunity, memberById, meteringPointsOfMember } from '../registry/index.js';
import { NotFoundError } from '../kernel/errors.js';
import { deviceReadingsInWindows, deviceStateViews } from '../ingest/index.js';
import { pointIntervals } from '../intervals/index.js';
import { memberQuarters } from '../sharing/index.js';
import { memberStatementList } from '../billing/index.js';
import { createAccessLogEntry, type ExportRecord, type PrivacyLanguage } from './domain/index.js';
import { writeMemberExport, type ExportSources } from './export-zip.js';
import { ownMember, type PrivacyContext } from './service.js';
import * as store from './store.js';

/** Quarter hours are read a year at a time, so a long history never sits in memory at once. */
const CHUNK_MS = 366 * DAY_MS;

const iso = (ms: number | null) => (ms === null ? null : formatUtcInstant(ms));

/** Counts units of work as their records are out: the job's progress (items done of the total). */
export interface ExportProgressCounter {
  total: number;
  done: number;
  readonly report: (done: number, total: number) => void;
}

const tick = (progress: ExportProgressCounter) => {
  progress.done++;
  progress.report(progress.done, progress.total);
};

/** The chunks of a period, so a long history never sits in memory at once; each chunk is one unit of work. */
const chunksOf = (fromMs: number, toMs: number) => Math.max(0, Math.ceil((toMs - fromMs) / CHUNK_MS));

async function* chunked<T>(fromMs: number, toMs: number, progress: ExportProgressCounter, read: (from: number, to: number) => Promise<T[]>): AsyncGenerator<T> {
  for (let from = fromMs; from < toMs; from += CHUNK_MS) {
    yield* await read(from, Math.min(from + CHUNK_MS, toMs));
    tick(progress);
  }
}

/** A kind read at once is one unit of work. */
async function* whole<T>(records: readonly T[], progress: ExportProgressCounter): AsyncGenerator<T> {
  yield* records;
  tick(progress);
}

const grantRecord = (g: store.StoredGrant, direction: 'given' | 'received'): ExportRecord => ({
  direction, type: 'grant', id: g.id, counterpart: direction === 'given' ? `${g.recipient.kind}:${g.recipient.label}` : g.grantor,
  scope: { meteringPoints: [...g.scope.meteringPoints], quantities: [...g.scope.quantities], resolution: g.scope.resolution, from: iso(g.scope.period.fromMs), to: iso(g.scope.period.toMs) },
  purpose: `${g.purpose.code}: ${g.purpose.statement}`, created_at: iso(g.createdAt), valid_until: iso(g.validUntil), revoked_at: iso(g.revokedAt), digest: g.digest,
});

/**
 * Writes the member's GDPR Art. 15/20 export as a ZIP (export-zip.ts) to `destination`, read from
 * each capability through its index.ts: account, memberships, sites, devices and their raw
 * readings (the periods they were on the member's sites), quarter hours, energy by source,
 * statements, consents and the access log. Its units of work (each small kind, each device's
 * readings, each year of a site's quarter hours and of energy by source) are counted into
 * `progress`. Once written, the export is entered in the member's access log (`route`: how it
 * was asked for).
 */
export async function writeMemberExportFile(
  ctx: PrivacyContext, memberId: string, language: PrivacyLanguage, jobId: string, destination: string, route: string, report: (done: number, total: number) => void = () => undefined,
): Promise<{ items: number }> {
  const { db } = ctx;
  const member = await memberById(db, memberId);
  if (!member) throw new NotFoundError('member');
  const now = ctx.now();
  const community = (await loadCommunity(db, member.communityId))!;
  const user = await getUser(db, member.userId);
  const points = await meteringPointsOfMember(db, memberId);
  const ownPoints = new Set(points.map((p) => p.id));
  // Where a device is now, or a reading was taken, is named only when it is the member's own site (never someone else's).
  const ownPoint = (id: string | null) => (id !== null && ownPoints.has(id) ? id : null);
  // Devices on the member's sites, now or before: their state and readings only from the periods they were there.
  const devices = await devicesOfMembers(db, [memberId]);
  const states = await deviceStateViews(db, devices.map((d) => d.device.id), new Map(devices.map((d) => [d.device.id, d.scope])));
  const years = chunksOf(EARLIEST_INSTANT_MS, now);
  // The seven kinds read at once, each device's readings, a site's quarter hours and the energy by source a year at a time.
  const progress: ExportProgressCounter = { total: 7 + devices.length + points.length * years + years, done: 0, report };
  report(0, progress.total);
  const sources: ExportSources = {
    account: whole([{ user_id: user.id, email: user.email, display_name: user.displayName, language, is_admin: user.isAdmin, created_at: user.createdAt }], progress),
    memberships: whole([{
      member_id: member.id, community_id: member.communityId, community_name: community.name, role: member.role, state: member.state,
      display_name: member.displayName, join_message: member.joinMessage, requested_at: member.requestedAt, decided_at: member.decidedAt,
    }], progress),
    sites: whole(points.map((p) => ({
      metering_point_id: p.id, community_id: p.communityId, name: p.name, address: p.address, grid_connection_id: p.gridConnectionId,
      role: p.role, pv_capacity_w: p.pvCapacityW, battery_capacity_wh: p.batteryCapacityWh, created_at: p.createdAt,
    })), progress),
    devices: whole(devices.map(({ device }, i) => ({
      device_id: device.id, community_id: device.communityId, metering_point_id: ownPoint(device.meteringPointId),
      kind: device.kind, name: device.name, status: device.status, created_at: device.createdAt, last_seen_at: states[i]!.lastSeenAt,
    })), progress),
    readings: (async function* () {
      for (const { device, scope } of devices) {
        for await (const r of deviceReadingsInWindows(db, device.id, scope.windows)) {
          yield {
            device_id: r.deviceId, metering_point_id: ownPoint(r.meteringPointId), quantity: r.quantity, ts: formatUtcInstant(r.ts.getTime()), value: r.value,
            received_at: formatUtcInstant(r.receivedAt.getTime()),
          };
        }
        tick(progress);
      }
    })(),
    intervals: (async function* () {
      for (const p of points) {
        yield* chunked(EARLIEST_INSTANT_MS, now, progress, async (from, to) => (await pointIntervals(db, p.id, from, to)).sort((a, b) => a.startMs - b.startMs).map((i) => ({
          metering_point_id: i.meteringPointId, start: formatUtcInstant(i.startMs), import_wh: i.importWh, export_wh: i.exportWh, pv_wh: i.pvWh, quality: i.quality,
        })));
      }
    })(),
    'energy-by-source': chunked(EARLIEST_INSTANT_MS, now, progress, async (from, to) => (await memberQuarters(db, memberId, from, to)).map((q) => ({
      member_id: memberId, start: formatUtcInstant(q.startMs), consumption_wh: q.consumptionWh, self_consumed_wh: q.selfConsumedWh,
      from_community_wh: q.fromCommunityWh, from_grid_wh: q.fromGridWh, production_wh: q.productionWh, to_community_wh: q.toCommunityWh,
      to_grid_wh: q.toGridWh, quality: q.missing ? 'missing' : q.estimated ? 'estimated' : 'measured',
    }))),
    statements: whole((await memberStatementList(db, memberId, member.communityId)).map((s) => ({
      statement_id: s.id, community_id: member.communityId, period_start: s.period, period_end: s.period, currency: s.currency, total: s.total, issued_at: s.createdAt,
    })), progress),
    consents: whole([
      ...(await store.grantsOfGrantor(db, memberId)).map((g) => grantRecord(g, 'given')),
      ...(await store.grantsOfRecipient(db, 'member', memberId)).map((g) => grantRecord(g, 'received')),
    ], progress),
    'access-log': whole((await store.accessLogOf(db, memberId, 100_000)).map((a) => ({
      at: formatUtcInstant(a.at), accessor_kind: a.accessorKind, accessor: a.accessorLabel, grant_id: a.grantId, purpose: a.purpose,
      category: a.category, metering_points: a.meteringPoints.join(' '), period_from: iso(a.period?.fromMs ?? null), period_to: iso(a.period?.toMs ?? null),
      resolution: a.resolution,
    })), progress),
  };
  await writeMemberExport(sources, destination, {
    readme: { language, timeZone: community.timeZone, community: community.name, member: member.displayName, generatedAt: now },
  });
  await store.insertAccess(db, createAccessLogEntry({
    at: now, communityId: member.communityId, subject: memberId, accessor: { kind: 'export', jobId, requestedBy: 'member' },
    data: { category: 'identity', meteringPoints: points.map((p) => p.id), period: null, resolution: null }, purpose: 'data-subject-rights',
  }), route);
  return { items: progress.total };
}

export interface MemberExport {
  readonly fileName: string;
  readonly stream: ReadStream;
}

/** The member's export at once (small exports, scripts): written to a private temporary folder, streamed, removed. */
export async function exportMemberData(ctx: PrivacyContext, principal: Principal, memberId: string, language: PrivacyLanguage): Promise<MemberExport> {
  await ownMember(ctx.db, principal, memberId);
  const dir = await mkdtemp(join(tmpdir(), 'gridshare-member-export-'));
  const path = join(dir, 'export.zip');
  try {
    await writeMemberExportFile(ctx, memberId, language, randomUUID(), path, 'GET /api/v1/members/:id/export.zip');
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const stream = createReadStream(path);
  stream.on('close', () => { void rm(dir, { recursive: true, force: true }); });
  return { fileName: memberExportFileName(ctx.now()), stream };
}

export const memberExportFileName = (at: number) => `gridshare-export-${at.toString(36)}.zip`;
