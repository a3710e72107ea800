import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PDFDocument from 'pdfkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  didKeyFromSeed, documentCommitment, encodeEntry, formatReceiptJson, formatReceiptTlogProof, signEntry, signerKeyFromSeed,
  statementIssued, verifierKeyOf,
} from '../../src/ledger/domain/index.js';
import { LogFetchError } from '../../src/ledger/tile-client.js';
import { verifyConsistencyFiles, verifyReceiptFile } from '../../src/ledger/commands.js';
import { CLI_TIMEOUT_MS, refusedWith as reason, verifyCli as cli } from './support/verify-cli.js';
import { base, member, november } from './support/entries.js';
import { MemoryLog } from './support/memory-log.js';

const encoder = new TextEncoder();

function statementPdf(): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const doc = new PDFDocument({ size: 'A4', info: { Title: 'Energy statement November 2026' } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    doc.fontSize(14).text('Energy statement, November 2026: 231.4 kWh from the community, 18.52 EUR');
    doc.end();
  });
}

const logKey = signerKeyFromSeed('ledger.sunny-street.example', new Uint8Array(32).fill(21));
const KEY = verifierKeyOf(logKey);
const filler = (from: number, count: number) => Array.from({ length: count }, (_, i) => encoder.encode(`{"filler":${from + i}}`));

/** How the test log server misbehaves (reset to honest after each test that changes it). */
const serverMode = { damagedTiles: false, dropsFilledPartials: false, hugeBody: false };

