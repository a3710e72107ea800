import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { GRIDSHARE_BIN } from '../support/process.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { LedgerService } from '../../src/ledger/service.js';
import { ensureDemoCommunity, settleDemoMonth } from '../../src/demo/index.js';
import { closeSettlement, recomputeSettlement, runSettlement, settlementGaps } from '../../src/billing/settlements.js';
import { monthRange } from '../../src/kernel/calendar.js';
import type { UserPrincipal } from '../../src/kernel/principal.js';
import { runSharing, storeCommunity, storeIntervals } from '../sharing/support/stored.js';
import {
  checkCommunitySignature, decodeEntry, fromBase64, leafHash, openCheckpoint, parseReceipt, verifierFromKey, verifyConsistency, verifyInclusion, verifyReceipt,
  type Hash,
} from '../../src/ledger/domain/index.js';
import { verifyConsistencyFiles, verifyReceiptFile } from '../../src/ledger/commands.js';
import { isSealed } from '../../src/secrets/index.js';
import { confirmedCloseUrl } from '../support/settlements.js';

const run = promisify(execFile);
const hashes = (list: string[]): Hash[] => list.map((h) => fromBase64(h)!);

/** A closed settlement of community A for a past month, its statements issued; the outbox delivered and the log appended. */
async function closeMonth(tp: TestPlatform, w: World, period: string): Promise<{ id: string; statements: { id: string; memberId: string }[] }> {
  const draft = await tp.call('POST', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token, body: { period } });
  expect(draft.status).toBe(201);
  expect((await tp.call('POST', await confirmedCloseUrl(tp, w.managerA.token, draft.body.id), { token: w.managerA.token })).status).toBe(200);
  await tp.platform.jobs.flush(OUTBOX_JOB);
  await tp.platform.ledger.job.flush();
  return draft.body;
}

