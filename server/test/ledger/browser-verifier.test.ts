import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { CryptoUnavailableError, ed25519Verify, runWithWebCrypto, sha256, type Computation } from '@gridshare/contract/proof/computation';
import { ProofError } from '@gridshare/contract/proof/errors';
import { EMPTY_ROOT, leafHash, nodeHash, verifyInclusion } from '@gridshare/contract/proof/merkle';
import { checkNote, openNote, type NoteVerifier } from '@gridshare/contract/proof/note';
import { verifierFromKey } from '@gridshare/contract/proof/checkpoint';
import { checkCommunitySignature } from '@gridshare/contract/proof/entries';
import { verifyMovementProofWithKey, type MovementProofDocument } from '@gridshare/contract/proof/movement-proof';
import {
  batchInclusionProof, batchRoot, commitment, didKeyFromSeed, encodeEntry, encodeMarketRecord, formatReceiptJson, marketMovements, settlementClosed,
  signEntry, signerKeyFromSeed, toBase64, toHex, verifierKeyOf, verifyMovementProof, verifierFromKey as nodeVerifierFromKey, type MovementRecord,
} from '../../src/ledger/domain/index.js';
import { MemoryLog } from './support/memory-log.js';
import { hex, merkleVector, merkleVectorsPresent } from './support/vectors.js';

/**
 * The proof checks the browser runs (the contract's proof/, with WebCrypto's SHA-256 and Ed25519 —
 * Node has the same API as globalThis.crypto.subtle) give the known answers, and the answers the
 * server's run of the same code with Node's crypto gives; a tampered movement proof is refused
 * with the reason of the check that failed.
 */
const web = <T>(computation: Computation<T>): Promise<T> => runWithWebCrypto(computation);

/** The refusal of a check run with WebCrypto: a ProofError, never anything else. */
async function refusal(run: Promise<unknown>): Promise<ProofError> {
  try {
    await run;
  } catch (error) {
    expect(error).toBeInstanceOf(ProofError);
    return error as ProofError;
  }
  throw new Error('expected a refusal');
}

interface Roots { hasherKnownAnswers: { desc: string; input: { emptyTree?: boolean; leafDataHex?: string; leftHex?: string; rightHex?: string }; expected: string }[] }
interface InclusionCase { desc: string; source: string; treeSize: number; leafIndex: number; leafHash: string; proof: string[]; rootHash: string; wantErr: boolean }
interface SignedNoteCase {
  id: string; note: string | null; noteHex?: string; verifierKeys: string[];
  expect: null | { text?: string; sigStatus?: string[]; openError?: string; malformed?: boolean };
}
interface DidKeys { vectors: { did: string; seedHex: string | null }[] }

