import type { Resolution } from '../../kernel/calendar.js';
import { BadRequestError } from '../../kernel/errors.js';
import { formatUtcInstant, isQuarterHour } from '../../kernel/time.js';

/**
 * What a consent or an offer covers: which metering points, which quantities, how fine, which
 * stretch of time. A scope is the unit of minimisation: nothing outside it is ever read, and
 * nothing finer than its resolution is ever returned.
 */

/** Energy quantities a member can share, per metering point. */
export const CONSENT_QUANTITIES = ['import', 'export', 'pv', 'energy-by-source'] as const;
export type ConsentQuantity = (typeof CONSENT_QUANTITIES)[number];

/** Finest first: a grant at `1h` allows `1h`, `1d` and `1mo`, never `15m`. */
export const RESOLUTIONS = ['15m', '1h', '1d', '1mo'] as const satisfies readonly Resolution[];
const RESOLUTION_RANK: Record<Resolution, number> = { '15m': 0, '1h': 1, '1d': 2, '1mo': 3 };

/** The coarser of two resolutions. */
export function coarser(a: Resolution, b: Resolution): Resolution {
  return RESOLUTION_RANK[a] >= RESOLUTION_RANK[b] ? a : b;
}

/** True when data at `requested` reveals no more than data at `granted`. */
export function isAtLeastAsCoarse(requested: Resolution, granted: Resolution): boolean {
  return RESOLUTION_RANK[requested] >= RESOLUTION_RANK[granted];
}

/** Data time, start inclusive, end exclusive; `toMs: null` is ongoing (data as it arrives, while the grant is valid). */
export interface DataPeriod {
  readonly fromMs: number;
  readonly toMs: number | null;
}

export interface DataScope {
  readonly meteringPoints: readonly string[];
  readonly quantities: readonly ConsentQuantity[];
  /** The finest resolution the recipient may see. */
  readonly resolution: Resolution;
  readonly period: DataPeriod;
}

/** A generous bound: a member with more metering points shares them in several grants. */
export const MAX_SCOPE_METERING_POINTS = 100;

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** An identifier (member, metering point, grant, …) as Gridshare spells them; `field` names it in the error. */
export function requireId(value: string, field: string): string {
  if (!ID.test(value)) throw new BadRequestError(`${field} must be an identifier (letters, digits, . _ : -; at most 128), got ${JSON.stringify(value.slice(0, 40))}`, field);
  return value;
}

export function requireInstant(ms: number, field: string): number {
  if (!Number.isSafeInteger(ms)) throw new BadRequestError(`${field} must be an instant (whole ms since 1970 UTC), got ${ms}`, field);
  return ms;
}

/**
 * Checks a scope and returns it in canonical form (metering points and quantities sorted, no
 * repeats), so equal scopes compare and hash equal. `field` prefixes error fields (`body/scope`).
 */
export function validateScope(scope: DataScope, field = 'scope'): DataScope {
  const points = [...new Set(scope.meteringPoints)];
  if (points.length === 0) throw new BadRequestError('a scope names at least one metering point', `${field}/meteringPoints`);
  if (points.length > MAX_SCOPE_METERING_POINTS) throw new BadRequestError(`a scope names at most ${MAX_SCOPE_METERING_POINTS} metering points`, `${field}/meteringPoints`);
  for (const id of points) requireId(id, `${field}/meteringPoints`);
  const quantities = [...new Set(scope.quantities)];
  if (quantities.length === 0) throw new BadRequestError('a scope names at least one quantity', `${field}/quantities`);
  for (const q of quantities) {
    if (!(CONSENT_QUANTITIES as readonly string[]).includes(q)) {
      throw new BadRequestError(`unknown quantity "${q}" (known: ${CONSENT_QUANTITIES.join(', ')})`, `${field}/quantities`);
    }
  }
  if (!(RESOLUTIONS as readonly string[]).includes(scope.resolution)) {
    throw new BadRequestError(`unknown resolution "${scope.resolution}" (known: ${RESOLUTIONS.join(', ')})`, `${field}/resolution`);
  }
  const { fromMs, toMs } = scope.period;
  requireInstant(fromMs, `${field}/period/fromMs`);
  if (!isQuarterHour(fromMs)) throw new BadRequestError(`the period starts on a quarter hour, not at ${formatUtcInstant(fromMs)}`, `${field}/period/fromMs`);
  if (toMs !== null) {
    requireInstant(toMs, `${field}/period/toMs`);
    if (!isQuarterHour(toMs)) throw new BadRequestError(`the period ends on a quarter hour, not at ${formatUtcInstant(toMs)}`, `${field}/period/toMs`);
    if (toMs <= fromMs) throw new BadRequestError('the period ends after it starts', `${field}/period/toMs`);
  }
  return {
    meteringPoints: points.sort(),
    quantities: quantities.sort(),
    resolution: scope.resolution,
    period: { fromMs, toMs },
  };
}

/** What a member shares or offers: a member's own metering points only. */
export interface OwnScopeContext {
  readonly id: string;
  readonly communityId: string;
  readonly now: number;
  /** The grantor's metering points at `now`. */
  readonly ownMeteringPoints: ReadonlySet<string>;
}

/** Checks the context and the grantor of a grant or an offer, and returns its scope, canonical and the grantor's own. */
export function validateOwnScope(grantor: string, scope: DataScope, context: OwnScopeContext): DataScope {
  requireId(context.id, 'id');
  requireId(context.communityId, 'communityId');
  requireInstant(context.now, 'now');
  requireId(grantor, 'grantor');
  const canonical = validateScope(scope);
  const foreign = canonical.meteringPoints.filter((p) => !context.ownMeteringPoints.has(p));
  if (foreign.length > 0) throw new BadRequestError(`not your metering point: ${foreign.join(', ')}`, 'scope/meteringPoints');
  return canonical;
}

/** Whether everything `inner` allows is allowed by `outer` too. */
export function scopeCovers(outer: DataScope, inner: DataScope): boolean {
  const outerEnd = outer.period.toMs ?? Number.POSITIVE_INFINITY;
  const innerEnd = inner.period.toMs ?? Number.POSITIVE_INFINITY;
  return inner.meteringPoints.every((p) => outer.meteringPoints.includes(p))
    && inner.quantities.every((q) => outer.quantities.includes(q))
    && isAtLeastAsCoarse(inner.resolution, outer.resolution)
    && inner.period.fromMs >= outer.period.fromMs
    && innerEnd <= outerEnd;
}
