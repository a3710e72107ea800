import type { Api } from '../platform/http/api.js';
import { intervalRoutes } from '@gridshare/contract/intervals';
import { ingestRoutes } from '@gridshare/contract/ingest';
import { sharingRoutes } from '@gridshare/contract/sharing';
import { billingRoutes } from '@gridshare/contract/billing';
import { registryRoutes } from '@gridshare/contract/registry';
import type { Resolution } from '../kernel/calendar.js';
import type { Route } from '@gridshare/contract';
import { RESOLUTIONS, type DataCategory, type ProcessingPurpose } from './domain/index.js';
import { recordPersonalDataRead, type PrivacyContext } from './service.js';

/**
 * The routes that serve one member's personal data, declared here once: whose data (a member,
 * or the member behind a metering point, from the path's :id), which category, for which
 * purpose. Privacy logs every successful answer of these routes to someone other than the
 * member in the member's access log — before the answer leaves, so no read goes unlogged.
 */
interface PersonalDataRoute {
  readonly route: Route;
  readonly subject: 'member' | 'meteringPoint';
  readonly category: DataCategory;
  readonly purpose: ProcessingPurpose;
  /** The resolution of the data, when the route serves a time series at a fixed one. */
  readonly resolution?: Resolution;
}

export const PERSONAL_DATA_ROUTES: readonly PersonalDataRoute[] = [
  { route: registryRoutes.getMember, subject: 'member', category: 'identity', purpose: 'membership' },
  { route: intervalRoutes.meteringPointIntervals, subject: 'meteringPoint', category: 'intervals', purpose: 'settlement', resolution: '15m' },
  { route: ingestRoutes.meteringPointReadings, subject: 'meteringPoint', category: 'readings', purpose: 'metering' },
  { route: sharingRoutes.memberEnergy, subject: 'member', category: 'energy-by-source', purpose: 'sharing' },
  { route: sharingRoutes.memberEnergyCsv, subject: 'member', category: 'energy-by-source', purpose: 'sharing' },
  { route: billingRoutes.memberStatements, subject: 'member', category: 'statements', purpose: 'billing' },
];

const key = (method: string, path: string) => `${method} ${path}`;

function periodOf(query: Record<string, unknown>): { fromMs: number; toMs: number } | null {
  const fromMs = typeof query.from === 'string' ? Date.parse(query.from) : NaN;
  const toMs = typeof query.to === 'string' ? Date.parse(query.to) : NaN;
  return Number.isFinite(fromMs) && Number.isFinite(toMs) && toMs > fromMs ? { fromMs, toMs } : null;
}

/** Registers the access-log hook; call it before the capabilities' routes are registered. */
export function registerAccessLogging(app: Api, ctx: PrivacyContext, routes: readonly PersonalDataRoute[] = PERSONAL_DATA_ROUTES): void {
  const byRoute = new Map(routes.map((r) => [key(r.route.method, r.route.path), r]));
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode >= 300 || request.principal.kind !== 'user') return payload;
    const entry = byRoute.get(key(request.method, request.routeOptions.url ?? ''));
    if (!entry) return payload;
    const id = (request.params as Record<string, string>).id!;
    const query = request.query as Record<string, unknown>;
    const resolution = entry.resolution ?? (RESOLUTIONS as readonly unknown[]).find((r) => r === query.resolution) as Resolution | undefined ?? null;
    await recordPersonalDataRead(ctx, request.principal, {
      subject: entry.subject === 'member' ? { member: id } : { meteringPoint: id },
      data: { category: entry.category, period: periodOf(query), resolution },
      purpose: entry.purpose,
      route: key(entry.route.method, entry.route.path),
    });
    return payload;
  });
}