describe.skipIf(!merkleVectorsPresent)('the browser\'s verifier on the known answers (WebCrypto)', () => {
  it('hashes leaves and nodes as RFC 6962 says, and knows the empty tree\'s root', async () => {
    for (const { desc, input, expected } of merkleVector<Roots>('roots.json').hasherKnownAnswers) {
      const got = input.emptyTree ? EMPTY_ROOT : await web(input.leafDataHex !== undefined ? leafHash(hex(input.leafDataHex)) : nodeHash(hex(input.leftHex!), hex(input.rightHex!)));
      expect(toHex(got), desc).toBe(expected);
    }
  });

  it('accepts every valid inclusion proof and refuses every mutated one (transparency-dev/merkle)', async () => {
    const cases = merkleVector<InclusionCase[]>('inclusion.json');
    expect(cases).toHaveLength(98);
    for (const c of cases) {
      const run = web(verifyInclusion(c.leafIndex, c.treeSize, hex(c.leafHash), c.proof.map(hex), hex(c.rootHash)));
      if (c.wantErr) await refusal(run);
      else await expect(run, `${c.source}: ${c.desc}`).resolves.toBeUndefined();
    }
  });

  it('opens, refuses and reports every signature of the published signed notes as Go does', async () => {
    const checked = merkleVector<{ signedNotes: SignedNoteCase[] }>('notes.json').signedNotes.filter((n) => n.expect !== null);
    expect(checked.length).toBeGreaterThanOrEqual(14);
    for (const c of checked) {
      const note = c.noteHex ? hex(c.noteHex) : c.note!;
      // ECDSA keys (type 0x05) are no verifier of ours: their signatures stay unknown, as Go reports them.
      const verifiers: NoteVerifier[] = [];
      for (const key of c.verifierKeys) {
        try {
          verifiers.push(await web(verifierFromKey(key)));
        } catch (error) {
          expect((error as ProofError).reason, c.id).toBe('malformed');
        }
      }
      if (c.expect!.malformed) {
        expect((await refusal(web(openNote(note, verifiers)))).reason, c.id).toBe('malformed');
        continue;
      }
      const result = await web(checkNote(note, verifiers));
      expect(result.signatures.map((s) => s.status), c.id).toEqual(c.expect!.sigStatus);
      if (c.expect!.openError) expect((await refusal(web(openNote(note, verifiers)))).message, c.id).toContain(c.expect!.openError);
      else expect((await web(openNote(note, verifiers))).text, c.id).toBe(c.expect!.text);
    }
  });

  it('checks an entry\'s signature by the did:key that names a known key, and no other', async () => {
    const seeded = merkleVector<DidKeys>('didkey.json').vectors.filter((v) => v.seedHex);
    const entry = settlementClosed({ at: Date.UTC(2026, 10, 30, 23), community: 'sunny-street' }, {
      settlement: 's-1', period: { start: Date.UTC(2026, 9, 31, 23), end: Date.UTC(2026, 10, 30, 23) }, currency: 'EUR', totals: { amount: '12.34' }, statements: 3,
    });
    for (const v of seeded) expect(await web(checkCommunitySignature(signEntry(entry, hex(v.seedHex!)), v.did))).toEqual({ status: 'valid', did: v.did });
    const [first, second] = seeded as [typeof seeded[0], typeof seeded[0]];
    expect((await refusal(web(checkCommunitySignature(signEntry(entry, hex(first.seedHex!)), second.did)))).reason).toBe('bad_signature');
  });
});

