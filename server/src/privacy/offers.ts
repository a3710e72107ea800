import { randomUUID } from 'node:crypto';
import type { Principal } from '../kernel/principal.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../kernel/errors.js';
import { minorDigits } from '../kernel/money.js';
import { isMemberOf, requireUser } from '../accounts/index.js';
import { loadCommunity, memberById, meteringPointIdsOfMember } from '../registry/index.js';
import { payBetweenWallets } from '../market/index.js';
import { recordChange } from '../audit/index.js';
import {
  acceptOffer, createOffer, grantDigest, grantState, isOfferOpen, withdrawOffer,
  type DataOffer, type DataScope, type OfferAudience, type Payment, type Recipient, type StatedPurpose,
} from './domain/index.js';
import { sha256Hex } from './domain/crypto.js';
import { auditGrant, consentEvent, newRecipientToken, ownMember, type PrivacyContext } from './service.js';
import * as store from './store.js';

/**
 * Data offers in operation: a member publishes a scope of their own data at a price, another
 * member (or, for a free offer to anyone, an organisation a user acts for) accepts it; a priced
 * offer is paid from the taker's wallet to the member's through the market's ledger, and the offer
 * becomes a consent grant — the same table, token, audit entry and verifiable-record entry as a
 * grant the member gives directly. Payment and grant are one transaction: either both or neither.
 */

export interface OfferInput {
  readonly scope: DataScope;
  readonly description: string;
  readonly audience: OfferAudience;
  /** A decimal in the community's currency ("0", "4.50"). */
  readonly price: string;
  readonly grantValidityDays: number;
  readonly openUntil: number;
}

/** The offers a member published and whether the caller (as that member) holds a running grant from each available one. */
export interface OfferListing {
  readonly mine: readonly { offer: DataOffer; takers: number }[];
  readonly available: readonly { offer: DataOffer; taken: boolean }[];
}

export async function publishOffer(ctx: PrivacyContext, principal: Principal, memberId: string, input: OfferInput): Promise<DataOffer> {
  const { member } = await ownMember(ctx.db, principal, memberId);
  const community = await loadCommunity(ctx.db, member.communityId);
  if (!community) throw new NotFoundError('community');
  const offer = createOffer({ grantor: memberId, ...input, currency: community.currency }, {
    id: randomUUID(), communityId: member.communityId, now: ctx.now(), ownMeteringPoints: new Set(await meteringPointIdsOfMember(ctx.db, memberId)),
  });
  return ctx.events.transaction(ctx.db, async (tx, publish) => {
    await store.insertOffer(tx, offer);
    await recordChange(publish, {
      kind: 'consent', communityId: offer.communityId, resourceId: offer.id, action: 'publish-offer', before: null, after: auditView(offer),
      subjectMemberId: memberId, atMs: offer.publishedAt,
    });
    return offer;
  });
}

export async function withdrawDataOffer(ctx: PrivacyContext, principal: Principal, offerId: string): Promise<DataOffer> {
  const user = requireUser(principal);
  const offer = await store.offerById(ctx.db, offerId);
  if (!offer) throw new NotFoundError('offer');
  if (!user.memberships.some((m) => m.memberId === offer.grantor)) {
    // Its community's managers and members see the offer exists; nobody else learns of it.
    if (isMemberOf(user, offer.communityId)) throw new ForbiddenError('only the member who published the offer');
    throw new NotFoundError('offer');
  }
  const withdrawn = withdrawOffer(offer, ctx.now());
  if (withdrawn === offer) return offer;
  return ctx.events.transaction(ctx.db, async (tx, publish) => {
    await store.markOfferWithdrawn(tx, offer, withdrawn.withdrawnAt!);
    const after = (await store.offerById(tx, offer.id))!;
    await recordChange(publish, {
      kind: 'consent', communityId: offer.communityId, resourceId: offer.id, action: 'withdraw-offer', before: auditView(offer), after: auditView(after),
      subjectMemberId: offer.grantor, atMs: withdrawn.withdrawnAt!,
    });
    return after;
  });
}

export async function memberOffers(ctx: PrivacyContext, principal: Principal, memberId: string): Promise<OfferListing> {
  const { member } = await ownMember(ctx.db, principal, memberId);
  const now = ctx.now();
  const mine = await store.offersOfGrantor(ctx.db, memberId);
  const takers = await store.takersOfOffers(ctx.db, mine.map((o) => o.id));
  const available = await store.openOffersOfCommunity(ctx.db, member.communityId, memberId, now);
  const held = await store.grantsFromOffers(ctx.db, 'member', memberId, available.map((o) => o.id));
  return {
    mine: mine.map((offer) => ({ offer, takers: takers.get(offer.id) ?? 0 })),
    available: available.map((offer) => ({ offer, taken: held.some((g) => runsFrom(g, offer.id, now)) })),
  };
}

/** How many offers the catalogue shows at most (newest first). */
const CATALOGUE_LIMIT = 200;

export interface CatalogueEntry {
  readonly offer: DataOffer;
  readonly communityName: string;
  readonly mine: boolean;
  readonly taken: boolean;
}

/**
 * The catalogue of open offers a signed-in user may take: those of the communities they are an
 * active member of, and those to anyone of every community; `community` narrows it to one (an
 * unknown or foreign members-only community answers an empty list: nothing is learnt).
 */
