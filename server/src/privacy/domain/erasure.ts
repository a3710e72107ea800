import { BadRequestError } from '../../kernel/errors.js';
import { keptUntil, validateRetentionPolicy, type LegalMinimum, type RetentionKind, type RetentionPolicy } from './retention.js';
import { requireInstant } from './scope.js';

/**
 * Erasure (GDPR Art. 17): what happens to each kind of a member's personal data when the
 * account is erased. Most is deleted at once; what the community must keep (billing records
 * for the legal period, the settlement data others' shares rest on, evidence of consents and
 * of who read the data) is kept under a random pseudonym — never a hash of the email or of
 * anything else about the person, which could be recomputed — and deleted by the retention
 * job when its time comes. Each capability applies the plan to its own tables (phase 2:
 * `eraseMember` / `pseudonymiseMember` in its index.ts).
 */

export const PERSONAL_DATA_KINDS = [
  'name', 'email', 'credentials', 'address', 'metering-point-numbers', 'account-ids', 'join-message',
  'device-assignments', 'raw-readings', 'intervals', 'energy-by-source', 'forecasts', 'schedules', 'statements',
  'market', 'consents-given', 'consents-received', 'offers', 'access-log', 'ledger-salt', 'export-files',
] as const;
export type PersonalDataKind = (typeof PERSONAL_DATA_KINDS)[number];

/** What a pseudonymised field becomes. */
export type Replacement = 'pseudonym-id' | 'pseudonym-label' | 'pseudonym-email' | 'pseudonym-number' | 'empty';

export type ErasureAction =
  /** Removed now. */
  | { readonly action: 'delete' }
  /** Replaced now, for good: what is left no longer says who it was. */
  | { readonly action: 'replace'; readonly with: Replacement }
  /** Revoked or withdrawn now (recipients lose access at once), then kept pseudonymised like the access log. */
  | { readonly action: 'revoke' }
  /** Devices stay with the community, no longer assigned to the member's metering points. */
  | { readonly action: 'release' }
  /** Kept, linked only to the pseudonym, until the retention of `retention` has passed for the newest record. */
  | { readonly action: 'keep-pseudonymised'; readonly retention: RetentionKind; readonly until: number };

export type ErasureStep = { readonly kind: PersonalDataKind } & ErasureAction;

/** Why a kind is kept, for the member's confirmation page (GDPR Art. 17(3)). */
type KeptKind = 'statements' | 'market' | 'intervals' | 'energy-by-source' | 'consents-given' | 'access-log';
const KEPT_FOR: Record<KeptKind, RetentionKind> = {
  // Billing records: a legal obligation (Art. 17(3)(b)).
  statements: 'billing-records',
  market: 'billing-records',
  // The quarter hours other members' shares and the operator's settlement were computed from.
  intervals: 'intervals',
  'energy-by-source': 'intervals',
  // Evidence that a disclosure was consented (Art. 7(1)) and of who read the data (Art. 5(2)).
  'consents-given': 'access-log',
  'access-log': 'access-log',
};

const FIXED: Record<Exclude<PersonalDataKind, KeptKind>, ErasureAction> = {
  name: { action: 'replace', with: 'pseudonym-label' },
  // The account row goes; where a kept row needs an address to stay valid, pseudonym-email.
  email: { action: 'delete' },
  credentials: { action: 'delete' },
  address: { action: 'replace', with: 'empty' },
  // Frees the number for whoever lives there next.
  'metering-point-numbers': { action: 'replace', with: 'pseudonym-number' },
  'account-ids': { action: 'replace', with: 'pseudonym-id' },
  'join-message': { action: 'delete' },
  'device-assignments': { action: 'release' },
  'raw-readings': { action: 'delete' },
  forecasts: { action: 'delete' },
  schedules: { action: 'delete' },
  'consents-received': { action: 'revoke' },
  offers: { action: 'revoke' },
  // Deleting the member's commitment salt leaves the verifiable record valid but unlinkable.
  'ledger-salt': { action: 'delete' },
  'export-files': { action: 'delete' },
};

export interface ErasureRequest {
  /** The kinds the member has data of (each capability counts its own). */
  readonly holdings: ReadonlySet<PersonalDataKind>;
  /** The newest record's instant for each kept kind the member has (statements: issue date; intervals: quarter hour; …). */
  readonly newest: Readonly<Partial<Record<PersonalDataKind, number>>>;
  readonly policy: RetentionPolicy;
  readonly legal: LegalMinimum;
  readonly timeZone: string;
  readonly now: number;
}

