/**
 * Consent grants and the read decision: the authorisation cases the consent API will be
 * tested with (in scope, out of scope, revoked, expired, another member's token), revocation
 * with immediate effect, and data offers becoming grants (priced ones for members, paid from a wallet).
 */
import { describe, expect, it } from 'vitest';
import {
  acceptOffer, createGrant, createOffer, grantDigest, grantState, mayRead, refusalError, revokeGrant, withdrawOffer,
  type Acceptance, type OfferDraft, type ReadRequest,
} from '../../src/privacy/domain/index.js';
import { ANNA, ANNA_GARAGE, ANNA_HOME, ANNA_POINTS, annaToBert, BERT, CARA, DAY, HOUR, T0 } from './support.js';

const bert = { kind: 'member', id: BERT } as const;
const cara = { kind: 'member', id: CARA } as const;
const read = (overrides: Partial<ReadRequest> = {}): ReadRequest => ({
  grantor: ANNA, meteringPoint: ANNA_HOME, quantity: 'import', resolution: '1h', fromMs: T0, toMs: T0 + DAY, ...overrides,
});
const NOW = T0 + 10 * DAY;

describe('creating a grant', () => {
  it('keeps a canonical scope and starts active', () => {
    const grant = annaToBert({ scope: { meteringPoints: [ANNA_HOME, ANNA_HOME], quantities: ['pv', 'import'], resolution: '1h', period: { fromMs: T0, toMs: null } } });
    expect(grant.scope.meteringPoints).toEqual([ANNA_HOME]);
    expect(grant.scope.quantities).toEqual(['import', 'pv']);
    expect(grant.revokedAt).toBeNull();
    expect(grant.origin).toEqual({ kind: 'direct' });
    expect(grantState(grant, T0)).toBe('active');
  });

  it.each([
    ['a metering point of someone else', { scope: { meteringPoints: ['AT-OTHER'], quantities: ['import'], resolution: '1h', period: { fromMs: T0, toMs: null } } }, 'scope/meteringPoints'],
    ['no metering point', { scope: { meteringPoints: [], quantities: ['import'], resolution: '1h', period: { fromMs: T0, toMs: null } } }, 'scope/meteringPoints'],
    ['an unknown quantity', { scope: { meteringPoints: [ANNA_HOME], quantities: ['gas' as 'import'], resolution: '1h', period: { fromMs: T0, toMs: null } } }, 'scope/quantities'],
    ['an unknown resolution', { scope: { meteringPoints: [ANNA_HOME], quantities: ['import'], resolution: '1s' as '1h', period: { fromMs: T0, toMs: null } } }, 'scope/resolution'],
    ['a period off the quarter-hour grid', { scope: { meteringPoints: [ANNA_HOME], quantities: ['import'], resolution: '1h', period: { fromMs: T0 + 1, toMs: null } } }, 'scope/period/fromMs'],
    ['a period ending before it starts', { scope: { meteringPoints: [ANNA_HOME], quantities: ['import'], resolution: '1h', period: { fromMs: T0, toMs: T0 } } }, 'scope/period/toMs'],
    ['a NaN period', { scope: { meteringPoints: [ANNA_HOME], quantities: ['import'], resolution: '1h', period: { fromMs: Number.NaN, toMs: null } } }, 'scope/period/fromMs'],
    ['herself as recipient', { recipient: { kind: 'member', id: ANNA, label: 'me' } }, 'recipient'],
    ['an unknown recipient kind', { recipient: { kind: 'robot' as 'app', id: 'x1', label: 'x' } }, 'recipient/kind'],
    ['an empty purpose statement', { purpose: { code: 'research', statement: '   ' } }, 'purpose/statement'],
    ['an unknown purpose', { purpose: { code: 'advertising' as 'research', statement: 'ads' } }, 'purpose/code'],
    ['a validity in the past', { validUntil: T0 - 1 }, 'validUntil'],
    ['a validity of ten years', { validUntil: T0 + 3660 * DAY }, 'validUntil'],
  ] as const)('refuses %s, naming the field', (_what, overrides, field) => {
    expect(() => annaToBert(overrides as never)).toThrow(expect.objectContaining({ code: 'bad_request', field }));
  });

  it('refuses hostile identifiers', () => {
    expect(() => createGrant(
      { grantor: "anna'; DROP TABLE grants;--", recipient: { kind: 'member', id: BERT, label: 'b' }, scope: { meteringPoints: [ANNA_HOME], quantities: ['import'], resolution: '1h', period: { fromMs: T0, toMs: null } }, purpose: { code: 'research', statement: 'x' }, validUntil: T0 + DAY },
      { id: 'g', communityId: 'c', now: T0, ownMeteringPoints: ANNA_POINTS },
    )).toThrow(expect.objectContaining({ field: 'grantor' }));
  });
});

