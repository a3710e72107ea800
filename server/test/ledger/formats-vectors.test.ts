import { describe, expect, it } from 'vitest';
import {
  LedgerError, checkCommunitySignature, checkNote, cosignatureTime, didKeyFromPublicKey, didKeyFromSeed, settlementClosed, signEntry, formatCheckpoint, formatSignerKey, formatTlogProof,
  openNote, parseCheckpoint, parseNote, parseSignerKey, parseTlogProof, parseVerifierKey, publicKeyFromDidKey,
  signNote, signerKeyFromSeed, verifierFromKey, verifierKeyOf,
} from '../../src/ledger/domain/index.js';
import { ed25519PublicKey } from '../../src/ledger/domain/crypto.js';
import { hex, merkleVector, merkleVectorsPresent } from './support/vectors.js';
import { refusal } from './support/refusal.js';

interface KeyPair { name: string; keyId: string; vkey: string; skey: string | null; publicKeyHex: string; seedHex?: string }
interface SignedNoteCase {
  id: string; note: string | null; noteHex?: string; verifierKeys: string[];
  expect: null | { text?: string; sigStatus?: string[]; openError?: string; malformed?: boolean };
}
interface Notes { ed25519KeyPairs: KeyPair[]; signedNotes: SignedNoteCase[]; badVerifierKeys: { vkey: string; why: string }[] }
interface Checkpoints {
  marshal: { origin: string; size: number; rootHashHex: string; expected: string }[];
  parse: { desc: string; input: string; wantErr: boolean; origin?: string; size?: number; rootHashHex?: string; rest?: string }[];
  goSumdbTree: { text: string; treeSize: number; rootHashHex: string };
}
interface TlogProofs {
  marshal: { desc: string; index: number; hashesHex: string[]; checkpoint: string; extraHex: string | null; expected: string }[];
  unmarshalErrors: { desc: string; input: string; errSubstr: string }[];
}
interface DidKeys {
  vectors: { did: string; seedHex: string | null; publicKeyHex: string; publicKeyMultibase: string; x25519?: { publicKeyMultibase: string } }[];
  negative: { did: string; why: string }[];
}

