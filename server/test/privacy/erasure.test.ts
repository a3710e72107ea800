/**
 * Erasure plans and pseudonyms: what is deleted, replaced, released, revoked or kept (and until
 * when) for a member with everything; pseudonyms that come from randomness only; a dry run
 * of a plan over rows shaped like the platform's tables, leaving no trace of the person while
 * the kept statements still add up; and an erasure on the running platform: ledger salts, raw readings of the member's periods and device bindings gone, the
 * log still verifiable, another member's readings kept, the export of devices and readings.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, joinA, PARTICIPATION_START, type Joiner, type World } from '../support/world.js';
import { deviceCredentials, sasFor, type DeviceCredentials } from '../support/devices.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { commitment, decodeEntry, encodeEntry, parseReceipt, verifierFromKey, verifyDocument, verifyReceipt } from '../../src/ledger/domain/index.js';
import { verifyReceiptFile } from '../../src/ledger/commands.js';
import {
  createPseudonym, defaultRetentionPolicy, findTraces, legalMinimumFor, PERSONAL_DATA_KINDS, planErasure, Pseudonymiser,
  type ErasureRequest, type ErasureStep, type PersonalDataKind,
} from '../../src/privacy/domain/index.js';
import { parseFixed } from '../../src/kernel/money.js';
import { DAY } from './support.js';
import { confirmedCloseUrl } from '../support/settlements.js';

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

describe.each(platformStoreKinds)('erasing a member with devices, readings and ledger entries on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let zelda: Joiner;
  /** Only ever on zelda's site. */
  let own: DeviceCredentials;
  /** On memberA2's site first, then moved to zelda's. */
  let moved: DeviceCredentials;
  /** memberA's billing meter. */
  let neighbours: DeviceCredentials;
  let statementId: string;
  /** When `moved` measured on zelda's site. */
  let onZeldasSite: number;

  async function ok(method: string, url: string, token: string, body?: unknown) {
    const response = await tp.call(method, url, { token, body });
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }
  const send = async (device: DeviceCredentials, atMs: number, value: number) => {
    const response = await tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, {
      headers: { authorization: sasFor(device) }, body: { readings: [{ ts: new Date(atMs).toISOString(), quantity: 'power.import', value, unit: 'W' }] },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
  };
  const bind = (deviceId: string, meteringPointId: string, role?: string) => ok('PATCH', `/api/v1/devices/${deviceId}`, w.managerA.token, { meteringPointId, role });
  const stored = (deviceIds: string[]) => tp.platform.db.query<{ device_id: string; value: number; metering_point_id: string | null }>(
    'SELECT device_id, value, metering_point_id FROM readings WHERE device_id = ANY($1::text[]) ORDER BY ts, device_id', [deviceIds]);
  const exportOf = async (memberId: string, token: string) => {
    const response = await tp.call('GET', `/api/v1/members/${memberId}/export.zip`, { token });
    expect(response.status).toBe(200);
    const files = unzipSync(new Uint8Array(response.raw.rawPayload));
    return { files, json: (name: string) => JSON.parse(strFromU8(files[name]!)) as Record<string, unknown>[] };
  };

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    zelda = await joinA(tp, w, unique('zeldawithdevices').toLowerCase(), PARTICIPATION_START);
    const batch = await ok('POST', `/api/v1/communities/${w.communityA}/device-batches`, w.managerA.token, { count: 2 });
    [own, moved] = await Promise.all(batch.deviceIds.map((id: string) => deviceCredentials(tp, w.managerA.token, id)));
    neighbours = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
    const now = Date.now();
    await bind(moved.deviceId, w.meteringPointA2);
    await send(moved, now - 30 * 60_000, 11);
    await send(neighbours, now - 30 * 60_000, 55);
    await bind(moved.deviceId, zelda.pointId, 'sub-load');
    await bind(own.deviceId, zelda.pointId);
    await new Promise((r) => setTimeout(r, 20));
    onZeldasSite = Date.now();
    await send(moved, onZeldasSite, 22);
    await send(own, now - 20 * 60_000, 33);
    await send(own, now - 10 * 60_000, 44);

    const settlement = await ok('POST', `/api/v1/communities/${w.communityA}/settlements`, w.managerA.token, { period: '2026-01' });
    await ok('POST', await confirmedCloseUrl(tp, w.managerA.token, settlement.id), w.managerA.token);
    statementId = settlement.statements.find((s: { memberId: string }) => s.memberId === zelda.memberId).id;
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
  });
  afterAll(() => tp?.close());

  it('exports the devices on the member\'s sites and their readings of the member\'s periods, nobody else\'s', async () => {
    const mine = await exportOf(zelda.memberId, zelda.user.token);
    expect(mine.json('devices.json').map((d) => [d.device_id, d.metering_point_id]).sort())
      .toEqual([[moved.deviceId, zelda.pointId], [own.deviceId, zelda.pointId]].sort());
    expect(mine.json('readings.json').map((r) => r.value).sort()).toEqual([22, 33, 44]);
    expect(mine.json('readings.json').every((r) => r.metering_point_id === zelda.pointId)).toBe(true);
    expect(strFromU8(mine.files['readings.csv']!).split('\n')[0]).toBe('device_id,metering_point_id,quantity,ts,value,received_at');
    for (const foreign of [w.meteringPointA2, w.meteringPointA, w.provisionedA, w.deviceA]) {
      expect(Object.values(mine.files).map((f) => strFromU8(f)).join('\n')).not.toContain(foreign);
    }
    // memberA2 had the moved device before: its reading of then, and not where the device is now.
    const theirs = await exportOf(w.memberIdA2, w.memberA2.token);
    expect(theirs.json('devices.json')).toEqual([expect.objectContaining({ device_id: moved.deviceId, metering_point_id: null, last_seen_at: null })]);
    expect(theirs.json('readings.json').map((r) => [r.value, r.metering_point_id])).toEqual([[11, w.meteringPointA2]]);
    expect(Object.values(theirs.files).map((f) => strFromU8(f)).join('\n')).not.toContain(zelda.pointId);
  });

  it('deletes the ledger salts, the readings of the member\'s periods and releases the devices; the log and the statement stay', async () => {
    const entryRow = async () => (await tp.platform.db.query<{ body: Uint8Array }>(
      "SELECT body FROM ledger_entries WHERE kind = 'statement.issued' AND subject = $1", [statementId]))[0]!.body;
    const salts = () => tp.platform.db.query<{ salt: Uint8Array }>('SELECT salt FROM ledger_salts WHERE subject = $1', [zelda.memberId]);
    const entry = decodeEntry(await entryRow());
    if (entry.kind !== 'statement.issued') throw new Error(`a ${entry.kind} entry`);
    const [salt] = await salts();
    // Before: whoever holds the salt links the entry to the member.
    expect(commitment(salt!.salt, zelda.memberId)).toBe(entry.member);
    const statement = await ok('GET', `/api/v1/statements/${statementId}`, w.managerA.token);

    expect((await tp.call('POST', `/api/v1/members/${zelda.memberId}/erasure`, { token: zelda.user.token })).status).toBe(201);
    await tp.platform.privacy.flush();
    const done = (await ok('GET', `/api/v1/communities/${w.communityA}/erasure-requests`, w.managerA.token))
      .find((r: { memberId: string }) => r.memberId === zelda.memberId);
    expect(done).toMatchObject({ state: 'done', error: null });
    expect(done.steps).toEqual(expect.arrayContaining([
      { kind: 'device-assignments', action: 'release', until: null }, { kind: 'raw-readings', action: 'delete', until: null },
      { kind: 'ledger-salt', action: 'delete', until: null },
    ]));

    // No salt is left to recompute the commitment with; the entry is as logged and still verifies.
    expect(await salts()).toEqual([]);
    expect(Buffer.from(await entryRow()).equals(Buffer.from(encodeEntry(entry)))).toBe(true);
    // Its inclusion in the signed log still verifies.
    const check = await ok('GET', `/api/v1/statements/${statementId}/verification`, w.managerA.token);
    const included = verifyReceipt(parseReceipt(new TextEncoder().encode(check.receipt)), verifierFromKey(check.verifierKey));
    expect(included.entry).toEqual(entry);
    // The kept statement, pseudonym in place of the name, verifies in every figure; the name is named as no longer covered.
    expect(check).toMatchObject({ verified: true, reason: null, erasedFields: ['displayName'] });
    const keptJson = (await tp.call('GET', `/api/v1/statements/${statementId}/statement.json`, { token: w.managerA.token })).raw.rawPayload;
    expect(statement.displayName).toMatch(/\S/);
    expect(keptJson.toString('utf8')).not.toContain(statement.displayName);
    expect(verifyDocument(included.entry, keptJson)).toEqual({ match: 'without-erased-fields', fields: ['displayName'] });
    // …and offline, as `gridshare verify --statement` checks it.
    const dir = mkdtempSync(join(tmpdir(), 'gridshare-erased-'));
    try {
      writeFileSync(join(dir, 'receipt.json'), check.receipt);
      writeFileSync(join(dir, 'statement.json'), keptJson);
      const offline = await verifyReceiptFile({ receipt: join(dir, 'receipt.json'), statement: join(dir, 'statement.json'), key: check.verifierKey });
      expect(offline.statement).toMatchObject({ erasedFields: ['displayName'] });
      const forged = JSON.parse(keptJson.toString('utf8')) as { total: string };
      writeFileSync(join(dir, 'statement.json'), JSON.stringify({ ...forged, total: `${forged.total}1` }));
      await expect(verifyReceiptFile({ receipt: join(dir, 'receipt.json'), statement: join(dir, 'statement.json'), key: check.verifierKey }))
        .rejects.toMatchObject({ reason: 'entry_mismatch' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // The member's readings are gone; memberA2's of the moved device and memberA's stay.
    expect((await stored([own.deviceId, moved.deviceId, neighbours.deviceId])).map((r) => [r.device_id, r.value]).sort())
      .toEqual([[moved.deviceId, 11], [neighbours.deviceId, 55]].sort());
    for (const id of [own.deviceId, moved.deviceId]) {
      expect(await ok('GET', `/api/v1/devices/${id}`, w.managerA.token)).toMatchObject({ meteringPointId: null, role: null });
    }

    // The statement is kept with its figures, and they still add up.
    const kept = await ok('GET', `/api/v1/statements/${statementId}`, w.managerA.token);
    expect(kept).toMatchObject({ total: statement.total, lines: statement.lines, displayName: done.pseudonym });
    expect(kept.lines.reduce((sum: bigint, line: { amount: string }) => sum + parseFixed(line.amount, 2), 0n)).toBe(parseFixed(kept.total, 2));
  });

  it('a released device writes nothing the erased member\'s site is given, and can be bound again', async () => {
    await send(own, Date.now() - 1_000, 66);
    expect(await stored([own.deviceId])).toEqual([{ device_id: own.deviceId, value: 66, metering_point_id: null }]);
    await bind(own.deviceId, w.meteringPointA2);
    await send(own, Date.now(), 77);
    // The new owner sees from their binding on: not what it sent while released.
    const range = `from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`;
    expect((await ok('GET', `/api/v1/devices/${own.deviceId}/readings?${range}`, w.memberA2.token)).map((r: { value: number }) => r.value)).toEqual([77]);
    expect((await stored([own.deviceId])).map((r) => [r.value, r.metering_point_id])).toEqual([[66, null], [77, w.meteringPointA2]]);
  });

  it('sweeps a reading from the member\'s time that arrives after the device was bound elsewhere', async () => {
    await bind(moved.deviceId, w.meteringPointA, 'sub-load');
    // Buffered on the device while it was on zelda's site, uploaded now: stored where it was measured.
    await send(moved, onZeldasSite + 1, 88);
    expect((await stored([moved.deviceId])).map((r) => [r.value, r.metering_point_id])).toEqual([[11, w.meteringPointA2], [88, zelda.pointId]]);
    await tp.platform.privacy.flush();
    expect((await stored([moved.deviceId])).map((r) => [r.value, r.metering_point_id])).toEqual([[11, w.meteringPointA2]]);
    // The readings of memberA's and memberA2's sites are not touched.
    expect((await stored([neighbours.deviceId, own.deviceId])).map((r) => r.value)).toEqual([55, 66, 77]);
  });
});