describe('mayRead: the consent API authorisation cases', () => {
  const grant = annaToBert();

  it('in scope: allowed, with the window clipped to the granted period', () => {
    const decision = mayRead([grant], bert, read({ fromMs: T0 - 5 * DAY, toMs: T0 + 40 * DAY }), NOW);
    expect(decision).toEqual({ allowed: true, grant, resolution: '1h', window: { fromMs: T0, toMs: T0 + 30 * DAY } });
    // Coarser than granted is fine: the answer is summed further.
    expect(mayRead([grant], bert, read({ resolution: '1d' }), NOW).allowed).toBe(true);
    expect(mayRead([grant], bert, read({ resolution: '1mo' }), NOW).allowed).toBe(true);
  });

  it.each([
    ['another metering point', { meteringPoint: ANNA_GARAGE }],
    ['another quantity', { quantity: 'export' }],
    ['a finer resolution than granted', { resolution: '15m' }],
    ['a period before the granted one', { fromMs: T0 - 2 * DAY, toMs: T0 }],
    ['a period after the granted one', { fromMs: T0 + 30 * DAY, toMs: T0 + 31 * DAY }],
    ['another member\'s data', { grantor: CARA }],
    ['an empty period', { toMs: T0 }],
    ['a NaN period', { fromMs: Number.NaN }],
  ] as const)('out of scope (404): %s', (_what, overrides) => {
    const decision = mayRead([grant], bert, read(overrides as Partial<ReadRequest>), NOW);
    expect(decision).toEqual({ allowed: false, refusal: 'out-of-scope' });
    expect(refusalError('out-of-scope').code).toBe('not_found');
  });

  it('revoked: refused from the instant of revocation on (403 with the reason)', () => {
    const revokedAt = NOW + 7;
    const revoked = revokeGrant(grant, revokedAt);
    expect(mayRead([revoked], bert, read(), revokedAt - 1).allowed).toBe(true);
    expect(mayRead([revoked], bert, read(), revokedAt)).toEqual({ allowed: false, refusal: 'revoked' });
    expect(refusalError('revoked')).toMatchObject({ code: 'forbidden', message: expect.stringContaining('revoked') });
    // Revoking twice keeps the first instant.
    expect(revokeGrant(revoked, revokedAt + DAY).revokedAt).toBe(revokedAt);
  });

  it('expired: refused at validUntil (403 with the reason)', () => {
    expect(mayRead([grant], bert, read(), grant.validUntil - 1).allowed).toBe(true);
    expect(mayRead([grant], bert, read(), grant.validUntil)).toEqual({ allowed: false, refusal: 'expired' });
    expect(refusalError('expired').code).toBe('forbidden');
  });

  it('another member\'s token: nothing, and no hint that a grant exists (404)', () => {
    expect(mayRead([grant], cara, read(), NOW)).toEqual({ allowed: false, refusal: 'out-of-scope' });
    expect(mayRead([grant], cara, read({ grantId: grant.id }), NOW)).toEqual({ allowed: false, refusal: 'not-recipient' });
    expect(refusalError('not-recipient').code).toBe('not_found');
    // An app or a researcher with the same id is another recipient.
    expect(mayRead([grant], { kind: 'app', id: BERT }, read(), NOW).allowed).toBe(false);
  });

  it('a named grant must be the grantor\'s; an unknown id is out of scope', () => {
    expect(mayRead([grant], bert, read({ grantId: 'grant-404' }), NOW).allowed).toBe(false);
    expect(mayRead([grant], bert, read({ grantId: grant.id, grantor: CARA }), NOW)).toEqual({ allowed: false, refusal: 'out-of-scope' });
    expect(mayRead([grant], bert, read({ grantId: grant.id }), NOW).allowed).toBe(true);
  });

  it('an active grant wins over a revoked one; revoked explains before expired', () => {
    const old = annaToBert({}, 'grant-0', T0 - 90 * DAY);
    const revoked = revokeGrant(annaToBert({}, 'grant-2'), NOW - HOUR);
    expect(mayRead([old, revoked, grant], bert, read(), NOW)).toMatchObject({ allowed: true, grant: { id: 'grant-1' } });
    expect(mayRead([old, revoked], bert, read(), NOW)).toEqual({ allowed: false, refusal: 'revoked' });
    expect(mayRead([old], bert, read(), NOW)).toEqual({ allowed: false, refusal: 'expired' });
  });

  it('a grant not yet in force allows nothing', () => {
    const later = annaToBert({}, 'grant-later', NOW + DAY);
    expect(mayRead([later], bert, read(), NOW).allowed).toBe(false);
  });
});

