import canonicalize from 'canonicalize';
import type { Resolution } from '../../kernel/calendar.js';
import { BadRequestError, ForbiddenError, NotFoundError, type DomainError } from '../../kernel/errors.js';
import { DAY_MS, formatUtcInstant } from '../../kernel/time.js';
import { sha256Hex } from './crypto.js';
import { isAtLeastAsCoarse, requireId, requireInstant, validateOwnScope, type ConsentQuantity, type DataScope, type OwnScopeContext } from './scope.js';

/**
 * Consent grants: a member lets a recipient read a scope of their energy data, for a stated
 * purpose, until a date, and can revoke it at any moment with immediate effect. Everything here
 * is a value: a revocation returns a new grant, a read is a decision over the grants.
 */

/** Who may receive data. Each authenticates with its own credentials (a member's session or token, an app's token). */
export type RecipientKind = 'member' | 'researcher' | 'grid-operator' | 'app';
export const RECIPIENT_KINDS = ['member', 'researcher', 'grid-operator', 'app'] as const satisfies readonly RecipientKind[];

export interface Recipient {
  readonly kind: RecipientKind;
  /** Member id, organisation id or app id: with `kind`, what the recipient's token resolves to. */
  readonly id: string;
  /** What the member sees ("Energy Lab, TU Wien"); never used to decide anything. */
  readonly label: string;
}

export const sameRecipient = (a: Pick<Recipient, 'kind' | 'id'>, b: Pick<Recipient, 'kind' | 'id'>): boolean => a.kind === b.kind && a.id === b.id;

/** Why a recipient wants the data, as the member is told it. */
export const CONSENT_PURPOSES = ['research', 'energy-advice', 'grid-planning', 'app-service', 'peer-comparison', 'other'] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

export interface StatedPurpose {
  readonly code: ConsentPurpose;
  /** The recipient's own words, shown to the member next to the grant. */
  readonly statement: string;
}

/** How an accepted offer was paid: free, or one transfer between the community's wallets (its posting's sequence). */
export type Payment =
  | { readonly kind: 'free' }
  | { readonly kind: 'wallet-transfer'; readonly transferId: string; readonly amountMinor: bigint; readonly currency: string };

export type GrantOrigin =
  | { readonly kind: 'direct' }
  | { readonly kind: 'offer'; readonly offerId: string; readonly payment: Payment };

export interface Grant {
  readonly id: string;
  readonly communityId: string;
  /** The member whose data it is. */
  readonly grantor: string;
  readonly recipient: Recipient;
  readonly scope: DataScope;
  readonly purpose: StatedPurpose;
  readonly origin: GrantOrigin;
  readonly createdAt: number;
  readonly validUntil: number;
  readonly revokedAt: number | null;
}

/** Consent is not for ever: a grant runs at most this long and is renewed by the member if still wanted. */
export const MAX_GRANT_VALIDITY_MS = 5 * 366 * DAY_MS;
export const MAX_PURPOSE_STATEMENT = 500;

export interface GrantDraft {
  readonly grantor: string;
  readonly recipient: Recipient;
  readonly scope: DataScope;
  readonly purpose: StatedPurpose;
  readonly validUntil: number;
}

export interface GrantContext extends OwnScopeContext {
  readonly origin?: GrantOrigin;
}

export function validatePurpose(purpose: StatedPurpose, field = 'purpose'): StatedPurpose {
  if (!(CONSENT_PURPOSES as readonly string[]).includes(purpose.code)) {
    throw new BadRequestError(`unknown purpose "${purpose.code}" (known: ${CONSENT_PURPOSES.join(', ')})`, `${field}/code`);
  }
  const statement = purpose.statement.trim();
  if (statement === '') throw new BadRequestError('say what the data is for', `${field}/statement`);
  if (statement.length > MAX_PURPOSE_STATEMENT) throw new BadRequestError(`at most ${MAX_PURPOSE_STATEMENT} characters`, `${field}/statement`);
  if (/[\u0000-\u001f\u007f]/.test(statement)) throw new BadRequestError('no control characters', `${field}/statement`);
  return { code: purpose.code, statement };
}