export async function offerCatalogue(ctx: PrivacyContext, principal: Principal, community: string | undefined): Promise<CatalogueEntry[]> {
  const user = requireUser(principal);
  const now = ctx.now();
  const memberships = user.memberships.filter((m) => m.state === 'active');
  const offers = await store.catalogueOffers(ctx.db, [...new Set(memberships.map((m) => m.communityId))], community ?? null, now, CATALOGUE_LIMIT);
  const mine = new Set(user.memberships.map((m) => m.memberId));
  const held = await store.grantsFromOffersHeldBy(ctx.db, [...mine, `user:${user.userId}`], offers.map((o) => o.id));
  const names = new Map<string, string>();
  for (const id of new Set(offers.map((o) => o.communityId))) names.set(id, (await loadCommunity(ctx.db, id))?.name ?? '');
  return offers.map((offer) => ({
    offer, communityName: names.get(offer.communityId)!, mine: mine.has(offer.grantor), taken: held.some((g) => runsFrom(g, offer.id, now)),
  }));
}

export interface AcceptInput {
  /** The member who takes the offer: one of the caller's active memberships. */
  readonly memberId?: string | undefined;
  /** Or the organisation the caller acts for (free offers to anyone only); its token is shown once. */
  readonly recipient?: { readonly kind: Exclude<Recipient['kind'], 'member'>; readonly label: string } | undefined;
  readonly purpose: StatedPurpose;
}

/**
 * Accepts an offer. Refused with nothing changed (no grant, no payment): a closed or withdrawn
 * offer, a taker who already holds a running grant from it (409), a wallet holding less than the
 * price (409), a taker outside a members-only offer's community (400).
 */
export async function acceptDataOffer(ctx: PrivacyContext, principal: Principal, offerId: string, input: AcceptInput): Promise<{ grant: store.StoredGrant; recipientToken: string | undefined }> {
  const user = requireUser(principal);
  const found = await store.offerById(ctx.db, offerId);
  // An offer to the community's members is the community's business alone.
  if (!found || (found.audience === 'members' && !isMemberOf(user, found.communityId))) throw new NotFoundError('offer');
  if ((input.memberId === undefined) === (input.recipient === undefined)) {
    throw new BadRequestError('accept as one of your memberships (memberId) or for an organisation (recipient)', 'body/memberId');
  }
  let recipient: Recipient;
  let recipientIsMember = false;
  if (input.memberId !== undefined) {
    const membership = user.memberships.find((m) => m.memberId === input.memberId && m.state === 'active');
    if (!membership) throw new ForbiddenError('accept as yourself: one of your own memberships');
    recipient = { kind: 'member', id: membership.memberId, label: (await memberById(ctx.db, membership.memberId))?.displayName ?? membership.memberId };
    recipientIsMember = membership.communityId === found.communityId;
  } else {
    // The organisation is named by the person who accepts for it: their account is its id.
    recipient = { kind: input.recipient!.kind, id: `user:${user.userId}`, label: input.recipient!.label };
  }
  const recipientToken = recipient.kind === 'member' ? undefined : newRecipientToken();
  return ctx.events.transaction(ctx.db, async (tx, publish) => {
    const offer = (await store.offerById(tx, offerId, true))!;
    const now = ctx.now();
    if (!isOfferOpen(offer, now)) throw new ConflictError(offer.withdrawnAt === null ? 'this offer is closed' : 'this offer was withdrawn');
    const held = await store.grantsFromOffers(tx, recipient.kind, recipient.id, [offer.id]);
    if (held.some((g) => runsFrom(g, offer.id, now))) throw new ConflictError('you already hold a consent from this offer');
    let payment: Payment = { kind: 'free' };
    if (offer.priceMinor > 0n) {
      // Members-only (a priced offer is): the domain below refuses anyone else, rolling the payment back with it.
      if (recipient.kind !== 'member' || !recipientIsMember) throw new BadRequestError('this offer is for members of the community only', 'recipient');
      const posting = await payBetweenWallets(tx, publish, offer.communityId, {
        fromMemberId: recipient.id, toMemberId: offer.grantor, amountMinor: offer.priceMinor, digits: minorDigits(offer.currency), reference: `data-offer:${offer.id}`,
      }, now);
      payment = { kind: 'wallet-transfer', transferId: String(posting.sequence), amountMinor: offer.priceMinor, currency: offer.currency };
    }
    const grant = acceptOffer(offer, {
      recipient, recipientIsMember, purpose: input.purpose, payment, grantId: randomUUID(), now,
      grantorMeteringPoints: new Set(await meteringPointIdsOfMember(tx, offer.grantor)),
    });
    const digest = grantDigest(grant);
    await store.insertGrant(tx, grant, digest);
    if (recipientToken !== undefined) await store.insertRecipientToken(tx, grant, sha256Hex(recipientToken), now);
    const stored = { ...grant, digest };
    await recordChange(publish, {
      kind: 'consent', communityId: offer.communityId, resourceId: grant.id, action: 'accept-offer', before: null, after: auditGrant(stored), subjectMemberId: offer.grantor, atMs: now,
    });
    await publish('consent.changed', consentEvent(stored, 'granted', now));
    return { grant: stored, recipientToken };
  });
}

/** A grant from the offer that has not ended: its holder does not take the offer again. */
const runsFrom = (grant: store.StoredGrant, offerId: string, now: number): boolean =>
  grant.origin.kind === 'offer' && grant.origin.offerId === offerId && (grantState(grant, now) === 'active' || grantState(grant, now) === 'pending');

/** The offer on the audit trail: its terms, the price as text (the trail is JSON). */
const auditView = (offer: DataOffer) => ({ ...offer, priceMinor: offer.priceMinor.toString() });