describe('grant digests for the verifiable record', () => {
  it('are stable over revocation and the recipient label, and change with the terms', () => {
    const grant = annaToBert();
    const digest = grantDigest(grant);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(grantDigest(revokeGrant(grant, NOW))).toBe(digest);
    expect(grantDigest({ ...grant, recipient: { ...grant.recipient, label: 'Bert B.' } })).toBe(digest);
    expect(grantDigest({ ...grant, scope: { ...grant.scope, resolution: '15m' } })).not.toBe(digest);
    expect(grantDigest({ ...grant, validUntil: grant.validUntil + 1000 })).not.toBe(digest);
  });

  it('holds no personal data in the clear', () => {
    // The digest is a hash: the label and the purpose statement are not in it as text.
    expect(grantDigest(annaToBert())).not.toContain('Bert');
  });
});

describe('data offers', () => {
  const draft: OfferDraft = {
    grantor: ANNA,
    scope: { meteringPoints: [ANNA_HOME, ANNA_GARAGE], quantities: ['import', 'pv'], resolution: '1d', period: { fromMs: T0, toMs: null } },
    description: 'Daily consumption and PV of a 1970s house with a heat pump.',
    audience: 'anyone',
    price: '0',
    currency: 'EUR',
    grantValidityDays: 365,
    openUntil: T0 + 90 * DAY,
  };
  const context = { id: 'offer-1', communityId: 'community-1', now: T0, ownMeteringPoints: ANNA_POINTS };
  const researcher = { kind: 'researcher', id: 'tu-wien-energylab', label: 'Energy Lab, TU Wien' } as const;
  const acceptance = (overrides: Partial<Acceptance> = {}): Acceptance => ({
    recipient: researcher,
    recipientIsMember: false,
    purpose: { code: 'research', statement: 'Heat pump load study 2026.' },
    payment: { kind: 'free' },
    grantorMeteringPoints: ANNA_POINTS,
    grantId: 'grant-from-offer',
    now: T0 + DAY,
    ...overrides,
  });

  it('an accepted free offer becomes a grant on exactly its scope, revocable like any other', () => {
    const offer = createOffer(draft, context);
    expect(offer.priceMinor).toBe(0n);
    const grant = acceptOffer(offer, acceptance());
    expect(grant).toMatchObject({
      grantor: ANNA, recipient: researcher, scope: offer.scope, validUntil: T0 + DAY + 365 * DAY,
      origin: { kind: 'offer', offerId: 'offer-1', payment: { kind: 'free' } },
    });
    const request = read({ meteringPoint: ANNA_GARAGE, quantity: 'pv', resolution: '1d' });
    expect(mayRead([grant], researcher, request, T0 + 2 * DAY).allowed).toBe(true);
    expect(mayRead([grant], researcher, { ...request, resolution: '1h' }, T0 + 2 * DAY).allowed).toBe(false);
    expect(mayRead([revokeGrant(grant, T0 + 2 * DAY)], researcher, request, T0 + 2 * DAY).allowed).toBe(false);
  });

  it('refuses a price on an offer to anyone: wallets are the community\'s', () => {
    expect(() => createOffer({ ...draft, price: '4.50' }, context)).toThrow(expect.objectContaining({ field: 'price', message: expect.stringContaining('wallet') }));
  });

  it('a priced offer takes exactly one transfer of the price', () => {
    const offer = createOffer({ ...draft, audience: 'members', price: '4.50' }, context);
    expect(offer.priceMinor).toBe(450n);
    const bert = { recipient: { kind: 'member', id: BERT, label: 'Bert' }, recipientIsMember: true } as const;
    expect(() => acceptOffer(offer, acceptance(bert))).toThrow(expect.objectContaining({ field: 'payment' }));
    expect(() => acceptOffer(offer, acceptance({ ...bert, payment: { kind: 'wallet-transfer', transferId: 't1', amountMinor: 449n, currency: 'EUR' } }))).toThrow(/exactly its price/);
    const grant = acceptOffer(offer, acceptance({ ...bert, payment: { kind: 'wallet-transfer', transferId: 't1', amountMinor: 450n, currency: 'EUR' } }));
    expect(grant.origin).toMatchObject({ kind: 'offer', payment: { transferId: 't1', amountMinor: 450n } });
    // A free offer takes no payment either.
    expect(() => acceptOffer(createOffer(draft, context), acceptance({ payment: { kind: 'wallet-transfer', transferId: 't2', amountMinor: 0n, currency: 'EUR' } }))).toThrow(/free/);
  });

  it.each([
    ['a negative price', { price: '-1' }, 'price'],
    ['a price with too many places', { price: '1.005' }, 'price'],
    ['a price that is not a number', { price: 'NaN' }, 'price'],
    ['a made-up currency format', { currency: 'euro' }, 'currency'],
    ['a zero validity', { grantValidityDays: 0 }, 'grantValidityDays'],
    ['an offer closing in the past', { openUntil: T0 - 1 }, 'openUntil'],
    ['someone else\'s metering point', { scope: { ...draft.scope, meteringPoints: ['AT-OTHER'] } }, 'scope/meteringPoints'],
  ] as const)('refuses %s', (_what, overrides, field) => {
    expect(() => createOffer({ ...draft, ...overrides } as OfferDraft, context)).toThrow(expect.objectContaining({ code: 'bad_request', field }));
  });

  it('closed, withdrawn, members-only, or given-up offers take no taker', () => {
    const offer = createOffer(draft, context);
    expect(() => acceptOffer(offer, acceptance({ now: draft.openUntil }))).toThrow(expect.objectContaining({ code: 'conflict' }));
    expect(() => acceptOffer(withdrawOffer(offer, T0 + HOUR), acceptance())).toThrow(expect.objectContaining({ code: 'conflict' }));
    const membersOnly = createOffer({ ...draft, audience: 'members' }, context);
    expect(() => acceptOffer(membersOnly, acceptance())).toThrow(/members/);
    expect(acceptOffer(membersOnly, acceptance({ recipient: { kind: 'member', id: BERT, label: 'Bert' }, recipientIsMember: true })).recipient.id).toBe(BERT);
    // Anna gave up her garage since publishing: the grant would cover it, so it is refused.
    expect(() => acceptOffer(offer, acceptance({ grantorMeteringPoints: new Set([ANNA_HOME]) }))).toThrow(/not your metering point/);
    // Anna cannot take her own offer.
    expect(() => acceptOffer(offer, acceptance({ recipient: { kind: 'member', id: ANNA, label: 'Anna' }, recipientIsMember: true }))).toThrow(/someone else/);
  });
});
