import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { didKeyFromSeed, signerKeyFromSeed, verifierKeyOf, type MovementProofDocument, type MovementRecord } from '../../src/ledger/domain/index.js';
import { forgetSalts } from '../../src/ledger/index.js';
import { verifyMovementFile } from '../../src/ledger/commands.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { CLI_TIMEOUT_MS, refusedWith as reason, verifyCli as cli } from './support/verify-cli.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { SETTINGS } from '../market/operation-support.js';

/**
 * `gridshare verify --movement`: a wallet movement's proof as a real platform serves it (a top-up
 * recorded in its batch, the batch's entry in the log) is checked offline against the log's key;
 * a changed amount, another log's key, a file that is not a proof are refused with exit status 1;
 * an unreadable or huge file or a bad key with 2.
 */
describe('gridshare verify --movement', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridshare-verify-movement-'));
  const file = (name: string, content: string | Uint8Array) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };
  let tp: TestPlatform;
  let w: World;
  let key: string;
  let communityDid: string;
  let proof: MovementProofDocument;
  let proofFile: string;
  let erasedFile: string;
  let sequence: number;
  /** The log's name, with a key it never signed with. */
  const strangerOf = (key: string) => verifierKeyOf(signerKeyFromSeed(key.split('+')[0]!, new Uint8Array(32).fill(7)));

  beforeAll(async () => {
    tp = await startTestPlatform('pglite');
    w = await buildWorld(tp);
    expect((await tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, { token: w.managerA.token, body: SETTINGS })).status).toBe(200);
    const top = await tp.call('POST', `/api/v1/communities/${w.communityA}/market/top-ups`, { token: w.managerA.token, body: { memberId: w.memberIdA2, amount: '12.34', reference: 'bank transfer' } });
    expect(top.status).toBe(201);
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
    const wallet = (await tp.call('GET', `/api/v1/members/${w.memberIdA2}/market/wallet`, { token: w.memberA2.token })).body as { postings: { sequence: number }[] };
    sequence = wallet.postings[0]!.sequence;
    const url = `/api/v1/members/${w.memberIdA2}/market/postings/${sequence}/proof`;
    const served = await tp.call('GET', url, { token: w.memberA2.token });
    expect(served.status).toBe(200);
    proof = served.body as MovementProofDocument;
    proofFile = file('movement-proof.json', JSON.stringify(proof));
    key = (await tp.platform.ledger.service.identity()).verifierKey;
    communityDid = (await tp.platform.ledger.service.communityIdentity(w.communityA)).did;
    // The member erased: the proof comes without an opening, the wallet a commitment only.
    await tp.platform.db.transaction((tx) => forgetSalts(tx, [w.memberIdA2]));
    const erased = await tp.call('GET', url, { token: w.managerA.token });
    expect(erased.status).toBe(200);
    expect(erased.body.opening).toBeNull();
    erasedFile = file('erased-proof.json', JSON.stringify(erased.body));
  }, 120_000);

  afterAll(async () => {
    await tp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('proves the served movement: its member, wallet, amount, sequence, batch and place in the log', async () => {
    const result = await verifyMovementFile({ movement: proofFile, key, communityKey: communityDid });
    expect(result).toMatchObject({
      verified: true, community: w.communityA, member: w.memberIdA2, side: 'credit', sequence, kind: 'top-up', amount: '12.34', currency: 'EUR', pays: null,
      batch: { first: sequence, index: 0 }, communitySignature: { status: 'valid', did: communityDid },
    });
    expect(result.wallets).toEqual([(JSON.parse(proof.record) as MovementRecord).credit]);
    expect(result.logIndex).toBeLessThan(result.checkpoint.size);

    const erased = await verifyMovementFile({ movement: erasedFile, key });
    expect(erased).toMatchObject({ verified: true, member: null, side: null, sequence, amount: '12.34' });
    expect(erased.wallets).toEqual(result.wallets);
  });

  it('refuses a changed amount, another log\'s key, another community\'s key and files that are no proof', async () => {
    const record = JSON.parse(proof.record) as MovementRecord;
    const tampered = file('tampered.json', JSON.stringify({ ...proof, record: canonicalize({ ...record, amount: '123.40' }) }));
    expect(await reason(verifyMovementFile({ movement: tampered, key }))).toMatch(/^proof_mismatch/);
    expect(await reason(verifyMovementFile({ movement: proofFile, key: strangerOf(key) }))).toMatch(/^wrong_key: note has no verifiable signatures/);
    expect(await reason(verifyMovementFile({ movement: proofFile, key, communityKey: didKeyFromSeed(new Uint8Array(32).fill(9)) }))).toMatch(/^bad_signature: community signature invalid/);
    expect(await reason(verifyMovementFile({ movement: file('not-json.json', '{"format": "gridshare-movement-proof/v1", '), key }))).toMatch(/^malformed: movement proof: not JSON/);
    expect(await reason(verifyMovementFile({ movement: file('no-batch.json', JSON.stringify({ ...proof, batch: { index: -1, size: 1, hashes: [] } })), key })))
      .toMatch(/^malformed: movement proof: the batch is not/);
    expect(await reason(verifyMovementFile({ movement: file('receipt-only.json', proof.receipt), key }))).toMatch(/^malformed: movement proof: not a gridshare-movement-proof\/v1/);
  });

  it('refuses unreadable input and a bad key before checking anything', async () => {
    await expect(verifyMovementFile({ movement: join(dir, 'missing.json'), key })).rejects.toThrow(/cannot read the movement proof .*ENOENT/);
    await expect(verifyMovementFile({ movement: file('huge.json', new Uint8Array((1 << 20) + 1)), key })).rejects.toThrow(/a movement proof is at most/);
    await expect(verifyMovementFile({ movement: proofFile, key: 'not a key' })).rejects.toThrow(/--key: not a verifier key/);
  });

  it('runs as `gridshare verify --movement` with exit status 0, 1 and 2', async () => {
    // Each process loads the ledger's module graph (seconds of CPU): three runs, one per exit
    // status; the other refusals are the same code, checked in-process above.
    const record = JSON.parse(proof.record) as MovementRecord;
    const tampered = file('tampered-cli.json', JSON.stringify({ ...proof, record: canonicalize({ ...record, amount: '12.35' }) }));
    const [verified, changed, both] = await Promise.all([
      cli(['--movement', proofFile, '--key', key, '--community-key', communityDid]),
      cli(['--movement', tampered, '--key', key]),
      cli(['--movement', proofFile, '--receipt', proofFile, '--key', key]),
    ]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`verified: posting ${sequence} of community ${w.communityA} is in the log`);
    expect(verified.stdout).toContain('movement    top-up of 12.34 EUR');
    expect(verified.stdout).toContain(`member      ${w.memberIdA2}, the credit side: wallet ${record.credit}`);
    expect(verified.stdout).toMatch(new RegExp(`batch       record 0 of \\d+ \\(postings ${sequence}–\\d+\\)`));
    expect(verified.stdout).toMatch(/log         entry \d+ of a tree of \d+, root [0-9a-f]{64}/);
    expect(verified.stdout).toContain(`community   signature valid, by ${communityDid}`);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/^NOT VERIFIED \(proof_mismatch\)/);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give exactly one of --receipt, --movement or --consistency/);
  }, CLI_TIMEOUT_MS);
});