export function validateRecipient(recipient: Recipient, field = 'recipient'): Recipient {
  if (!(RECIPIENT_KINDS as readonly string[]).includes(recipient.kind)) {
    throw new BadRequestError(`unknown recipient kind "${recipient.kind}" (known: ${RECIPIENT_KINDS.join(', ')})`, `${field}/kind`);
  }
  requireId(recipient.id, `${field}/id`);
  const label = recipient.label.trim();
  if (label === '' || label.length > 200) throw new BadRequestError('a recipient has a name of 1 to 200 characters', `${field}/label`);
  return { kind: recipient.kind, id: recipient.id, label };
}

/** A new grant, checked; throws BadRequestError naming the field at fault. */
export function createGrant(draft: GrantDraft, context: GrantContext): Grant {
  const scope = validateOwnScope(draft.grantor, draft.scope, context);
  const recipient = validateRecipient(draft.recipient);
  if (sameRecipient(recipient, { kind: 'member', id: draft.grantor })) {
    throw new BadRequestError('a member always sees their own data: grant it to someone else', 'recipient');
  }
  requireInstant(draft.validUntil, 'validUntil');
  if (draft.validUntil <= context.now) throw new BadRequestError('a grant is valid until a moment in the future', 'validUntil');
  if (draft.validUntil - context.now > MAX_GRANT_VALIDITY_MS) {
    throw new BadRequestError(`a grant runs at most ${MAX_GRANT_VALIDITY_MS / DAY_MS} days; renew it later`, 'validUntil');
  }
  return {
    id: context.id,
    communityId: context.communityId,
    grantor: draft.grantor,
    recipient,
    scope,
    purpose: validatePurpose(draft.purpose),
    origin: context.origin ?? { kind: 'direct' },
    createdAt: context.now,
    validUntil: draft.validUntil,
    revokedAt: null,
  };
}

/**
 * The grant, revoked from `now` on. Revoking again changes nothing (the first revocation time
 * stays), so a repeated request is safe. Revoking a grant that expired already records the
 * revocation too: the member's intention is kept.
 */
export function revokeGrant(grant: Grant, now: number): Grant {
  requireInstant(now, 'now');
  if (grant.revokedAt !== null) return grant;
  return { ...grant, revokedAt: Math.max(now, grant.createdAt) };
}

export type GrantState = 'active' | 'revoked' | 'expired' | 'pending';

export function grantState(grant: Grant, now: number): GrantState {
  if (grant.revokedAt !== null && now >= grant.revokedAt) return 'revoked';
  if (now >= grant.validUntil) return 'expired';
  if (now < grant.createdAt) return 'pending';
  return 'active';
}

/** One read a recipient asks for: one metering point, one quantity, a period, a resolution. */
export interface ReadRequest {
  /** The member whose data is asked for. */
  readonly grantor: string;
  readonly meteringPoint: string;
  readonly quantity: ConsentQuantity;
  readonly resolution: Resolution;
  readonly fromMs: number;
  readonly toMs: number;
  /** When the recipient names the grant it reads through (the consent API's `/grants/{id}/…` routes). */
  readonly grantId?: string;
}

/**
 * Why a read is refused. The consent API answers `out-of-scope` and `not-recipient` with 404
 * (nothing outside the scope exists for the recipient, nor do other recipients' grants), and
 * `revoked` and `expired` with 403 and the reason (the recipient held that grant, and knowing
 * why saves it retrying). See `refusalError`.
 */
export type Refusal = 'out-of-scope' | 'not-recipient' | 'revoked' | 'expired';

export type ReadDecision =
  | { readonly allowed: true; readonly grant: Grant; readonly resolution: Resolution; readonly window: { readonly fromMs: number; readonly toMs: number } }
  | { readonly allowed: false; readonly refusal: Refusal };

/** The part of the request the grant covers, or undefined when they do not overlap or the scope misses it. */
function coveredWindow(grant: Grant, request: ReadRequest): { fromMs: number; toMs: number } | undefined {
  const { scope } = grant;
  if (grant.grantor !== request.grantor) return undefined;
  if (!scope.meteringPoints.includes(request.meteringPoint) || !scope.quantities.includes(request.quantity)) return undefined;
  if (!isAtLeastAsCoarse(request.resolution, scope.resolution)) return undefined;
  const fromMs = Math.max(request.fromMs, scope.period.fromMs);
  const toMs = Math.min(request.toMs, scope.period.toMs ?? Number.POSITIVE_INFINITY);
  return fromMs < toMs ? { fromMs, toMs } : undefined;
}