describe.each(platformStoreKinds)('the verifiable record on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let november: { id: string; statements: { id: string; memberId: string }[] };
  let dir: string;
  const key = () => tp.call('GET', '/api/v1/ledger/key').then((r) => r.body as { origin: string; verifierKey: string; did: string });
  const checkpointNote = () => tp.call('GET', '/api/v1/ledger/checkpoint').then((r) => r.body as string);

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    november = await closeMonth(tp, w, '2025-11');
    dir = mkdtempSync(join(tmpdir(), 'gridshare-ledger-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await tp?.close();
  });

  it('logs the closed settlement and every statement issued, and signs a checkpoint of them with its published key', async () => {
    const { origin, verifierKey, did } = await key();
    expect(origin).toBe(`${new URL(tp.platform.httpUrl).host}/ledger`);
    expect(did).toMatch(/^did:key:z6Mk/);
    const { checkpoint } = openCheckpoint(await checkpointNote(), verifierFromKey(verifierKey));
    const kinds = Object.fromEntries((await tp.platform.db.query<{ kind: string; n: number }>(
      'SELECT kind, count(*)::int AS n FROM ledger_entries GROUP BY kind')).map((r) => [r.kind, r.n]));
    // The month closed, its statements, and the people's money-relevant changes: the world's tariff and the close itself.
    expect(kinds).toEqual({ 'settlement.closed': 1, 'statement.issued': november.statements.length, 'change.recorded': expect.any(Number) });
    expect(kinds['change.recorded']).toBeGreaterThanOrEqual(1);
    expect(checkpoint.size).toBe(Object.values(kinds).reduce((sum: number, n) => sum + (n as number), 0));
    const bundle = await tp.call('GET', '/api/v1/ledger/tile/entries/000.p/' + checkpoint.size);
    expect(bundle.status).toBe(200);
    const status = await tp.call('GET', `/api/v1/communities/${w.communityA}/ledger`, { token: w.managerA.token });
    expect(status.body).toMatchObject({ size: checkpoint.size, checkpoint: { size: checkpoint.size }, community: { entries: checkpoint.size }, verifierKey });
    // The signing key is sealed at rest, like every other secret.
    const [row] = await tp.platform.db.query<{ signer: string }>(`SELECT signer FROM ledger_keys`);
    expect(row!.signer).toMatch(/^gs1:/);
  });

  it('holds hashes and salted commitments, never names or member ids, in its public entries', async () => {
    const { verifierKey } = await key();
    const size = openCheckpoint(await checkpointNote(), verifierFromKey(verifierKey)).checkpoint.size;
    const bundle = (await tp.call('GET', `/api/v1/ledger/tile/entries/000.p/${size}`)).raw.rawPayload.toString('utf8');
    for (const memberId of [w.memberIdA, w.memberIdA2]) expect(bundle).not.toContain(memberId);
    expect(bundle).not.toContain('Member');
    expect(bundle).toContain('"kind":"settlement.closed"');
  });

  it('serves inclusion proofs that the phase-1 verifier accepts, and receipts only to the statement\'s member and managers', async () => {
    const { verifierKey } = await key();
    const statementId = november.statements.find((s) => s.memberId === w.memberIdA)!.id;
    const receipt = await tp.call('GET', `/api/v1/statements/${statementId}/receipt.json`, { token: w.memberA.token });
    expect(receipt.status).toBe(200);
    const parsed = parseReceipt(new TextEncoder().encode(receipt.raw.body));
    const verified = verifyReceipt(parsed, verifierFromKey(verifierKey));
    expect(verified.entry).toMatchObject({ kind: 'statement.issued', statement: statementId });

    const proof = await tp.call('GET', `/api/v1/ledger/proofs/inclusion?index=${verified.index}&size=${verified.checkpoint.size}`);
    verifyInclusion(verified.index, verified.checkpoint.size, leafHash(parsed.entry), hashes(proof.body.hashes), verified.checkpoint.rootHash);

    expect((await tp.call('GET', `/api/v1/statements/${statementId}/receipt.json`, { token: w.memberA2.token })).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/statements/${statementId}/receipt.json`, { token: w.managerB.token })).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/statements/${statementId}/receipt.json`, { token: w.managerA.token })).status).toBe(200);

    const check = await tp.call('GET', `/api/v1/statements/${statementId}/verification`, { token: w.memberA.token });
    expect(check.body).toMatchObject({ verified: true, index: verified.index, reason: null, erasedFields: [] });
    // The entry also commits to the statement without the member's name, for when an erasure replaces it.
    expect(verified.entry).toMatchObject({ erasable: { fields: ['displayName'], document: { mediaType: 'application/json' } } });
  });

  it('gridshare verify checks a downloaded receipt and statement, and the log\'s growth against the running server', async () => {
    const { verifierKey } = await key();
    const statementId = november.statements.find((s) => s.memberId === w.memberIdA)!.id;
    const receiptFile = join(dir, 'receipt.json');
    const statementFile = join(dir, 'statement.json');
    writeFileSync(receiptFile, (await tp.call('GET', `/api/v1/statements/${statementId}/receipt.json`, { token: w.memberA.token })).raw.rawPayload);
    const statement = (await tp.call('GET', `/api/v1/statements/${statementId}/statement.json`, { token: w.memberA.token })).raw.rawPayload;
    writeFileSync(statementFile, statement);
    const oldFile = join(dir, 'old.checkpoint');
    writeFileSync(oldFile, await checkpointNote());

    await closeMonth(tp, w, '2025-10');
    const newFile = join(dir, 'new.checkpoint');
    writeFileSync(newFile, await checkpointNote());
    const url = `${tp.platform.httpUrl}/api/v1/ledger`;

    // The CLI itself, against the running server: the log only grew between the two checkpoints.
    const consistency = await run(process.execPath, [GRIDSHARE_BIN, 'verify', '--consistency', oldFile, newFile, '--url', url, '--key', verifierKey, '--json'], { timeout: 30_000 });
    expect(JSON.parse(consistency.stdout)).toMatchObject({ verified: true, old: { size: expect.any(Number) }, new: { size: expect.any(Number) } });

    // The receipt and statement as downloaded, checked by the CLI's code with no server.
    await expect(verifyReceiptFile({ receipt: receiptFile, statement: statementFile, key: verifierKey })).resolves.toMatchObject({ verified: true, entry: { statement: statementId } });
    // One byte of the statement changed: refused, with the reason.
    const altered = Buffer.from(statement);
    const at = altered.indexOf('"total"') + 1;
    altered[at] = altered[at]! ^ 1;
    writeFileSync(statementFile, altered);
    await expect(verifyReceiptFile({ receipt: receiptFile, statement: statementFile, key: verifierKey })).rejects.toMatchObject({ reason: 'entry_mismatch' });

    // The server's consistency proofs agree with what the CLI computed from the tiles.
    const note = (text: string) => openCheckpoint(text, verifierFromKey(verifierKey)).checkpoint;
    const older = note(readFileSync(oldFile, 'utf8'));
    const newer = note(readFileSync(newFile, 'utf8'));
    const proof = await tp.call('GET', `/api/v1/ledger/proofs/consistency?from=${older.size}&to=${newer.size}`);
    verifyConsistency(older.size, newer.size, hashes(proof.body.hashes), older.rootHash, newer.rootHash);
    await expect(verifyConsistencyFiles({ oldCheckpoint: oldFile, newCheckpoint: newFile, url, key: verifierKey })).resolves.toMatchObject({ verified: true });
  });

  it('refuses bad proof requests, out-of-range indexes and impossible tile paths with clear errors', async () => {
    const { size } = (await tp.call('GET', `/api/v1/communities/${w.communityA}/ledger`, { token: w.managerA.token })).body.checkpoint;
    const cases: [string, number, RegExp][] = [
      [`/api/v1/ledger/proofs/inclusion?index=${size}`, 400, /not in a tree/],
      [`/api/v1/ledger/proofs/inclusion?index=0&size=${size + 1000}`, 400, /beyond the latest checkpoint/],
      ['/api/v1/ledger/proofs/inclusion?index=-1', 400, /index/],
      ['/api/v1/ledger/proofs/inclusion?index=abc', 400, /index/],
      ['/api/v1/ledger/proofs/inclusion?index=99999999999999999999', 400, /index/],
      ['/api/v1/ledger/proofs/consistency?from=0', 400, /empty tree/],
      [`/api/v1/ledger/proofs/consistency?from=${size}&to=1`, 400, /smaller/],
      // The largest index a tree of 2^53 − 1 entries has, and one beyond what any tile path may name.
      ['/api/v1/ledger/tile/0/x009/x007/x199/x254/x740/991', 404, /tile/],
      ['/api/v1/ledger/tile/0/x999/x999/x999/x999/x999/999', 400, /not a tlog-tiles path/],
      ['/api/v1/ledger/tile/0/x999/x999/x999/x999/x999/x999/999', 400, /not a tlog-tiles path/],
      ['/api/v1/ledger/tile/entries/x001/000', 404, /tile/],
      ['/api/v1/ledger/tile/0/000.p/256', 400, /not a tlog-tiles path/],
      ['/api/v1/ledger/tile/99/000', 400, /not a tlog-tiles path/],
      ['/api/v1/ledger/tile/0/abc', 400, /not a tlog-tiles path/],
      [`/api/v1/ledger/tile/0/000.p/${size + 1}`, 404, /tile/],
    ];
    for (const [url, status, message] of cases) {
      const response = await tp.call('GET', url);
      expect({ url, status: response.status }).toEqual({ url, status });
      expect(response.body.message, url).toMatch(message);
    }
    expect((await tp.call('GET', `/api/v1/ledger/tile/0/000.p/${size}`)).status).toBe(200);
  });

  it('two writers append one after the other: the log never forks', async () => {
    const service = tp.platform.ledger.service;
    const second = new LedgerService(tp.platform.db, tp.platform.secrets.box, { origin: () => 'unused' });
    const before = await service.checkpoint();
    // Queue a third month's entries, then let both writers race for them.
    const draft = await tp.call('POST', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token, body: { period: '2025-09' } });
    await tp.call('POST', await confirmedCloseUrl(tp, w.managerA.token, draft.body.id), { token: w.managerA.token });
    await tp.platform.jobs.flush(OUTBOX_JOB);
    const results = await Promise.all([service.append(1), second.append(1), service.append(), second.append()]);
    // The month closed, its statements and the close as a person's change.
    const queued = 1 + draft.body.statements.length + 1;
    expect(results.reduce((sum, r) => sum + r.appended, 0)).toBe(queued);
    const after = await second.checkpoint();
    expect(after.size).toBe(before.size + queued);
    const { verifierKey } = await key();
    const older = openCheckpoint(before.note, verifierFromKey(verifierKey)).checkpoint;
    const newer = openCheckpoint(after.note, verifierFromKey(verifierKey)).checkpoint;
    const proof = await service.consistencyProof(older.size, newer.size);
    verifyConsistency(older.size, newer.size, proof.hashes, older.rootHash, newer.rootHash);
    // A writer that skipped the head's lock cannot put a second entry at an index.
    await expect(tp.platform.db.query(`INSERT INTO ledger_entries (seq, community_id, kind, subject, body) VALUES (0, $1, 'settlement.closed', 'fork', '\\x00')`, [w.communityA]))
      .rejects.toThrow();
    expect((await service.audit()).failures).toEqual([]);
  });

  it('logs a correction issued after late data as statement.corrected, naming the statement it follows', async () => {
    const db = tp.platform.db;
    const admin: UserPrincipal = { kind: 'user', userId: '00000000-0000-4000-8000-000000000001', email: 'admin@example.org', isAdmin: true, memberships: [] };
    const c = await storeCommunity(db, ['library', 'anna']);
    await db.query(`INSERT INTO tariffs (community_id, name, grid_price, community_price, feed_in_price, grid_fee_reduction, valid_from)
      VALUES ($1, 'Standard', 0.30, 0.15, 0.07, 0.02, '2020-01-01')`, [c.id]);
    const start = monthRange('2025-08', 'Europe/Vienna')!.startMs;
    await storeIntervals(db, c.id, c.members.library!.pointId, { [start]: { importWh: 0, exportWh: 100 } });
    await storeIntervals(db, c.id, c.members.anna!.pointId, { [start]: { importWh: 90, exportWh: 0 } });
    await runSharing(db);
    const draft = await runSettlement(db, admin, c.id, '2025-08');
    await closeSettlement(db, admin, draft.id, tp.platform.events, (await settlementGaps(db, admin, draft.id)).missingQuarterHours);
    await storeIntervals(db, c.id, c.members.library!.pointId, { [start]: { importWh: 0, exportWh: 1100 } });
    await storeIntervals(db, c.id, c.members.anna!.pointId, { [start]: { importWh: 1090, exportWh: 0 } });
    await runSharing(db);
    const recomputed = await recomputeSettlement(db, admin, draft.id, tp.platform.events);
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
    const correction = recomputed.statements.find((s) => s.kind === 'correction' && s.memberId === c.members.anna!.memberId)!;
    const original = recomputed.statements.find((s) => s.kind === 'statement' && s.memberId === c.members.anna!.memberId)!;
    const receipt = parseReceipt(new TextEncoder().encode(await tp.platform.ledger.service.statementReceipt(admin, correction.id)));
    const { verifierKey } = await key();
    const verified = verifyReceipt(receipt, verifierFromKey(verifierKey));
    expect(verified.entry).toMatchObject({ kind: 'statement.corrected', statement: correction.id, corrects: { statement: original.id }, reason: 'recomputed' });
  });

  it('logs the demo community\'s settled month and its statements', async () => {
    const demo = await ensureDemoCommunity(tp.platform.db, tp.platform.secrets.box);
    await settleDemoMonth(tp.platform.db, tp.platform.events, demo.communityId);
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
    const settlements = await tp.call('GET', `/api/v1/communities/${demo.communityId}/settlements`, { token: tp.admin.token });
    expect(settlements.body).toHaveLength(1);
    const status = await tp.call('GET', `/api/v1/communities/${demo.communityId}/ledger`, { token: tp.admin.token });
    const kinds = Object.fromEntries((await tp.platform.db.query<{ kind: string; n: number }>(
      'SELECT kind, count(*)::int AS n FROM ledger_entries WHERE community_id = $1 GROUP BY kind', [demo.communityId])).map((r) => [r.kind, r.n]));
    expect(kinds).toEqual({ 'settlement.closed': 1, 'statement.issued': settlements.body[0].statements.length, 'change.recorded': 1 });
    expect(status.body.community.entries).toBe(2 + settlements.body[0].statements.length);
    expect(status.body.checkpoint.size).toBe(status.body.size);
  });

  it('signs each entry with its community\'s did:key (sealed at rest, kept through a master-key rotation), published for anyone and shown to its managers', async () => {
    const published = await tp.call('GET', `/api/v1/ledger/communities/${w.communityA}/key`);
    expect(published.status).toBe(200);
    const communityDid = published.body.did as string;
    expect(communityDid).toMatch(/^did:key:z6Mk/);
    expect((await tp.call('GET', `/api/v1/communities/${w.communityA}/ledger`, { token: w.managerA.token })).body.communityDid).toBe(communityDid);
    expect((await tp.call('GET', `/api/v1/ledger/communities/${randomUUID()}/key`)).status).toBe(404);
    expect((await tp.call('GET', '/api/v1/ledger/communities/not-a-uuid/key')).status).toBe(400);

    const rows = await tp.platform.db.query<{ body: Uint8Array }>('SELECT body FROM ledger_entries WHERE community_id = $1', [w.communityA]);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(checkCommunitySignature(decodeEntry(row.body), communityDid)).toEqual({ status: 'valid', did: communityDid });
    const [stored] = await tp.platform.db.query<{ signer: string }>('SELECT signer FROM ledger_community_keys WHERE community_id = $1', [w.communityA]);
    expect(isSealed(stored!.signer)).toBe(true);

    // Community B's key, made when its manager first looks: another key, which A's entries are not signed by.
    const didB = (await tp.call('GET', `/api/v1/communities/${w.communityB}/ledger`, { token: w.managerB.token })).body.communityDid as string;
    expect(didB).toMatch(/^did:key:z6Mk/);
    expect(didB).not.toBe(communityDid);
    expect((await tp.call('GET', `/api/v1/ledger/communities/${w.communityB}/key`)).body.did).toBe(didB);

    const { verifierKey } = await key();
    const statementId = november.statements.find((s) => s.memberId === w.memberIdA)!.id;
    const receiptFile = join(dir, 'signed-receipt.json');
    writeFileSync(receiptFile, (await tp.call('GET', `/api/v1/statements/${statementId}/receipt.json`, { token: w.memberA.token })).raw.rawPayload);
    await expect(verifyReceiptFile({ receipt: receiptFile, key: verifierKey, communityKey: communityDid }))
      .resolves.toMatchObject({ verified: true, communitySignature: { status: 'valid', did: communityDid } });
    await expect(verifyReceiptFile({ receipt: receiptFile, key: verifierKey, communityKey: didB })).rejects.toMatchObject({ reason: 'bad_signature' });
    const check = await tp.call('GET', `/api/v1/statements/${statementId}/verification`, { token: w.memberA.token });
    expect(check.body).toMatchObject({ verified: true, communityDid, communitySignature: 'valid' });

    // A master-key rotation re-seals the community keys; the next entry is signed by the same key.
    const rotation = await tp.call('POST', '/api/v1/secrets/rotate', { token: tp.admin.token });
    expect(rotation.status, JSON.stringify(rotation.body)).toBe(200);
    const [keys] = await tp.platform.db.query<{ count: number }>('SELECT count(*)::int AS count FROM ledger_community_keys');
    expect(keys!.count).toBeGreaterThanOrEqual(2);
    expect(rotation.body.resealed.ledger_community_keys).toBe(keys!.count);
    const [resealed] = await tp.platform.db.query<{ signer: string }>('SELECT signer FROM ledger_community_keys WHERE community_id = $1', [w.communityA]);
    expect(resealed!.signer).not.toBe(stored!.signer);
    const july = await closeMonth(tp, w, '2025-07');
    const [settled] = await tp.platform.db.query<{ body: Uint8Array }>(`SELECT body FROM ledger_entries WHERE kind = 'settlement.closed' AND subject = $1`, [july.id]);
    expect(checkCommunitySignature(decodeEntry(settled!.body), communityDid)).toEqual({ status: 'valid', did: communityDid });
    expect((await tp.platform.ledger.service.audit()).failures).toEqual([]);
  });

  it('detects a stored entry that was altered, in the audit and in /metrics', async () => {
    const service = tp.platform.ledger.service;
    const [row] = await tp.platform.db.query<{ body: Uint8Array }>(`SELECT body FROM ledger_entries WHERE seq = 1`);
    const entry = decodeEntry(row!.body);
    const altered = new TextEncoder().encode(new TextDecoder().decode(row!.body).replace(entry.at, '2020-01-01T00:00:00Z'));
    // The table refuses changes; an attacker with the database's owner rights gets past that.
    await expect(tp.platform.db.query(`UPDATE ledger_entries SET body = $1 WHERE seq = 1`, [Buffer.from(altered)])).rejects.toThrow(/append-only/);
    await tp.platform.db.exec('ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only');
    await tp.platform.db.query(`UPDATE ledger_entries SET body = $1 WHERE seq = 1`, [Buffer.from(altered)]);
    await tp.platform.db.exec('ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only');
    const report = await service.audit();
    expect(report.failures.length).toBeGreaterThan(0);
    // The tree no longer matches the checkpoints, and the entry no longer matches its community's signature.
    expect(report.failures).toEqual(expect.arrayContaining([
      expect.stringMatching(/stored entries were changed, removed or reordered/), expect.stringMatching(/^entry 1: community signature invalid/),
    ]));
    const metrics = await tp.call('GET', '/metrics', { token: tp.admin.token });
    expect(metrics.raw.body).toMatch(/gridshare_ledger_audit_failures [1-9]/);
    const status = await tp.call('GET', `/api/v1/communities/${w.communityA}/ledger`, { token: w.managerA.token });
    expect(status.body.audit.failures).toBeGreaterThan(0);
  });
});
