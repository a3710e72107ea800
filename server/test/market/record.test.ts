import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import canonicalize from 'canonicalize';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { storeIntervals } from '../sharing/support/stored.js';
import { correctSettledSlots, postToLedger } from '../../src/market/service.js';
import { COMMUNITY_ACCOUNTS, formatMarketPrice, fundWallet, walletAccount } from '../../src/market/index.js';
import { formatNano, parseNano } from '../../src/kernel/money.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { LedgerService, forgetSalts } from '../../src/ledger/index.js';
import { verifyMovementFile } from '../../src/ledger/commands.js';
import {
  batchRoot, commitment, decodeEntry, formatReceiptJson, fromHex, marketMovements, parseReceipt, toBase64, toHex, verifierFromKey, verifyBatchInclusion, verifyMovementProof, verifyReceipt,
  type MarketMovementsEntry, type MovementProofDocument, type MarketSettlementEntry, type MovementRecord,
} from '../../src/ledger/domain/index.js';
import { iso, MIN, Q, SETTINGS, T0 } from './operation-support.js';

const utf8 = (text: string) => new TextEncoder().encode(text);
const instant = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * The market's money in the verifiable record: after a day like the demo's (orders, clearing,
 * settlement against the meters, a dispute corrected, late data corrected), every posting and
 * every settlement line is recorded in a batch whose entry is in the log; one wallet movement is
 * proven from its record to a signed checkpoint; a correction is a new entry, the settlement's
 * entry stays as it was.
 */