describe('a wallet movement\'s proof checked in the browser (WebCrypto)', () => {
  const community = 'sunny-street';
  const member = 'member-7f3a';
  const salt = new Uint8Array(32).fill(5);
  const communitySeed = new Uint8Array(32).fill(6);
  const communityDid = didKeyFromSeed(communitySeed);
  const log = new MemoryLog(signerKeyFromSeed('log.example/ledger', new Uint8Array(32).fill(4)));
  const key = { verifierKey: verifierKeyOf(log.signer), origin: log.origin };
  const wallet = `wallet:${commitment(salt, member)}`;
  // Five postings in one batch; the member's top-up is the third.
  const records: MovementRecord[] = [1, 2, 3, 4, 5].map((sequence) => ({
    v: 1, type: 'movement', community, sequence, at: '2026-11-30T12:00:00Z', kind: sequence === 3 ? 'top-up' : 'transfer',
    debit: 'community:clearing', credit: sequence === 3 ? wallet : 'community:fees', amount: `${sequence}.5`, currency: 'EUR',
  }));
  const leaves = records.map(encodeMarketRecord);
  const entry = signEntry(marketMovements({ at: Date.UTC(2026, 10, 30, 12), community }, { first: 1, last: 5, currency: 'EUR', total: '17.5', root: toHex(batchRoot(leaves)) }), communitySeed);
  log.append([new TextEncoder().encode('an earlier entry'), encodeEntry(entry), new TextEncoder().encode('a later entry')]);
  const proof: MovementProofDocument = {
    format: 'gridshare-movement-proof/v1',
    record: new TextDecoder().decode(leaves[2]),
    opening: { member, salt: toBase64(salt) },
    batch: { index: 2, size: 5, hashes: batchInclusionProof(leaves, 2).map(toBase64) },
    receipt: formatReceiptJson(log.receipt(1)),
  };
  const check = (document: MovementProofDocument, keys = key, sequence = 3, did: string | undefined = communityDid) => web(verifyMovementProofWithKey(document, keys, sequence, did));

  it('verifies the movement to the log\'s signed checkpoint, the member\'s wallet on its credit side — as the server does', async () => {
    const verified = await check(proof);
    expect(verified.record).toMatchObject({ sequence: 3, kind: 'top-up', amount: '3.5', credit: wallet });
    expect(verified.side).toBe('credit');
    expect(verified.receipt).toMatchObject({ index: 1, checkpoint: { size: 3, origin: 'log.example/ledger' }, communitySignature: { status: 'valid', did: communityDid } });
    // The server's run of the same code, with Node's crypto, agrees.
    expect(verifyMovementProof(proof, nodeVerifierFromKey(key.verifierKey), key.origin, communityDid)).toEqual(verified);
  });

  it('refuses a changed amount, a wrong inclusion path, another key, another community key, another posting, with the failing check\'s reason', async () => {
    const record = JSON.parse(proof.record) as MovementRecord;
    const reason = async (run: Promise<unknown>) => (await refusal(run)).reason;
    expect(await reason(check({ ...proof, record: canonicalize({ ...record, amount: '300.5' })! }))).toBe('proof_mismatch');
    expect(await reason(check({ ...proof, batch: { ...proof.batch, hashes: [toBase64(new Uint8Array(32)), ...proof.batch.hashes.slice(1)] } }))).toBe('proof_mismatch');
    expect(await reason(check({ ...proof, batch: { ...proof.batch, hashes: proof.batch.hashes.slice(1) } }))).toBe('malformed');
    // The batch's entry moved in the log: the receipt's path no longer leads to the signed root.
    const receipt = JSON.parse(proof.receipt) as { proof: string };
    const lines = receipt.proof.split('\n');
    lines[2] = toBase64(new Uint8Array(32).fill(1));
    expect(await reason(check({ ...proof, receipt: JSON.stringify({ ...receipt, proof: lines.join('\n') }) }))).toBe('proof_mismatch');
    const stranger = verifierKeyOf(signerKeyFromSeed('log.example/ledger', new Uint8Array(32).fill(8)));
    expect(await reason(check(proof, { ...key, verifierKey: stranger }))).toBe('wrong_key');
    expect(await reason(check(proof, { ...key, origin: 'another.example/ledger' }))).toBe('origin_mismatch');
    expect(await reason(check(proof, key, 3, didKeyFromSeed(new Uint8Array(32).fill(9))))).toBe('bad_signature');
    expect(await reason(check(proof, key, 4))).toBe('entry_mismatch');
    expect(await reason(check({ ...proof, opening: { member: 'member-other', salt: toBase64(salt) } }))).toBe('entry_mismatch');
    expect(await reason(check({ ...proof, record: '{' }))).toBe('malformed');
  });
});

describe('a browser that cannot run the checks', () => {
  // What a browser without Ed25519 in WebCrypto answers (Chrome before 137, Safari before 17, Firefox before 129).
  const withoutEd25519 = {
    digest: (algorithm: string, data: Parameters<typeof crypto.subtle.digest>[1]) => crypto.subtle.digest(algorithm, data),
    importKey: () => Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError')),
    verify: () => Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError')),
  } as unknown as typeof crypto.subtle;

  it('says that nothing was checked, not that the proof is wrong', async () => {
    const error = await runWithWebCrypto(ed25519Verify(new Uint8Array(32).fill(7), new Uint8Array([1]), new Uint8Array(64)), withoutEd25519).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CryptoUnavailableError);
    expect(error).not.toBeInstanceOf(ProofError);
    expect((error as CryptoUnavailableError).lacking).toBe('ed25519');
    // A page without WebCrypto at all (not served over HTTPS).
    const none = await runWithWebCrypto(sha256(new Uint8Array([1])), null).catch((e: unknown) => e);
    expect((none as CryptoUnavailableError).lacking).toBe('webcrypto');
  });

  it('still answers a key that is no point on the curve as not verified, where Ed25519 is there', async () => {
    // 32 bytes that decode to no curve point: refused at import with a DataError, a wrong key, not a missing algorithm.
    const notAPoint = new Uint8Array(32).fill(0xff);
    expect(await runWithWebCrypto(ed25519Verify(notAPoint, new Uint8Array([1]), new Uint8Array(64)))).toBe(false);
  });
});