/**
 * May `recipient` read what `request` asks for at `now`? Returns the grant that allows it, with
 * the window of data it covers (the request clipped to the grant's period) — or why not.
 * A request that only partly overlaps the granted period is allowed for the overlap; one that
 * asks for a metering point, quantity or resolution the grant does not give is out of scope.
 * Among several grants, an active one wins; otherwise a revoked one explains the refusal
 * before an expired one.
 */
export function mayRead(grants: readonly Grant[], recipient: Pick<Recipient, 'kind' | 'id'>, request: ReadRequest, now: number): ReadDecision {
  if (!(request.fromMs < request.toMs)) return { allowed: false, refusal: 'out-of-scope' };
  let candidates = grants;
  if (request.grantId !== undefined) {
    const named = grants.find((g) => g.id === request.grantId && g.grantor === request.grantor);
    if (!named) return { allowed: false, refusal: 'out-of-scope' };
    if (!sameRecipient(named.recipient, recipient)) return { allowed: false, refusal: 'not-recipient' };
    candidates = [named];
  }
  let best: { grant: Grant; window: { fromMs: number; toMs: number } } | undefined;
  let revoked = false;
  let expired = false;
  for (const grant of candidates) {
    if (!sameRecipient(grant.recipient, recipient)) continue;
    const window = coveredWindow(grant, request);
    if (!window) continue;
    const state = grantState(grant, now);
    if (state === 'revoked') revoked = true;
    else if (state === 'expired') expired = true;
    else if (state === 'active' && (!best || grant.validUntil > best.grant.validUntil || (grant.validUntil === best.grant.validUntil && grant.id < best.grant.id))) {
      best = { grant, window };
    }
  }
  if (best) return { allowed: true, grant: best.grant, resolution: request.resolution, window: best.window };
  return { allowed: false, refusal: revoked ? 'revoked' : expired ? 'expired' : 'out-of-scope' };
}

/** The typed error the consent API answers a refusal with (HTTP maps it: 404, 404, 403, 403). */
export function refusalError(refusal: Refusal): DomainError {
  switch (refusal) {
    case 'out-of-scope':
    case 'not-recipient':
      return new NotFoundError('data');
    case 'revoked':
      return new ForbiddenError('the member revoked this consent');
    case 'expired':
      return new ForbiddenError('this consent has expired');
  }
}

/**
 * SHA-256 of the grant's terms as RFC 8785 canonical JSON: what the verifiable record holds
 * (with the change, granted or revoked), never the data or the member's name. Only the terms
 * are hashed (not the revocation), so a grant and its revocation carry the same digest. The
 * recipient's label is left out: it is shown, never decided on, and may be corrected.
 */
export function grantDigest(grant: Grant): string {
  const origin = grant.origin.kind === 'direct'
    ? { kind: 'direct' }
    : {
      kind: 'offer',
      offerId: grant.origin.offerId,
      payment: grant.origin.payment.kind === 'free'
        ? { kind: 'free' }
        : { ...grant.origin.payment, amountMinor: grant.origin.payment.amountMinor.toString() },
    };
  const terms = {
    v: 1,
    id: grant.id,
    community: grant.communityId,
    grantor: grant.grantor,
    recipient: { kind: grant.recipient.kind, id: grant.recipient.id },
    scope: {
      meteringPoints: grant.scope.meteringPoints,
      quantities: grant.scope.quantities,
      resolution: grant.scope.resolution,
      from: formatUtcInstant(grant.scope.period.fromMs),
      to: grant.scope.period.toMs === null ? null : formatUtcInstant(grant.scope.period.toMs),
    },
    purpose: grant.purpose,
    origin,
    createdAt: formatUtcInstant(grant.createdAt),
    validUntil: formatUtcInstant(grant.validUntil),
  };
  return sha256Hex(canonicalize(terms)!);
}