const toHexString = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe.skipIf(!merkleVectorsPresent)('signed notes (c2sp.org/signed-note, golang.org/x/mod/sumdb/note)', () => {
  const notes = merkleVectorsPresent ? merkleVector<Notes>('notes.json') : undefined;

  it('reads verifier and signer keys, derives the same keys from the seeds', () => {
    for (const pair of notes!.ed25519KeyPairs) {
      const parsed = parseVerifierKey(pair.vkey);
      expect(parsed.name, pair.vkey).toBe(pair.name);
      expect(parsed.keyId.toString(16).padStart(8, '0')).toBe(pair.keyId);
      expect(toHexString(parsed.publicKey)).toBe(pair.publicKeyHex);
      if (pair.skey === null) continue;
      const signer = parseSignerKey(pair.skey);
      expect(formatSignerKey(signer)).toBe(pair.skey);
      expect(verifierKeyOf(signer)).toBe(pair.vkey);
      expect(verifierKeyOf(signerKeyFromSeed(pair.name, hex(pair.seedHex!)))).toBe(pair.vkey);
    }
  });

  it('refuses verifier keys of the wrong length or an unknown algorithm, and ECDSA (type 0x05) keys', () => {
    for (const bad of notes!.badVerifierKeys) expect(refusal(() => parseVerifierKey(bad.vkey)).reason, bad.why).toBe('malformed');
    const rome = notes!.signedNotes.find((n) => n.id.startsWith('rome-ct-ecdsa'))!;
    expect(refusal(() => verifierFromKey(rome.verifierKeys[0]!)).message).toMatch(/unknown signature type 0x05/);
    expect(checkNote(rome.note!, []).signatures.map((s) => s.status)).toEqual(['unknown']);
  });

  it('opens, refuses and reports every signature of the published notes as Go does', () => {
    const checked = notes!.signedNotes.filter((n) => n.expect !== null);
    expect(checked.length).toBeGreaterThanOrEqual(14);
    for (const c of checked) {
      const note = c.noteHex ? hex(c.noteHex) : c.note!;
      const verifiers = c.verifierKeys.map(verifierFromKey);
      if (c.expect!.malformed) {
        expect(refusal(() => parseNote(note)).message, c.id).toMatch(/^malformed note/);
        expect(refusal(() => openNote(note, verifiers)).reason, c.id).toBe('malformed');
        continue;
      }
      const result = checkNote(note, verifiers);
      expect(result.signatures.map((s) => s.status), c.id).toEqual(c.expect!.sigStatus);
      if (c.expect!.text !== undefined) expect(result.text, c.id).toBe(c.expect!.text);
      if (c.expect!.openError) {
        const error = refusal(() => openNote(note, verifiers));
        expect(error.message, c.id).toContain(c.expect!.openError);
        expect(error.reason, c.id).toBe(c.expect!.sigStatus!.includes('bad') ? 'bad_signature' : 'wrong_key');
      } else {
        expect(openNote(note, verifiers).text, c.id).toBe(c.expect!.text);
      }
    }
  });

  it('signs byte for byte as Go does (Ed25519 is deterministic)', () => {
    const peter = notes!.ed25519KeyPairs.find((k) => k.name === 'PeterNeumann')!;
    const sign = notes!.signedNotes.find((n) => n.id === 'go-peter-sign')!;
    expect(signNote(sign.expect!.text!, [parseSignerKey(peter.skey!)])).toBe(sign.note);
  });

  it('parses the C2SP examples: a text with blank lines, a checkpoint, a witness cosignature', () => {
    const byId = (prefix: string) => notes!.signedNotes.find((n) => n.id.startsWith(prefix))!;
    const poem = parseNote(byId('c2sp-signed-note-intro').note!);
    expect(poem.text).toBe('Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n');
    expect(poem.signatures[0]!.name).toBe('quasimodo.example/salvatore');
    const checkpoint = parseCheckpoint(parseNote(byId('c2sp-tlog-checkpoint-example').note!).text);
    expect(checkpoint).toMatchObject({ origin: 'example.com/behind-the-sofa', size: 20852163, rest: '' });
    const cosigned = parseNote(byId('c2sp-tlog-cosignature-example').note!);
    expect(cosigned.signatures.map((s) => s.name)).toEqual(['example.com/behind-the-sofa', 'witness.example.com/w1']);
    // The spec's example message says "time 1679315147".
    expect(cosignatureTime(cosigned.signatures[1]!.signature)).toBe(1679315147);
  });
});

describe.skipIf(!merkleVectorsPresent)('checkpoints (c2sp.org/tlog-checkpoint, transparency-dev/formats)', () => {
  const vectors = merkleVectorsPresent ? merkleVector<Checkpoints>('checkpoints.json') : undefined;

  it('writes checkpoint bodies', () => {
    for (const m of vectors!.marshal) expect(formatCheckpoint({ origin: m.origin, size: m.size, rootHash: hex(m.rootHashHex) })).toBe(m.expected);
  });

  it('parses valid bodies and refuses the invalid ones', () => {
    for (const p of vectors!.parse) {
      if (p.wantErr) {
        expect(refusal(() => parseCheckpoint(p.input)).reason, p.desc).toMatch(/malformed|out_of_range/);
        continue;
      }
      const parsed = parseCheckpoint(p.input);
      expect({ origin: parsed.origin, size: parsed.size, root: toHexString(parsed.rootHash), rest: parsed.rest }, p.desc)
        .toEqual({ origin: p.origin, size: p.size, root: p.rootHashHex, rest: p.rest });
    }
    const tree = vectors!.goSumdbTree;
    const parsed = parseCheckpoint(tree.text);
    expect([parsed.size, toHexString(parsed.rootHash)]).toEqual([tree.treeSize, tree.rootHashHex]);
  });
});

