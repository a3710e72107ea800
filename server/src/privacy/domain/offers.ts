import { BadRequestError, ConflictError } from '../../kernel/errors.js';
import { MoneyError, minorDigits, parseFixed } from '../../kernel/money.js';
import { DAY_MS } from '../../kernel/time.js';
import { createGrant, MAX_GRANT_VALIDITY_MS, validatePurpose, type Grant, type Payment, type Recipient, type StatedPurpose } from './consent.js';
import { requireInstant, validateOwnScope, type DataScope, type OwnScopeContext } from './scope.js';

/**
 * Data offers (the eCommunity idea of members selling their own energy data): a member
 * publishes a scope at a price; whoever accepts it gets a grant on exactly that scope, which the
 * member can revoke like any other.
 *
 * Payment: a priced offer is paid through the market's wallets, one transfer of exactly the
 * price from the taker's wallet to the member's, in the transaction that makes the grant. Wallets
 * are a community's, so a priced offer is for the community's members; an offer to anyone
 * (researchers, apps, members of other communities) is free.
 */

/** Who may accept: members of the community, or any authenticated recipient (apps, researchers). */
export type OfferAudience = 'members' | 'anyone';

export interface DataOffer {
  readonly id: string;
  readonly communityId: string;
  readonly grantor: string;
  readonly scope: DataScope;
  /** Why the member offers it, shown to takers; the taker states its own purpose on acceptance. */
  readonly description: string;
  readonly audience: OfferAudience;
  /** In the currency's minor unit (cents); 0n is free. */
  readonly priceMinor: bigint;
  readonly currency: string;
  /** How long each grant made from the offer runs. */
  readonly grantValidityDays: number;
  readonly publishedAt: number;
  /** After this, nobody can accept any more (grants already made run on). */
  readonly openUntil: number;
  readonly withdrawnAt: number | null;
}

export interface OfferDraft {
  readonly grantor: string;
  readonly scope: DataScope;
  readonly description: string;
  readonly audience: OfferAudience;
  /** A decimal in the currency ("0", "4.50"). */
  readonly price: string;
  readonly currency: string;
  readonly grantValidityDays: number;
  readonly openUntil: number;
}

export function createOffer(draft: OfferDraft, context: OwnScopeContext): DataOffer {
  const scope = validateOwnScope(draft.grantor, draft.scope, context);
  const description = draft.description.trim();
  if (description === '' || description.length > 1000) throw new BadRequestError('describe the offer in 1 to 1000 characters', 'description');
  if (draft.audience !== 'members' && draft.audience !== 'anyone') throw new BadRequestError('audience is "members" or "anyone"', 'audience');
  if (!/^[A-Z]{3}$/.test(draft.currency)) throw new BadRequestError('currency is an ISO 4217 code such as EUR', 'currency');
  let priceMinor: bigint;
  try {
    priceMinor = parseFixed(draft.price, minorDigits(draft.currency));
  } catch (error) {
    if (error instanceof MoneyError || error instanceof RangeError) throw new BadRequestError(`price: ${error.message}`, 'price');
    throw error;
  }
  if (priceMinor < 0n) throw new BadRequestError('a price is not negative', 'price');
  if (priceMinor > 0n && draft.audience !== 'members') {
    throw new BadRequestError('a priced offer is paid from a wallet of the community: offer it to members, or to anyone for free (price 0)', 'price');
  }
  if (!Number.isSafeInteger(draft.grantValidityDays) || draft.grantValidityDays < 1 || draft.grantValidityDays * DAY_MS > MAX_GRANT_VALIDITY_MS) {
    throw new BadRequestError(`grants from an offer run 1 to ${MAX_GRANT_VALIDITY_MS / DAY_MS} days`, 'grantValidityDays');
  }
  requireInstant(draft.openUntil, 'openUntil');
  if (draft.openUntil <= context.now) throw new BadRequestError('an offer is open until a moment in the future', 'openUntil');
  return {
    id: context.id,
    communityId: context.communityId,
    grantor: draft.grantor,
    scope,
    description,
    audience: draft.audience,
    priceMinor,
    currency: draft.currency,
    grantValidityDays: draft.grantValidityDays,
    publishedAt: context.now,
    openUntil: draft.openUntil,
    withdrawnAt: null,
  };
}

/** Withdrawn offers take no more takers; grants made from them run on until revoked or expired. */
export function withdrawOffer(offer: DataOffer, now: number): DataOffer {
  requireInstant(now, 'now');
  return offer.withdrawnAt === null ? { ...offer, withdrawnAt: Math.max(now, offer.publishedAt) } : offer;
}

export const isOfferOpen = (offer: DataOffer, now: number): boolean =>
  offer.withdrawnAt === null && now >= offer.publishedAt && now < offer.openUntil;

export interface Acceptance {
  readonly recipient: Recipient;
  /** Whether the recipient is a member of the offer's community (for `audience: 'members'`). */
  readonly recipientIsMember: boolean;
  readonly purpose: StatedPurpose;
  /** `free` for a free offer; for a priced one, the confirmed wallet transfer of exactly the price. */
  readonly payment: Payment;
  /** The grantor's metering points now: one given up since the offer was published is not granted. */
  readonly grantorMeteringPoints: ReadonlySet<string>;
  readonly grantId: string;
  readonly now: number;
}

/** The grant an accepted offer becomes: the offer's scope, the taker's stated purpose. */
export function acceptOffer(offer: DataOffer, acceptance: Acceptance): Grant {
  const { now, payment } = acceptance;
  requireInstant(now, 'now');
  if (!isOfferOpen(offer, now)) throw new ConflictError('this offer is no longer open');
  if (offer.audience === 'members' && (acceptance.recipient.kind !== 'member' || !acceptance.recipientIsMember)) {
    throw new BadRequestError('this offer is for members of the community only', 'recipient');
  }
  if (offer.priceMinor === 0n) {
    if (payment.kind !== 'free') throw new BadRequestError('this offer is free: no payment is taken', 'payment');
  } else if (payment.kind !== 'wallet-transfer' || payment.amountMinor !== offer.priceMinor || payment.currency !== offer.currency) {
    throw new BadRequestError('this offer is paid for with one wallet transfer of exactly its price', 'payment');
  }
  return createGrant(
    {
      grantor: offer.grantor,
      recipient: acceptance.recipient,
      scope: offer.scope,
      purpose: validatePurpose(acceptance.purpose),
      validUntil: now + offer.grantValidityDays * DAY_MS,
    },
    {
      id: acceptance.grantId,
      communityId: offer.communityId,
      now,
      ownMeteringPoints: acceptance.grantorMeteringPoints,
      origin: { kind: 'offer', offerId: offer.id, payment },
    },
  );
}
