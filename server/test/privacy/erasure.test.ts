/**
 * Erasure plans and pseudonyms: what is deleted, replaced, released, revoked or kept (and until
 * when) for a member with everything; pseudonyms that come from randomness only; and a dry run
 * of a plan over rows shaped like the platform's tables, leaving no trace of the person while
 * the kept statements still add up.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createPseudonym, defaultRetentionPolicy, findTraces, legalMinimumFor, PERSONAL_DATA_KINDS, planErasure, Pseudonymiser,
  type ErasureRequest, type ErasureStep, type PersonalDataKind,
} from '../../src/privacy/domain/index.js';
import { parseFixed } from '../../src/kernel/money.js';
import { DAY } from './support.js';

const AT = legalMinimumFor('AT');
const POLICY = defaultRetentionPolicy(AT);
const NOW = Date.UTC(2026, 5, 15, 9);
const VIENNA = 'Europe/Vienna';

const request = (overrides: Partial<ErasureRequest> = {}): ErasureRequest => ({
  holdings: new Set(PERSONAL_DATA_KINDS),
  newest: {
    statements: Date.UTC(2026, 4, 3),
    market: Date.UTC(2026, 5, 14),
    intervals: NOW - DAY,
    'energy-by-source': NOW - DAY,
    'consents-given': Date.UTC(2025, 10, 1),
    'access-log': NOW - 3 * DAY,
  },
  policy: POLICY,
  legal: AT,
  timeZone: VIENNA,
  now: NOW,
  ...overrides,
});

const stepOf = (steps: readonly ErasureStep[], kind: PersonalDataKind) => steps.find((s) => s.kind === kind);

describe('planErasure', () => {
  it('deletes, replaces, releases and revokes at once; keeps billing records pseudonymised until their legal time', () => {
    const plan = planErasure(request());
    expect(plan.steps.map((s) => s.kind)).toEqual([...PERSONAL_DATA_KINDS]);
    for (const kind of ['email', 'credentials', 'join-message', 'raw-readings', 'forecasts', 'schedules', 'ledger-salt', 'export-files'] as const) {
      expect(stepOf(plan.steps, kind), kind).toEqual({ kind, action: 'delete' });
    }
    expect(stepOf(plan.steps, 'name')).toEqual({ kind: 'name', action: 'replace', with: 'pseudonym-label' });
    expect(stepOf(plan.steps, 'address')).toEqual({ kind: 'address', action: 'replace', with: 'empty' });
    expect(stepOf(plan.steps, 'account-ids')).toEqual({ kind: 'account-ids', action: 'replace', with: 'pseudonym-id' });
    expect(stepOf(plan.steps, 'metering-point-numbers')).toEqual({ kind: 'metering-point-numbers', action: 'replace', with: 'pseudonym-number' });
    expect(stepOf(plan.steps, 'device-assignments')).toEqual({ kind: 'device-assignments', action: 'release' });
    expect(stepOf(plan.steps, 'offers')).toEqual({ kind: 'offers', action: 'revoke' });
    // A statement of May 2026 in Austria: 7 years after the end of 2026, i.e. 1 January 2034 in Vienna.
    expect(stepOf(plan.steps, 'statements')).toEqual({ kind: 'statements', action: 'keep-pseudonymised', retention: 'billing-records', until: Date.UTC(2033, 11, 31, 23) });
    expect(stepOf(plan.steps, 'intervals')).toMatchObject({ action: 'keep-pseudonymised', retention: 'intervals', until: expect.any(Number) });
    expect(plan.finalDeletionAt).toBe(Date.UTC(2033, 11, 31, 23));
  });

  it('follows the country: ten years in Italy', () => {
    const IT = legalMinimumFor('IT');
    const plan = planErasure(request({ legal: IT, policy: defaultRetentionPolicy(IT), timeZone: 'Europe/Rome' }));
    expect(stepOf(plan.steps, 'statements')).toMatchObject({ until: Date.UTC(2036, 11, 31, 23) });
  });

  it('deletes at once what has outlived its retention, and plans only for what the member has', () => {
    const plan = planErasure(request({
      holdings: new Set(['name', 'email', 'statements', 'consents-given'] as const),
      newest: { statements: Date.UTC(2017, 3, 1), 'consents-given': NOW - 800 * DAY },
    }));
    expect(plan.steps).toEqual([
      { kind: 'name', action: 'replace', with: 'pseudonym-label' },
      { kind: 'email', action: 'delete' },
      { kind: 'statements', action: 'delete' },
      { kind: 'consents-given', action: 'delete' },
    ]);
    expect(plan.finalDeletionAt).toBeNull();
  });

  it('refuses a newest record missing, malformed or from the future, and a policy below the legal minimum', () => {
    expect(() => planErasure(request({ newest: { ...request().newest, statements: NOW + DAY } }))).toThrow(/future/);
    expect(() => planErasure(request({ newest: { ...request().newest, market: Number.NaN } }))).toThrow(expect.objectContaining({ field: 'newest/market' }));
    expect(() => planErasure(request({ newest: { statements: NOW - DAY } }))).toThrow(/the member has intervals: the planner needs the newest record's instant/);
    expect(() => planErasure(request({ policy: { ...POLICY, billingRecordsYears: 5 } }))).toThrow(/legal minimum/);
  });
});

describe('pseudonyms', () => {
  it('are version-4 UUIDs made of randomness only', () => {
    const random = randomBytes(16);
    const pseudonym = createPseudonym(random);
    expect(pseudonym.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pseudonym.label).toMatch(/^erased-[0-9a-f]{12}$/);
    expect(createPseudonym(random)).toEqual(pseudonym);
    expect(createPseudonym(randomBytes(16)).id).not.toBe(pseudonym.id);
    expect(() => createPseudonym(new Uint8Array(8))).toThrow(/16 random bytes/);
  });

  it('the same original gets the same replacement in every table, never derived from it', () => {
    const pseudonymiser = new Pseudonymiser(createPseudonym(new Uint8Array(16).fill(1)));
    const a = pseudonymiser.replace('AT0010000000000000001000000000001', 'pseudonym-number');
    const b = pseudonymiser.replace('AT0010000000000000001000000000002', 'pseudonym-number');
    expect(pseudonymiser.replace('AT0010000000000000001000000000001', 'pseudonym-number')).toBe(a);
    expect(a).not.toBe(b);
    // Another erasure with the same randomness (impossible in practice) maps another person's numbers the same way:
    // the replacement depends on the pseudonym and the order, not on the number.
    expect(new Pseudonymiser(createPseudonym(new Uint8Array(16).fill(1))).replace('DE-SOMEONE-ELSE', 'pseudonym-number')).toBe(a);
    const email = 'anna.maier@example.at';
    const sha = createHash('sha256').update(email).digest('hex');
    const replaced = pseudonymiser.replace(email, 'pseudonym-email');
    expect(replaced).toMatch(/@erased\.invalid$/);
    expect(sha).not.toContain(replaced.split('@')[0]!.replace('erased-', ''));
  });
});

describe('a dry run over rows shaped like the platform\'s tables', () => {
  const anna = { userId: '5b0d8a1e-7c1f-4a57-9d51-0a3f9c2e8b11', memberId: '9e7f3c52-1d2a-4b8e-a6f0-3c5d7e9f1a22', name: 'Anna Maier', email: 'Anna.Maier@example.at', address: 'Hauptstraße 12, 1010 Wien', point: 'AT0010000000000000001000000000001' };
  const tables = {
    users: [{ id: anna.userId, email: anna.email, display_name: anna.name }],
    members: [{ id: anna.memberId, user_id: anna.userId, display_name: anna.name, join_message: 'Hi, I am Anna from number 12' }],
    metering_points: [{ id: 'mp-1', member_id: anna.memberId, name: 'Home', address: anna.address, grid_connection_id: anna.point }],
    statements: [
      { id: 's-1', member_id: anna.memberId, member_name: anna.name, address: anna.address, lines: ['12.40', '-3.15', '0.75'], total: '10.00' },
      { id: 's-2', member_id: anna.memberId, member_name: anna.name, address: anna.address, lines: ['10.00', '-2.50'], total: '7.50' },
    ],
    access_log: [{ subject: anna.memberId, accessor: 'Mia Manager', purpose: 'settlement' }],
  };
  const person = { name: anna.name, email: anna.email, addresses: [anna.address], ids: [anna.userId, anna.memberId, anna.point] };

  it('leaves nothing but pseudonyms, and the kept statements still add up', () => {
    expect(findTraces(JSON.stringify(tables), person).sort()).toEqual([anna.address, anna.email, anna.memberId, anna.name, anna.point, anna.userId, 'Anna.Maier'].sort());
    const plan = planErasure(request());
    const pseudonymiser = new Pseudonymiser(createPseudonym(randomBytes(16)));
    const deletes = (kind: PersonalDataKind) => stepOf(plan.steps, kind)?.action === 'delete';
    const replaced = (kind: PersonalDataKind) => {
      const step = stepOf(plan.steps, kind)!;
      if (step.action !== 'replace') throw new Error(`${kind} is not replaced`);
      return step.with;
    };
    // What each capability's pseudonymiseMember would do, table by table, as the plan says.
    const after = {
      users: deletes('email') ? [] : tables.users,
      members: tables.members.map((m) => pseudonymiser.record({ ...m, join_message: deletes('join-message') ? '' : m.join_message }, { id: replaced('account-ids'), user_id: replaced('account-ids'), display_name: replaced('name') })),
      metering_points: tables.metering_points.map((p) => pseudonymiser.record(p, { member_id: replaced('account-ids'), address: replaced('address'), grid_connection_id: replaced('metering-point-numbers') })),
      statements: tables.statements.map((s) => pseudonymiser.record(s, { member_id: replaced('account-ids'), member_name: replaced('name'), address: replaced('address') })),
      access_log: tables.access_log.map((e) => pseudonymiser.record(e, { subject: replaced('account-ids') })),
    };
    expect(findTraces(JSON.stringify(after), person)).toEqual([]);
    expect(after.statements.every((s) => s.member_id === pseudonymiser.pseudonym.id && s.member_name === pseudonymiser.pseudonym.label)).toBe(true);
    for (const statement of after.statements) {
      expect(statement.lines.reduce((sum, line) => sum + parseFixed(line, 2), 0n)).toBe(parseFixed(statement.total, 2));
    }
  });

  it('findTraces ignores case and values too short to mean anything', () => {
    expect(findTraces('ANNA MAIER paid', person)).toEqual([anna.name]);
    expect(findTraces('id 12 of Al', { name: 'Al', email: 'al@x.at', addresses: [], ids: ['12'] })).toEqual([]);
  });
});