describe.skipIf(!merkleVectorsPresent)('tlog-proof (c2sp.org/tlog-proof, transparency-dev/formats)', () => {
  const vectors = merkleVectorsPresent ? merkleVector<TlogProofs>('tlog_proof.json') : undefined;

  it('writes and reads back proofs with and without extra data', () => {
    for (const m of vectors!.marshal) {
      const proof = { index: m.index, hashes: m.hashesHex.map(hex), checkpoint: m.checkpoint, extra: m.extraHex === null ? undefined : hex(m.extraHex) };
      expect(formatTlogProof(proof), m.desc).toBe(m.expected);
      const parsed = parseTlogProof(m.expected);
      expect(parsed.index).toBe(m.index);
      expect(parsed.hashes.map(toHexString)).toEqual(m.hashesHex);
      expect(parsed.checkpoint).toBe(m.checkpoint);
      expect(parsed.extra === undefined ? null : toHexString(parsed.extra)).toBe(m.extraHex);
    }
  });

  it('refuses each malformed proof with the reason the reference implementation gives', () => {
    for (const bad of vectors!.unmarshalErrors) {
      expect(refusal(() => parseTlogProof(bad.input)).message, bad.desc).toContain(bad.errSubstr);
    }
  });
});

describe.skipIf(!merkleVectorsPresent)('did:key (W3C CCG did-method-key, Digital Bazaar)', () => {
  const vectors = merkleVectorsPresent ? merkleVector<DidKeys>('didkey.json') : undefined;

  it('encodes and decodes Ed25519 public keys, derived from the seeds where given', () => {
    for (const v of vectors!.vectors) {
      expect(didKeyFromPublicKey(hex(v.publicKeyHex))).toBe(v.did);
      expect(v.did).toBe(`did:key:${v.publicKeyMultibase}`);
      expect(toHexString(publicKeyFromDidKey(v.did))).toBe(v.publicKeyHex);
      if (v.seedHex) expect(toHexString(ed25519PublicKey(hex(v.seedHex)))).toBe(v.publicKeyHex);
    }
  });

  it('names a community key made from a seed by the known did, and its entry signatures by that did', () => {
    const seeded = vectors!.vectors.filter((v) => v.seedHex);
    expect(seeded.length).toBeGreaterThan(0);
    const entry = settlementClosed({ at: Date.UTC(2026, 10, 30, 23), community: 'c0ffee00-0000-4000-8000-000000000001' }, {
      settlement: 's-1', period: { start: Date.UTC(2026, 9, 31, 23), end: Date.UTC(2026, 10, 30, 23) }, currency: 'EUR', totals: { amount: '12.34' }, statements: 3,
    });
    for (const v of seeded) {
      expect(didKeyFromSeed(hex(v.seedHex!))).toBe(v.did);
      const signed = signEntry(entry, hex(v.seedHex!));
      expect(signed.signatures).toEqual([{ did: v.did, signature: expect.any(String) }]);
      expect(checkCommunitySignature(signed, v.did)).toEqual({ status: 'valid', did: v.did });
    }
    // The signature of one vector's key does not pass as another's.
    const [first, second] = seeded as [typeof seeded[0], typeof seeded[0]];
    const forged = { ...signEntry(entry, hex(first.seedHex!)), signatures: [{ did: second.did, signature: signEntry(entry, hex(first.seedHex!)).signatures![0]!.signature }] };
    expect(refusal(() => checkCommunitySignature(forged)).reason).toBe('bad_signature');
  });

  it('refuses P-256 and X25519 keys, and damaged identifiers', () => {
    for (const n of vectors!.negative) expect(refusal(() => publicKeyFromDidKey(n.did)).reason, n.why).toBe('malformed');
    const x25519 = vectors!.vectors.find((v) => v.x25519)!.x25519!.publicKeyMultibase;
    expect(refusal(() => publicKeyFromDidKey(`did:key:${x25519}`)).message).toMatch(/not an Ed25519 key/);
    const valid = vectors!.vectors[0]!.did;
    for (const damaged of [valid.slice(0, -1), `${valid}1`, valid.replace('z6Mk', 'f6Mk'), `${valid.slice(0, 20)}0${valid.slice(21)}`, 'did:web:example.org']) {
      expect(() => publicKeyFromDidKey(damaged), damaged).toThrow(LedgerError);
    }
  });
});