describe('gridshare verify', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridshare-verify-'));
  const file = (name: string, content: string | Uint8Array) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };
  const log = new MemoryLog(logKey);
  let pdf: Uint8Array;
  /** The statement changed in one byte. */
  let alteredPdf: string;
  let server: Server;
  let url: string;
  const requests: string[] = [];

  beforeAll(async () => {
    pdf = await statementPdf();
    log.append(filler(0, 250));
    log.append([encodeEntry(statementIssued(base, { statement: 'st-2026-11-0001', member, period: november, document: documentCommitment(pdf, 'application/pdf') }))]);
    log.append(filler(251, 49));
    file('old.checkpoint', log.checkpoint()); // 300 entries
    log.append(filler(300, 400));
    file('new.checkpoint', log.checkpoint()); // 700 entries
    log.append(filler(700, 100)); // the log went on growing: tile 0/002 is now full
    file('statement.pdf', pdf);
    const altered = pdf.slice();
    altered[altered.length - 20] = altered[altered.length - 20]! ^ 0x01;
    alteredPdf = file('altered.pdf', altered);
    file('receipt.json', formatReceiptJson(log.receipt(250, 700)));
    file('receipt.tlog-proof', formatReceiptTlogProof(log.receipt(250, 700)));

    server = createServer((req, res) => {
      const path = (req.url ?? '').replace(/^\/ledger\//, '');
      requests.push(path);
      if (serverMode.hugeBody) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.alloc(1 << 20));
        return;
      }
      // A log may delete a partial tile once the full tile exists.
      const partial = /^(tile\/\d+\/.*)\.p\/\d+$/.exec(path);
      const found = serverMode.dropsFilledPartials && partial && log.serve(partial[1]!) ? undefined : log.serve(path);
      if (!found) {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.from(found.body);
      if (serverMode.damagedTiles && path.startsWith('tile/0/')) body[5] = body[5]! ^ 0xff;
      res.writeHead(200, { 'content-type': found.type }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/ledger/`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const consistency = (oldCheckpoint = join(dir, 'old.checkpoint'), newCheckpoint = join(dir, 'new.checkpoint')) =>
    verifyConsistencyFiles({ oldCheckpoint, newCheckpoint, url, key: KEY });

  it('verifies a receipt and its statement PDF, in either receipt spelling', async () => {
    for (const receipt of ['receipt.json', 'receipt.tlog-proof']) {
      const result = await verifyReceiptFile({ receipt: join(dir, receipt), key: KEY, statement: join(dir, 'statement.pdf') });
      expect(result).toMatchObject({ verified: true, index: 250, log: 'ledger.sunny-street.example', checkpoint: { size: 700 }, statement: { size: pdf.length } });
      expect(result.entry.kind).toBe('statement.issued');
      // Logged before its community had a key: reported, not refused.
      expect(result.communitySignature).toEqual({ status: 'absent' });
    }
  });

  it('reports the entry\'s community signature: valid (by the key given), or refused as invalid', async () => {
    const communitySeed = new Uint8Array(32).fill(31);
    const communityDid = didKeyFromSeed(communitySeed);
    const otherDid = didKeyFromSeed(new Uint8Array(32).fill(32));
    const statement = statementIssued(base, { statement: 'st-2026-11-0002', member, period: november, document: documentCommitment(pdf, 'application/pdf') });
    const signed = signEntry(statement, communitySeed);
    // A signature copied onto another entry: well formed, logged, but not over this entry.
    const other = statementIssued(base, { statement: 'st-2026-11-0003', member, period: november, document: documentCommitment(pdf, 'application/pdf') });
    const copied = { ...other, signatures: signed.signatures };
    const signedLog = new MemoryLog(logKey);
    signedLog.append([encodeEntry(signed), encodeEntry(copied), ...filler(2, 10)]);
    const signedReceipt = file('signed.json', formatReceiptJson(signedLog.receipt(0, 12)));
    const copiedReceipt = file('copied.json', formatReceiptJson(signedLog.receipt(1, 12)));

    await expect(verifyReceiptFile({ receipt: signedReceipt, key: KEY })).resolves.toMatchObject({ communitySignature: { status: 'valid', did: communityDid } });
    await expect(verifyReceiptFile({ receipt: signedReceipt, key: KEY, communityKey: communityDid, statement: join(dir, 'statement.pdf') }))
      .resolves.toMatchObject({ verified: true, communitySignature: { status: 'valid', did: communityDid } });
    expect(await reason(verifyReceiptFile({ receipt: signedReceipt, key: KEY, communityKey: otherDid }))).toMatch(/^bad_signature: community signature invalid: .*not by the community's key/);
    expect(await reason(verifyReceiptFile({ receipt: copiedReceipt, key: KEY }))).toMatch(/^bad_signature: community signature invalid: .*does not verify/);
    // The signature cannot be stripped from a receipt: the entry would no longer be the logged one.
    const stripped = JSON.parse(formatReceiptJson(signedLog.receipt(0, 12))) as { entry: Record<string, unknown> };
    delete stripped.entry.signatures;
    expect(await reason(verifyReceiptFile({ receipt: file('stripped.json', JSON.stringify(stripped)), key: KEY }))).toMatch(/^proof_mismatch/);
    await expect(verifyReceiptFile({ receipt: signedReceipt, key: KEY, communityKey: 'did:key:nope' })).rejects.toThrow(/--community-key: /);

    const [valid, invalid] = await Promise.all([
      cli(['--receipt', signedReceipt, '--key', KEY, '--community-key', communityDid]),
      cli(['--receipt', signedReceipt, '--key', KEY, '--community-key', otherDid]),
    ]);
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).toContain(`community   signature valid, by ${communityDid}`);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^NOT VERIFIED \(bad_signature\): community signature invalid/);
  }, CLI_TIMEOUT_MS);

  it('refuses a statement changed in one byte, a receipt from an altered database row, a wrong key, an edited checkpoint', async () => {
    expect(await reason(verifyReceiptFile({ receipt: join(dir, 'receipt.json'), key: KEY, statement: alteredPdf }))).toMatch(/^entry_mismatch: the file is not the document the entry commits to/);

    // Someone edits the stored entry (the statement's hash) and hands out a receipt built from the row.
    const honest = JSON.parse(formatReceiptJson(log.receipt(250, 700))) as { entry: { document: { sha256: string } } };
    honest.entry.document.sha256 = honest.entry.document.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect(await reason(verifyReceiptFile({ receipt: file('edited-row.json', JSON.stringify(honest)), key: KEY }))).toMatch(/^proof_mismatch: the entry and inclusion proof lead to root/);

    const stranger = verifierKeyOf(signerKeyFromSeed('ledger.sunny-street.example', new Uint8Array(32).fill(22)));
    expect(await reason(verifyReceiptFile({ receipt: join(dir, 'receipt.json'), key: stranger }))).toMatch(/^wrong_key: note has no verifiable signatures/);

    const edited = formatReceiptTlogProof(log.receipt(250, 700)).replace('\n700\n', '\n701\n');
    expect(await reason(verifyReceiptFile({ receipt: file('edited.tlog-proof', edited), key: KEY }))).toMatch(/^bad_signature: invalid signature for key ledger\.sunny-street\.example\+/);
  });

  it('refuses unreadable input before checking anything', async () => {
    await expect(verifyReceiptFile({ receipt: join(dir, 'missing.json'), key: KEY })).rejects.toThrow(/cannot read the receipt .*ENOENT/);
    await expect(verifyReceiptFile({ receipt: join(dir, 'receipt.json'), key: 'not a key' })).rejects.toThrow(/--key: not a verifier key/);
    await expect(verifyReceiptFile({ receipt: file('big.json', new Uint8Array((1 << 20) + 1)), key: KEY })).rejects.toThrow(/a receipt is at most/);
    expect(await reason(verifyReceiptFile({ receipt: file('empty.json', '{}'), key: KEY }))).toMatch(/^malformed: the receipt is not a gridshare-receipt\/v1/);
  });

  it('checks that the log only grew, fetching only the tiles the proof needs', async () => {
    requests.length = 0;
    const result = await consistency();
    expect(result).toMatchObject({ verified: true, old: { size: 300 }, new: { size: 700 } });
    expect(result.proofHashes).toBeGreaterThan(0);
    expect(requests.length).toBe(result.tilesFetched);
    expect(requests.every((r) => r.startsWith('tile/'))).toBe(true);
    expect(requests).toContain('tile/0/002.p/188');
  });

  it('takes a full tile when the log no longer serves the partial one', async () => {
    serverMode.dropsFilledPartials = true;
    try {
      requests.length = 0;
      expect((await consistency()).verified).toBe(true);
      expect(requests).toContain('tile/0/002');
    } finally {
      serverMode.dropsFilledPartials = false;
    }
  });

  it('says the log shrank, forked, or that the URL serves other tiles', async () => {
    expect(await reason(consistency(join(dir, 'new.checkpoint'), join(dir, 'old.checkpoint')))).toMatch(/^log_shrank: the new checkpoint has 300 entries, the old one 700/);

    // The same key signed a different history of 300 entries: entry 17 differs.
    const fork = new MemoryLog(logKey);
    fork.append([...filler(0, 17), encoder.encode('{"filler":"rewritten"}'), ...filler(18, 282)]);
    const forked = file('forked.checkpoint', fork.checkpoint());
    expect(await reason(consistency(forked))).toMatch(/^log_forked: the old checkpoint \(300 entries, root [0-9a-f]+\) is not a prefix of the log the new checkpoint signs/);

    serverMode.damagedTiles = true;
    try {
      expect(await reason(consistency())).toMatch(/^proof_mismatch: the tiles served at .* do not hash to the new checkpoint's root/);
    } finally {
      serverMode.damagedTiles = false;
    }
  });

  it('refuses a server that floods it, and says when the log cannot be reached', async () => {
    serverMode.hugeBody = true;
    try {
      await expect(consistency()).rejects.toThrow(LogFetchError);
      await expect(consistency()).rejects.toThrow(/more than the \d+ (bytes )?expected/);
    } finally {
      serverMode.hugeBody = false;
    }
    await expect(verifyConsistencyFiles({ oldCheckpoint: join(dir, 'old.checkpoint'), newCheckpoint: join(dir, 'new.checkpoint'), url: 'http://127.0.0.1:9/ledger', key: KEY }))
      .rejects.toThrow(/cannot fetch http:\/\/127\.0\.0\.1:9\/ledger\/tile\//);
  });

  it('runs as `gridshare verify` with exit status 0, 1 and 2', async () => {
    const [grew, altered, usage] = await Promise.all([
      cli(['--consistency', join(dir, 'old.checkpoint'), join(dir, 'new.checkpoint'), '--url', url, '--key', KEY, '--json']),
      cli(['--receipt', join(dir, 'receipt.json'), '--statement', alteredPdf, '--key', KEY]),
      cli(['--receipt', join(dir, 'receipt.json'), '--consistency', 'a', 'b', '--key', KEY]),
    ]);
    expect(grew.code, grew.stderr).toBe(0);
    expect(JSON.parse(grew.stdout)).toMatchObject({ verified: true, old: { size: 300 }, new: { size: 700 } });
    expect(altered.code).toBe(1);
    expect(altered.stderr).toMatch(/^NOT VERIFIED \(entry_mismatch\): the file is not the document/);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/give exactly one of --receipt, --movement or --consistency/);
  }, CLI_TIMEOUT_MS);
});