describe.each(platformStoreKinds)('the market in the verifiable record on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let clock = T0;
  const slots = Array.from({ length: 6 }, (_, k) => T0 + (8 + k) * Q);
  let settlementBefore: { seq: number; body: Uint8Array }[] = [];

  const entries = async <E>(entryKind: string) => {
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
    const rows = await tp.platform.db.query<{ seq: string; body: Uint8Array }>(
      'SELECT e.seq::text AS seq, e.body FROM ledger_entries e WHERE e.kind = $1 AND e.community_id = $2 ORDER BY e.seq', [entryKind, w.communityA]);
    return rows.map((r) => ({ seq: Number(r.seq), body: new Uint8Array(r.body), entry: decodeEntry(r.body) as E }));
  };
  const postings = () => tp.platform.db.query<{
    sequence: number; kind: string; debit: string; credit: string; amount: string; line: string | null; slot_start: Date | null; slot_end: Date | null; lines: number | null;
  }>('SELECT sequence, kind, debit, credit, amount::text, line, slot_start, slot_end, lines FROM market_postings WHERE community_id = $1 ORDER BY sequence', [w.communityA]);
  /** The batch holding this posting made as migration 0226 left the batches recorded before it: no wallet commitments, no tiles. */
  const oldBatch = async (sequence: number) => {
    const [batch] = await tp.platform.db.query<{ first_sequence: number; last_sequence: number }>(
      'UPDATE ledger_market_batches SET wallets = NULL WHERE community_id = $1 AND first_sequence <= $2 AND last_sequence >= $2 RETURNING first_sequence, last_sequence',
      [w.communityA, sequence]);
    await tp.platform.db.query('DELETE FROM ledger_market_batch_tiles WHERE community_id = $1 AND first_sequence = $2', [w.communityA, batch!.first_sequence]);
    return { first: batch!.first_sequence, last: batch!.last_sequence };
  };
  const commitments = async () => {
    const rows = await tp.platform.db.query<{ subject: string; salt: Uint8Array }>('SELECT subject::text, salt FROM ledger_salts');
    return new Map(rows.map((r) => [r.subject, commitment(new Uint8Array(r.salt), r.subject)]));
  };

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { market: { now: () => clock, lookbackMs: 6 * 60 * MIN, finalDelayMs: 30 * MIN, everyMs: 3_600_000 } });
    w = await buildWorld(tp);
    expect((await tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, { token: w.managerA.token, body: SETTINGS })).status).toBe(200);
    for (const memberId of [w.memberIdA, w.memberIdA2]) {
      const top = await tp.call('POST', `/api/v1/communities/${w.communityA}/market/top-ups`, { token: w.managerA.token, body: { memberId, amount: '20.00', reference: 'bank transfer' } });
      expect(top.status).toBe(201);
    }
    // A day's morning in small: A sells its PV surplus, A2 buys; metered a little off what they traded.
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, Object.fromEntries(slots.map((s, k) => [s, { importWh: 0, exportWh: 380 + k * 20 }])));
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, Object.fromEntries(slots.map((s, k) => [s, { importWh: 260 + k * 15, exportWh: 0 }])));
    for (const [k, slot] of slots.entries()) {
      clock = slot - 60 * MIN;
      const sell = await tp.call('POST', `/api/v1/members/${w.memberIdA}/market/orders`, { token: w.memberA.token, body: { slotStart: iso(slot), side: 'sell', energyWh: 400, price: '0.1000' } });
      const buy = await tp.call('POST', `/api/v1/members/${w.memberIdA2}/market/orders`, { token: w.memberA2.token, body: { slotStart: iso(slot), side: 'buy', energyWh: 250 + k * 10, price: '0.2000' } });
      expect([sell.status, buy.status]).toEqual([201, 201]);
      clock = slot - 5 * MIN;
      await tp.platform.market.flush();
    }
    clock = slots[slots.length - 1]! + Q + 30 * MIN;
    await tp.platform.market.flush();
    settlementBefore = (await entries<MarketSettlementEntry>('market.settlement')).map(({ seq, body }) => ({ seq, body }));

    // A2 disputes its first purchase; the manager gives a cent back.
    const wallet = (await tp.call('GET', `/api/v1/members/${w.memberIdA2}/market/wallet`, { token: w.memberA2.token })).body;
    const purchase = wallet.postings.find((p: { line: string | null }) => p.line === 'purchase');
    const filed = await tp.call('POST', `/api/v1/members/${w.memberIdA2}/market/disputes`, { token: w.memberA2.token, body: { posting: purchase.sequence, reason: 'Too much.' } });
    expect(filed.status).toBe(201);
    const resolved = await tp.call('POST', `/api/v1/communities/${w.communityA}/market/disputes/${filed.body.id}/resolution`, {
      token: w.managerA.token, body: { outcome: 'corrected', note: 'A cent back.', amount: '0.01' },
    });
    expect(resolved.status).toBe(200);

    // Late data for the first slot: A2 used 100 Wh more.
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, { [slots[0]!]: { importWh: 360, exportWh: 0 } });
    expect(await correctSettledSlots(tp.platform.db, tp.platform.events, w.communityA, [slots[0]!], clock)).toBe(1);
  }, 120_000);
  afterAll(() => tp?.close());

  it('records every posting once, in batches that cover the ledger without gaps, each a movement of its accounts and amount', async () => {
    const logged = await entries<MarketMovementsEntry>('market.movements');
    const all = await postings();
    expect(all.map((p) => p.kind)).toEqual(expect.arrayContaining(['top-up', 'settlement', 'dispute-correction', 'settlement-correction']));
    // The batches are consecutive and cover 1 … the last posting exactly once, in the order they were posted.
    let next = 1;
    for (const { entry } of logged) {
      expect(entry.postings.first).toBe(next);
      next = entry.postings.last + 1;
      expect(entry.currency).toBe('EUR');
    }
    expect(next - 1).toBe(all.length);
    // A settlement run's postings are one batch, not one entry each.
    expect(logged.length).toBeLessThan(all.length);

    // Each posting's record names its accounts (wallets as commitments), amount and what it pays; its proof leads to the entry's root.
    const committed = await commitments();
    for (const posting of all) {
      const proof = (await tp.platform.ledger.service.marketMovementProof(w.communityA, posting.sequence))!;
      const entry = decodeEntry(proof.entry) as MarketMovementsEntry;
      verifyBatchInclusion(proof.record, proof.batch.index, proof.batch.size, proof.batch.hashes, fromHex(entry.root)!);
      const record = JSON.parse(new TextDecoder().decode(proof.record)) as MovementRecord;
      const account = (id: string) => (id.startsWith('wallet:') ? `wallet:${committed.get(id.slice('wallet:'.length))}` : id);
      expect(record).toMatchObject({ type: 'movement', sequence: posting.sequence, kind: posting.kind, amount: formatNano(BigInt(posting.amount)), currency: 'EUR',
        debit: account(posting.debit), credit: account(posting.credit) });
      if (posting.line) expect(record.line).toBe(posting.line);
      // What it pays: the period and line count where the posting has them (settlements since migration 0230), absent otherwise —
      // so a posting without them (a top-up here, any posting entered before 0230) has the record it always had.
      expect(record.slot).toBe(posting.slot_start ? instant(posting.slot_start.getTime()) : undefined);
      expect(record.slotEnd).toBe(posting.slot_end ? instant(posting.slot_end.getTime()) : undefined);
      expect(record.lines).toBe(posting.lines ?? undefined);
      if (posting.kind === 'top-up') expect(Object.keys(record).sort()).toEqual(['amount', 'at', 'community', 'credit', 'currency', 'debit', 'kind', 'referenceSha256', 'sequence', 'type', 'v']);
      for (const id of [w.memberIdA, w.memberIdA2]) expect(new TextDecoder().decode(proof.record)).not.toContain(id);
    }
    // A2 bought in each of the six slots: its purchase postings pay six lines between them, each once.
    const a2Purchases = all.filter((p) => p.kind === 'settlement' && p.line === 'purchase' && p.debit === walletAccount(w.memberIdA2));
    expect(a2Purchases.reduce((n, p) => n + p.lines!, 0)).toBe(slots.length);
    // Σ of the batches' totals is Σ of every posting's amount.
    const total = logged.reduce((sum, { entry }) => sum + parseNano(entry.total), 0n);
    expect(total).toBe(all.reduce((sum, p) => sum + BigInt(p.amount), 0n));
  });

  it('proves one wallet movement from its record to a signed checkpoint, and the log audits clean', async () => {
    const correction = (await postings()).find((p) => p.kind === 'dispute-correction')!;
    const proof = (await tp.platform.ledger.service.marketMovementProof(w.communityA, correction.sequence))!;
    const identity = await tp.platform.ledger.service.identity();
    const community = await tp.platform.ledger.service.communityIdentity(w.communityA);
    const receipt = parseReceipt(utf8(formatReceiptJson({ entry: proof.entry, proof: { index: proof.log.index, hashes: proof.log.hashes, checkpoint: proof.checkpoint } })));
    const verified = verifyReceipt(receipt, verifierFromKey(identity.verifierKey), identity.origin, community.did);
    expect(verified.entry.kind).toBe('market.movements');
    // A record changed by a cent is not in the batch.
    const forged = JSON.parse(new TextDecoder().decode(proof.record)) as MovementRecord;
    const bytes = utf8(canonicalize({ ...forged, amount: '0.02' })!);
    expect(() => verifyBatchInclusion(bytes, proof.batch.index, proof.batch.size, proof.batch.hashes, fromHex((verified.entry as MarketMovementsEntry).root)!)).toThrow(/proof/);
    const audit = await tp.platform.ledger.service.audit();
    expect(audit.failures).toEqual([]);
    // Nothing recorded under a sequence the market never posted, and no batch that runs backwards.
    expect(await tp.platform.ledger.service.marketMovementProof(w.communityA, 10_000)).toBeUndefined();
    expect(() => marketMovements({ at: T0, community: w.communityA }, { first: 5, last: 4, currency: 'EUR', total: '1', root: 'ab'.repeat(32) })).toThrow(/first/);
    expect(() => marketMovements({ at: T0, community: w.communityA }, { first: 1, last: 4, currency: 'EUR', total: '-1', root: 'ab'.repeat(32) })).toThrow(/total/);
  });

  it('serves a wallet movement\'s proof to its member and managers, which verifies offline; others are refused, an unrecorded posting is 409, tampering fails', async () => {
    const all = await postings();
    const correction = all.find((p) => p.kind === 'dispute-correction')!;
    const url = (memberId: string, sequence: number | string) => `/api/v1/members/${memberId}/market/postings/${sequence}/proof`;
    const identity = await tp.platform.ledger.service.identity();
    const { did } = await tp.platform.ledger.service.communityIdentity(w.communityA);
    const verify = (doc: MovementProofDocument) => verifyMovementProof(doc, verifierFromKey(identity.verifierKey), identity.origin, did);

    const own = await tp.call('GET', url(w.memberIdA2, correction.sequence), { token: w.memberA2.token });
    expect(own.status).toBe(200);
    const proof = own.body as MovementProofDocument;
    // Checked end to end with the pure verifier: the log's key, the entry in the log, the record in the batch, the opening.
    const verified = verify(proof);
    expect(verified.entry.kind).toBe('market.movements');
    expect(verified.record).toMatchObject({ sequence: correction.sequence, kind: 'dispute-correction', amount: '0.01' });
    expect(verified.side).toBe('credit');
    expect(proof.opening?.member).toBe(w.memberIdA2);
    expect(verified.receipt.communitySignature.status).toBe('valid');
    // The wallet page's check: the same verifier, with the proof to download.
    const checked = await tp.call('GET', `${url(w.memberIdA2, correction.sequence).replace(/proof$/, 'verification')}`, { token: w.memberA2.token });
    expect(checked.status).toBe(200);
    expect(checked.body).toMatchObject({
      sequence: correction.sequence, verified: true, reason: null, movement: { kind: 'dispute-correction', amount: '0.01', currency: 'EUR', side: 'credit' },
      batch: { first: verified.entry.postings.first, last: verified.entry.postings.last, index: proof.batch.index, size: proof.batch.size },
      logIndex: verified.receipt.index, verifierKey: identity.verifierKey, communityDid: did, proof: { record: proof.record, opening: proof.opening },
    });
    expect((await tp.call('GET', url(w.memberIdA, correction.sequence).replace(/proof$/, 'verification'), { token: w.memberA.token })).status).toBe(404);
    // The manager gets the same proof; a debit of A2's wallet (a purchase) verifies with A2 on the debit side.
    const byManager = await tp.call('GET', url(w.memberIdA2, correction.sequence), { token: w.managerA.token });
    expect(byManager.status).toBe(200);
    expect(byManager.body.record).toBe(proof.record);
    const purchase = all.find((p) => p.line === 'purchase')!;
    const ofPurchase = (await tp.call('GET', url(w.memberIdA2, purchase.sequence), { token: w.memberA2.token })).body as MovementProofDocument;
    expect(verify(ofPurchase).side).toBe('debit');
    expect(ofPurchase.batch.size).toBeGreaterThan(1);
    // `gridshare verify --movement` says what the movement pays: its period and how many lines (the trade when it is one).
    const dir = mkdtempSync(join(tmpdir(), 'movement-'));
    try {
      writeFileSync(join(dir, 'purchase.json'), JSON.stringify(ofPurchase));
      const checkedOffline = await verifyMovementFile({ movement: join(dir, 'purchase.json'), key: identity.verifierKey, communityKey: did });
      expect(checkedOffline.pays).toEqual({
        line: 'purchase', slot: instant(purchase.slot_start!.getTime()), slotEnd: instant(purchase.slot_end!.getTime()), lines: purchase.lines,
        trade: purchase.lines === 1 ? expect.stringMatching(new RegExp(`^${purchase.slot_start!.getTime()}-\\d+$`)) : null,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const purchaseRecord = JSON.parse(ofPurchase.record) as MovementRecord;
    expect(() => verify({ ...ofPurchase, record: canonicalize({ ...purchaseRecord, lines: purchase.lines! + 1 })! })).toThrow(expect.objectContaining({ reason: 'proof_mismatch' }));

    // Another member's posting, asked for under their own wallet or under the other's: 404, nothing learned.
    expect((await tp.call('GET', url(w.memberIdA, correction.sequence), { token: w.memberA.token })).status).toBe(404);
    expect((await tp.call('GET', url(w.memberIdA2, correction.sequence), { token: w.memberA.token })).status).toBe(404);
    expect((await tp.call('GET', url(w.memberIdA2, correction.sequence), { token: w.managerB.token })).status).toBe(404);
    expect((await tp.call('GET', url(w.memberIdA2, correction.sequence))).status).toBe(401);
    expect((await tp.call('GET', url(w.memberIdA2, 10_000), { token: w.memberA2.token })).status).toBe(404);
    for (const bad of ['0', '-1', 'abc', '1.5']) expect((await tp.call('GET', url(w.memberIdA2, bad), { token: w.memberA2.token })).status).toBe(400);

    // A posting entered without an event (as the demo's opening top-ups) waits for the next batch: 409 until then.
    await tp.platform.db.transaction((tx) => fundWallet(tx, w.communityA, { memberId: w.memberIdA2, amountMinor: 100n, digits: 2, reference: 'seed' }, clock));
    const waiting = (await postings()).at(-1)!.sequence;
    // The wallet says which postings are in the record (only those offer a proof): all but the waiting one.
    const recorded = async () => ((await tp.call('GET', `/api/v1/members/${w.memberIdA2}/market/wallet`, { token: w.memberA2.token })).body as { postings: { sequence: number; recorded: boolean }[] }).postings;
    const before = await recorded();
    expect(before.find((p) => p.sequence === waiting)).toMatchObject({ recorded: false });
    expect(before.filter((p) => p.sequence !== waiting).every((p) => p.recorded)).toBe(true);
    expect(before.find((p) => p.sequence === correction.sequence)).toMatchObject({ recorded: true });
    const early = await tp.call('GET', url(w.memberIdA2, waiting), { token: w.memberA2.token });
    expect(early.status).toBe(409);
    expect(early.body.message).toMatch(/not recorded yet/);
    expect((await tp.call('GET', url(w.memberIdA2, waiting).replace(/proof$/, 'verification'), { token: w.memberA2.token })).status).toBe(409);
    const top = await tp.call('POST', `/api/v1/communities/${w.communityA}/market/top-ups`, { token: w.managerA.token, body: { memberId: w.memberIdA2, amount: '1.00', reference: 'later' } });
    expect(top.status).toBe(201);
    await entries('market.movements');
    // Recorded once the ledger's job has batched it with the top-up that came with an event.
    expect((await recorded()).filter((p) => p.sequence >= waiting).map((p) => p.recorded)).toEqual([true, true]);
    const later = await tp.call('GET', url(w.memberIdA2, waiting), { token: w.memberA2.token });
    expect(later.status).toBe(200);
    expect(verify(later.body).record).toMatchObject({ sequence: waiting, kind: 'top-up', amount: '1' });

    // Tampering: a record changed by a cent, a record of another sequence, an audit path changed, another member's opening, another log's key.
    const record = JSON.parse(proof.record) as MovementRecord;
    expect(() => verify({ ...proof, record: canonicalize({ ...record, amount: '0.02' })! })).toThrow(expect.objectContaining({ reason: 'proof_mismatch' }));
    expect(() => verify({ ...proof, record: canonicalize({ ...record, sequence: record.sequence + 1 })! })).toThrow(expect.objectContaining({ reason: 'entry_mismatch' }));
    const hashes = [toBase64(new Uint8Array(32)), ...ofPurchase.batch.hashes.slice(1)];
    expect(() => verify({ ...ofPurchase, batch: { ...ofPurchase.batch, hashes } })).toThrow(expect.objectContaining({ reason: 'proof_mismatch' }));
    expect(() => verify({ ...proof, opening: { member: w.memberIdA, salt: proof.opening!.salt } })).toThrow(expect.objectContaining({ reason: 'entry_mismatch' }));
    expect(() => verifyMovementProof(proof, verifierFromKey(identity.verifierKey), 'another.example/ledger', did)).toThrow(expect.objectContaining({ reason: 'origin_mismatch' }));
    expect(() => verify({ ...proof, format: 'other' as 'gridshare-movement-proof/v1' })).toThrow(expect.objectContaining({ reason: 'malformed' }));
    for (const bad of ['null', '[1]', '{', '']) expect(() => verify({ ...proof, record: bad })).toThrow(expect.objectContaining({ reason: 'malformed' }));
  });

  it('records every settlement line and position, and a correction as a new entry with the settlement\'s unchanged', async () => {
    const logged = await entries<MarketSettlementEntry>('market.settlement');
    const lines = await tp.platform.db.query<{ slot_start: Date; run: number; member_id: string; kind: string; energy_wh: string; price: string; amount: string }>(
      `SELECT r.slot_start, r.run, l.member_id, l.kind, l.energy_wh::text, l.price::text, l.amount::text
       FROM market_settlement_runs r, unnest(r.member_ids, r.kinds, r.energy_wh, r.prices, r.amounts) WITH ORDINALITY AS l(member_id, kind, energy_wh, price, amount, i)
       WHERE r.community_id = $1 ORDER BY r.slot_start, r.run, l.i`, [w.communityA]);
    expect(lines.length).toBeGreaterThan(0);
    // The settlement's entries are as they were before the correction: nothing edited.
    expect(logged.filter((e) => e.entry.run === 0).map(({ seq, body }) => ({ seq, body }))).toEqual(settlementBefore);
    const runs = logged.map((e) => e.entry);
    expect(runs.filter((e) => e.run === 0).reduce((n, e) => n + e.slotCount, 0)).toBe(slots.length);
    expect(runs.reduce((n, e) => n + e.lines, 0)).toBe(lines.length);
    const correction = runs.find((e) => e.run === 1)!;
    expect(correction).toMatchObject({ slotCount: 1, slots: { start: instant(slots[0]!), end: instant(slots[0]! + Q) }, positions: 2 });
    expect(logged.findIndex((e) => e.entry === correction)).toBe(logged.length - 1);

    // Anyone holding the lines and the salts recomputes the correction's root: its positions (after late data) and its delta lines.
    const committed = await commitments();
    const delta = lines.filter((l) => l.run === 1);
    const base = { v: 1, community: w.communityA, run: 1, slot: instant(slots[0]!) };
    const through = lines.filter((l) => l.slot_start.getTime() === slots[0]);
    const net = (memberId: string, kinds: Record<string, number>) =>
      through.filter((l) => l.member_id === memberId).reduce((sum, l) => sum + (kinds[l.kind] ?? 0) * Number(l.energy_wh), 0);
    const members = [...new Set(through.map((l) => l.member_id))];
    const records = [
      ...members.map((m) => {
        const traded = net(m, { sale: 1, purchase: -1 });
        return { ...base, type: 'position', member: committed.get(m), tradedNetWh: String(traded), meteredNetWh: String(traded + net(m, { 'balancing-surplus': 1, 'balancing-shortfall': -1 })) };
      }),
      ...delta.map((l) => ({
        ...base, type: 'line', member: committed.get(l.member_id), kind: l.kind, energyWh: l.energy_wh, price: formatMarketPrice(BigInt(l.price)),
        amount: formatNano(BigInt(l.amount)), currency: 'EUR',
      })),
    ];
    expect(toHex(batchRoot(records.map((r) => utf8(canonicalize(r)!))))).toBe(correction.root);
    // A2 used 100 Wh more: its metered net in the record is the corrected one.
    const a2 = JSON.parse(JSON.stringify(records.find((r) => r.member === committed.get(w.memberIdA2))));
    expect(a2.meteredNetWh).toBe('-360');
  });

  it('evaluates low-balance alerts once per batch of postings, and records a batch with one event', async () => {
    expect((await tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, { token: w.managerA.token, body: { ...SETTINGS, lowBalanceThreshold: '10.00' } })).status).toBe(200);
    const balance = parseNano((await tp.call('GET', `/api/v1/members/${w.memberIdA}/market/wallet`, { token: w.memberA.token })).body.balance);
    const euro = 1_000_000_000n;
    const wallet = walletAccount(w.memberIdA);
    // Within the batch the wallet falls to 5, rises to 15 and falls to 5 again: per posting that would be two alerts.
    const drafts = [
      { debit: wallet, credit: COMMUNITY_ACCOUNTS.clearing, amount: balance - 5n * euro, kind: 'settlement' as const, memo: 'test' },
      { debit: COMMUNITY_ACCOUNTS.clearing, credit: wallet, amount: 10n * euro, kind: 'settlement' as const, memo: 'test' },
      { debit: wallet, credit: COMMUNITY_ACCOUNTS.clearing, amount: 10n * euro, kind: 'settlement' as const, memo: 'test' },
    ];
    const published: string[] = [];
    await tp.platform.events.transaction(tp.platform.db, (tx, publish) => postToLedger(tx, w.communityA, drafts, clock, (name, payload) => {
      published.push(name);
      return publish(name, payload);
    }));
    expect(published.filter((name) => name === 'market.wallet.low-balance')).toHaveLength(1);
    expect(published.filter((name) => name === 'market.posted')).toHaveLength(1);
    const logged = await entries<MarketMovementsEntry>('market.movements');
    const last = (await postings()).at(-1)!.sequence;
    expect(logged.at(-1)!.entry.postings).toEqual({ first: last - 2, last });
  });

  it('splits a run of postings longer than the cap into several entries, each posting provable in its own', async () => {
    const before = (await postings()).at(-1)!.sequence;
    // Five postings entered without an event, then recorded by a ledger whose batches hold at most two.
    await tp.platform.db.transaction(async (tx) => {
      for (const amountMinor of [101n, 102n, 103n, 104n, 105n]) await fundWallet(tx, w.communityA, { memberId: w.memberIdA2, amountMinor, digits: 2, reference: 'capped' }, clock);
    });
    const capped = new LedgerService(tp.platform.db, tp.platform.secrets.box, { origin: () => 'capped.example/ledger', marketBatchCap: 2 });
    await tp.platform.db.transaction((tx) => capped.onMarketPosted(tx, { communityId: w.communityA, throughSequence: before + 5, atMs: clock }));
    const logged = (await entries<MarketMovementsEntry>('market.movements')).map((e) => e.entry.postings).filter((p) => p.first > before);
    expect(logged).toEqual([{ first: before + 1, last: before + 2 }, { first: before + 3, last: before + 4 }, { first: before + 5, last: before + 5 }]);
    const identity = await tp.platform.ledger.service.identity();
    for (let sequence = before + 1; sequence <= before + 5; sequence++) {
      const proof = await tp.call('GET', `/api/v1/members/${w.memberIdA2}/market/postings/${sequence}/proof`, { token: w.memberA2.token });
      expect(proof.status).toBe(200);
      const verified = verifyMovementProof(proof.body, verifierFromKey(identity.verifierKey), identity.origin);
      expect(verified.record.amount).toBe(`1.0${sequence - before}`);
      expect(verified.entry.postings.last - verified.entry.postings.first).toBeLessThan(2);
    }
    // Recording again up to the same sequence adds nothing.
    await tp.platform.db.transaction((tx) => capped.onMarketPosted(tx, { communityId: w.communityA, throughSequence: before + 5, atMs: clock }));
    expect((await entries<MarketMovementsEntry>('market.movements')).filter((e) => e.entry.postings.first > before)).toHaveLength(3);
  });

  it('gives a batch recorded before batches kept their trees its tree on its first proof, from its postings', async () => {
    const purchase = (await postings()).find((p) => p.line === 'purchase')!;
    const url = `/api/v1/members/${w.memberIdA2}/market/postings/${purchase.sequence}/proof`;
    const before = (await tp.call('GET', url, { token: w.memberA2.token })).body as MovementProofDocument;
    const treeOf = () => tp.platform.db.query<{ level: number; idx: number; hashes: Uint8Array }>(
      `SELECT t.level, t.idx, t.hashes FROM ledger_market_batch_tiles t JOIN ledger_market_batches b USING (community_id, first_sequence)
       WHERE b.community_id = $1 AND b.first_sequence <= $2 AND b.last_sequence >= $2 ORDER BY t.level, t.idx`, [w.communityA, purchase.sequence]);
    const stored = await treeOf();
    expect(stored.length).toBeGreaterThan(0);
    const { first } = await oldBatch(purchase.sequence);
    expect(await treeOf()).toEqual([]);

    // Its first proof rebuilds the batch, checks it against the entry's root and stores the tree: the same proof as before.
    const [again, racing] = await Promise.all([tp.call('GET', url, { token: w.memberA2.token }), tp.call('GET', url, { token: w.managerA.token })]);
    expect([again.status, racing.status]).toEqual([200, 200]);
    const proven = (doc: MovementProofDocument) => ({ record: doc.record, opening: doc.opening, batch: doc.batch });
    expect(proven(again.body)).toEqual(proven(before));
    expect(proven(racing.body)).toEqual(proven(before));
    const identity = await tp.platform.ledger.service.identity();
    expect(verifyMovementProof(again.body, verifierFromKey(identity.verifierKey), identity.origin).side).toBe('debit');
    expect(await treeOf()).toEqual(stored);
    const [batch] = await tp.platform.db.query<{ wallets: string[] | null }>('SELECT wallets FROM ledger_market_batches WHERE community_id = $1 AND first_sequence = $2', [w.communityA, first]);
    expect(batch!.wallets).toEqual(expect.arrayContaining([(await commitments()).get(w.memberIdA2)]));
    // From now on the stored tree answers, as for any batch.
    expect(proven((await tp.call('GET', url, { token: w.memberA2.token })).body)).toEqual(proven(before));
    expect(await treeOf()).toEqual(stored);
  });

  it('after the member\'s erasure (the salt deleted) the proof still verifies the movement, its wallet a commitment only', async () => {
    const all = await postings();
    const wallet = walletAccount(w.memberIdA2);
    const ofA2 = all.filter((p) => p.debit === wallet || p.credit === wallet);
    const url = (sequence: number) => `/api/v1/members/${w.memberIdA2}/market/postings/${sequence}/proof`;
    const before = await Promise.all(ofA2.map(async (p) => (await tp.call('GET', url(p.sequence), { token: w.managerA.token })).body as MovementProofDocument));
    // The settlement's batch as if recorded before batches kept their trees (migrations/0226) and not asked for a proof since: its proofs rebuild the batch.
    const purchase = ofA2.find((p) => p.line === 'purchase')!;
    const old = await oldBatch(purchase.sequence);
    const rebuilt = (sequence: number) => sequence >= old.first && sequence <= old.last;
    // What privacy's erasure does to the record, in its transaction.
    await tp.platform.db.transaction((tx) => forgetSalts(tx, [w.memberIdA2]));
    const identity = await tp.platform.ledger.service.identity();
    for (const [k, posting] of ofA2.entries()) {
      const response = await tp.call('GET', url(posting.sequence), { token: w.managerA.token });
      if (rebuilt(posting.sequence)) {
        // Giving an old batch its tree needs every member's salt: refused, and no new salt made for the erased member.
        expect(before[k]!.opening?.member).toBe(w.memberIdA2);
        expect(response.status).toBe(409);
        continue;
      }
      expect(response.status).toBe(200);
      const proof = response.body as MovementProofDocument;
      expect(proof.opening).toBeNull();
      // The same record as logged: the commitment the salt made, now with nothing to open it.
      expect(proof.record).toBe(before[k]!.record);
      const verified = verifyMovementProof(proof, verifierFromKey(identity.verifierKey), identity.origin);
      expect(verified.side).toBeUndefined();
      expect(proof.record).not.toContain(w.memberIdA2);
      // The old opening still matches the record, so a member who kept it can still show it was theirs.
      expect(verifyMovementProof({ ...proof, opening: before[k]!.opening }, verifierFromKey(identity.verifierKey), identity.origin).side).toBeDefined();
    }
    expect(ofA2.filter((p) => rebuilt(p.sequence)).length).toBeGreaterThan(0);
    expect(ofA2.filter((p) => !rebuilt(p.sequence)).length).toBeGreaterThan(0);
    // Serving the proofs made no new salt for the erased member.
    expect(await tp.platform.db.query('SELECT 1 FROM ledger_salts WHERE subject = $1', [w.memberIdA2])).toHaveLength(0);
  });
});