export interface ErasurePlan {
  readonly steps: readonly ErasureStep[];
  /** When the last kept record goes (null when nothing is kept). */
  readonly finalDeletionAt: number | null;
}

/** The plan for one member: a step per kind held, in PERSONAL_DATA_KINDS order. */
export function planErasure(request: ErasureRequest): ErasurePlan {
  validateRetentionPolicy(request.policy, request.legal);
  requireInstant(request.now, 'now');
  const steps: ErasureStep[] = [];
  let finalDeletionAt: number | null = null;
  for (const kind of PERSONAL_DATA_KINDS) {
    if (!request.holdings.has(kind)) continue;
    if (!(kind in KEPT_FOR)) {
      steps.push({ kind, ...FIXED[kind as Exclude<PersonalDataKind, KeptKind>] });
      continue;
    }
    const retention = KEPT_FOR[kind as KeptKind];
    const newest = request.newest[kind];
    if (newest === undefined) throw new BadRequestError(`the member has ${kind}: the planner needs the newest record's instant`, `newest/${kind}`);
    requireInstant(newest, `newest/${kind}`);
    if (newest > request.now) throw new BadRequestError(`the newest ${kind} record lies in the future`, `newest/${kind}`);
    // keptUntil is null only for the ledger, which holds no personal data and is never a kept kind.
    const until = keptUntil(retention, newest, request.policy, request.timeZone)!;
    // Records whose time has passed already are simply deleted.
    if (until <= request.now) {
      steps.push({ kind, action: 'delete' });
      continue;
    }
    steps.push({ kind, action: 'keep-pseudonymised', retention, until });
    if (finalDeletionAt === null || until > finalDeletionAt) finalDeletionAt = until;
  }
  return { steps, finalDeletionAt };
}

/** A member's pseudonym: random, so nothing about the person leads to it. */
export interface Pseudonym {
  /** A UUID (version 4), so it fits every id column a member id lives in. */
  readonly id: string;
  /** What lists show instead of the name. */
  readonly label: string;
}

/** A pseudonym from 16 random bytes the caller draws (`crypto.randomBytes(16)`); the core never draws randomness itself. */
export function createPseudonym(random: Uint8Array): Pseudonym {
  if (random.length !== 16) throw new RangeError(`a pseudonym is made of 16 random bytes, got ${random.length}`);
  const bytes = Uint8Array.from(random);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { id, label: `erased-${hex.slice(0, 12)}` };
}

/**
 * Replaces personal values by pseudonymous ones during one erasure. The same original gets the
 * same replacement in every table (so kept rows still join), and replacements come from the
 * pseudonym and a counter — never from the original.
 */
export class Pseudonymiser {
  private readonly numbers = new Map<string, string>();

  constructor(readonly pseudonym: Pseudonym) {}

  replace(original: string, replacement: Replacement): string {
    switch (replacement) {
      case 'pseudonym-id': return this.pseudonym.id;
      case 'pseudonym-label': return this.pseudonym.label;
      case 'pseudonym-email': return `${this.pseudonym.label}@erased.invalid`;
      case 'empty': return '';
      case 'pseudonym-number': {
        let number = this.numbers.get(original);
        if (number === undefined) {
          number = `${this.pseudonym.label}-${this.numbers.size + 1}`;
          this.numbers.set(original, number);
        }
        return number;
      }
    }
  }

  /** A copy of `record` with each listed field replaced. */
  record<T extends Record<string, unknown>>(record: T, fields: Partial<Record<keyof T & string, Replacement>>): T {
    const copy: Record<string, unknown> = { ...record };
    for (const [field, replacement] of Object.entries(fields) as [string, Replacement][]) {
      const value = copy[field];
      if (value !== null && value !== undefined) copy[field] = this.replace(String(value), replacement);
    }
    return copy as T;
  }
}

/** Who a person was, to look for after an erasure. */
export interface PersonTraces {
  readonly name: string;
  readonly email: string;
  readonly addresses: readonly string[];
  readonly ids: readonly string[];
}

/**
 * Which of the person's identifiers still occur in `text` (a dumped row, a file), case
 * insensitively: the erasure test runs it over every table. Values shorter than 4 characters
 * are not searched (they would match anything).
 */
export function findTraces(text: string, person: PersonTraces): string[] {
  const haystack = text.toLowerCase();
  const localPart = person.email.split('@')[0] ?? '';
  const needles = [person.name, person.email, localPart, ...person.addresses, ...person.ids];
  return [...new Set(needles.filter((n) => n.trim().length >= 4 && haystack.includes(n.toLowerCase())))];
}
