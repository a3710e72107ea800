/**
 * The verifiable record (server/src/ledger): the log's public read API in the C2SP tlog-tiles
 * layout under /api/v1/ledger (checkpoint, tiles, entry bundles), its key, inclusion and
 * consistency proofs — all public: entries hold hashes and salted commitments, never names —
 * and, for a statement's member and the community's managers, the statement's receipt.
 */
import { Type, type Static } from 'typebox';
import { errors, IdParams, IsoDateTime, NoContent, nullable, Uuid } from './common.js';
import { route } from './route.js';

/** The tlog-tiles URL prefix: `<prefix>/checkpoint`, `<prefix>/tile/<L>/<N>[.p/<W>]`, `<prefix>/tile/entries/<N>[.p/<W>]`. */
export const LEDGER_PREFIX = '/api/v1/ledger';

const TreeIndex = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Base64Hash = Type.String({ description: 'SHA-256, base64' });

export const LedgerKey = Type.Object({
  origin: Type.String({ description: 'the log\'s name, the first line of every checkpoint' }),
  verifierKey: Type.String({ description: 'c2sp.org/signed-note verifier key: <name>+<key id>+<base64 key>; give it to `gridshare verify --key`' }),
  did: Type.String({ description: 'the same Ed25519 key as a did:key' }),
  tilesPath: Type.String({ description: 'the tlog-tiles URL prefix, relative to this server' }),
});

export const CommunityKey = Type.Object({
  community: Type.String({ description: 'the community\'s id, as its entries name it' }),
  did: Type.String({ description: 'the did:key (Ed25519) whose signature every entry of the community carries since the key was created' }),
  createdAt: IsoDateTime,
});

const CommunitySignatureStatus = Type.Union([Type.Literal('valid'), Type.Literal('invalid'), Type.Literal('absent')], {
  description: 'the entry\'s signature by its community\'s key: valid, invalid (the receipt does not verify) or absent (an entry logged before the community had a key)',
});

export const InclusionProof = Type.Object({
  index: TreeIndex, size: TreeIndex, hashes: Type.Array(Base64Hash, { description: 'RFC 9162 inclusion proof, the leaf\'s sibling first' }),
});
export const ConsistencyProof = Type.Object({
  from: TreeIndex, to: TreeIndex, hashes: Type.Array(Base64Hash, { description: 'RFC 9162 consistency proof' }),
});

export const StatementVerification = Type.Object({
  statementId: Type.String(),
  verified: Type.Boolean({ description: 'the receipt verifies against the log\'s key, and the statement is the document its entry commits to' }),
  reason: nullable(Type.String({ description: 'why not: malformed, wrong_key, bad_signature, origin_mismatch, proof_mismatch, entry_mismatch, …' })),
  message: nullable(Type.String()),
  index: nullable(TreeIndex),
  treeSize: nullable(TreeIndex),
  rootHash: nullable(Type.String({ description: 'hex' })),
  documentSha256: nullable(Type.String({ description: 'hex SHA-256 of statement.json' })),
  erasedFields: Type.Array(Type.String(), {
    description: 'empty: statement.json is byte for byte the document its entry commits to; otherwise the personal fields an erasure replaced (the member\'s name): every other field matches the entry, these are no longer covered',
  }),
  verifierKey: Type.String(),
  did: Type.String(),
  communityDid: nullable(Type.String({ description: 'the did:key the statement\'s community publishes, its entries\' signer' })),
  communitySignature: nullable(CommunitySignatureStatus),
  receipt: Type.String({ description: 'the receipt (gridshare-receipt/v1 JSON), as receipt.json serves it' }),
});

/** The proof of one wallet movement (contract/src/proof/movement-proof.ts checks it: the server, `gridshare verify --movement` and the browser). */
export const MovementProof = Type.Object({
  format: Type.Literal('gridshare-movement-proof/v1'),
  record: Type.String({ description: 'the posting\'s record as logged: RFC 8785 canonical JSON, the leaf\'s exact bytes in UTF-8; wallets as wallet:<member commitment>' }),
  opening: nullable(Type.Object({
    member: Type.String({ description: 'the member whose wallet it is' }),
    salt: Type.String({ description: 'base64; commitment = SHA-256 of the commitment prefix ‖ salt ‖ member id, as the record names the wallet' }),
  }, { description: 'null once the member was erased (the salt is deleted): the record then names the wallet by commitment only' })),
  batch: Type.Object({
    index: TreeIndex, size: TreeIndex,
    hashes: Type.Array(Base64Hash, { description: 'RFC 6962 audit path of the record in its batch\'s tree, the sibling first; leads to the entry\'s root' }),
  }),
  receipt: Type.String({ description: 'the batch\'s market.movements entry, its inclusion proof in the log and the signed checkpoint (gridshare-receipt/v1 JSON)' }),
});

/**
 * A wallet movement's proof checked as `gridshare verify --movement` checks it, for the member's
 * wallet page: the proof itself (to download and check offline), the log's and the community's keys.
 */
export const MovementVerification = Type.Object({
  sequence: Type.Integer({ description: 'the posting\'s sequence, as the wallet lists it' }),
  verified: Type.Boolean({ description: 'the proof verifies against the log\'s key and the community\'s published key, and its opening names this member\'s wallet' }),
  reason: nullable(Type.String({ description: 'why not: malformed, wrong_key, bad_signature, origin_mismatch, proof_mismatch, entry_mismatch, …' })),
  message: nullable(Type.String()),
  movement: nullable(Type.Object({
    kind: Type.String(), at: IsoDateTime, amount: Type.String({ description: 'exact decimal, as the record holds it' }), currency: Type.String(),
    side: nullable(Type.Union([Type.Literal('debit'), Type.Literal('credit')], { description: 'the member\'s side; null without an opening (erased)' })),
  }, { description: 'the record as proven; null when not verified' })),
  batch: nullable(Type.Object({
    first: Type.Integer(), last: Type.Integer(), index: TreeIndex, size: TreeIndex,
  }, { description: 'the batch of postings first–last whose market.movements entry holds the record, at index of size' })),
  logIndex: nullable(TreeIndex),
  treeSize: nullable(TreeIndex),
  verifierKey: Type.String(),
  did: Type.String(),
  communityDid: nullable(Type.String({ description: 'the did:key the community publishes, its entries\' signer' })),
  proof: MovementProof,
});

/** The auditor's last pass: the tree recomputed from the stored entries against every published checkpoint. */
export const LedgerAudit = Type.Object({
  auditedAt: IsoDateTime,
  entries: Type.Integer(),
  checkpoints: Type.Integer(),
  failures: Type.Integer({ description: 'what it found wrong; 0: the stored log matches every published checkpoint' }),
  message: nullable(Type.String({ description: 'the first failure' })),
});

export const CommunityLedger = Type.Object({
  origin: nullable(Type.String()),
  verifierKey: nullable(Type.String()),
  did: nullable(Type.String()),
  communityDid: Type.String({ description: 'the community\'s own did:key (Ed25519), which signs each of its entries; public at /api/v1/ledger/communities/:id/key' }),
  size: Type.Integer({ description: 'entries in the log (all communities)' }),
  lastAppendAt: nullable(IsoDateTime),
  checkpoint: nullable(Type.Object({ size: Type.Integer(), rootHash: Type.String({ description: 'hex' }), publishedAt: IsoDateTime, note: Type.String() })),
  community: Type.Object({ entries: Type.Integer(), lastIndex: nullable(Type.Integer()), lastAppendAt: nullable(IsoDateTime) }),
  audit: nullable(LedgerAudit),
});

export const WitnessInput = Type.Object({
  verifierKey: Type.String({ minLength: 1, maxLength: 500, description: 'the witness\'s c2sp.org/tlog-cosignature verifier key: <name>+<key id>+base64(0x04 ‖ key); its name names the witness' }),
  url: Type.String({ minLength: 1, maxLength: 2000, description: 'the witness\'s submission prefix (c2sp.org/tlog-witness): add-checkpoint is POSTed to <url>/add-checkpoint' }),
}, { additionalProperties: false });

export const Witness = Type.Object({
  name: Type.String(),
  verifierKey: Type.String(),
  url: Type.String(),
  cosignedSize: Type.Integer({ description: 'the tree size the witness last recorded for this log: the old size of the next add-checkpoint' }),
  verifiedSize: nullable(Type.Integer({ description: 'the largest checkpoint it cosigned with a signature that verifies under its key' })),
  lastAttemptAt: nullable(IsoDateTime),
  lastError: nullable(Type.String({ description: 'why the last request did not end in a cosignature' })),
  addedAt: IsoDateTime,
});

export type LedgerKey = Static<typeof LedgerKey>;
export type CommunityKey = Static<typeof CommunityKey>;
export type LedgerAudit = Static<typeof LedgerAudit>;
export type Witness = Static<typeof Witness>;
export type StatementVerification = Static<typeof StatementVerification>;
export type CommunityLedger = Static<typeof CommunityLedger>;
export type MovementProof = Static<typeof MovementProof>;
export type MovementVerification = Static<typeof MovementVerification>;

const PUBLIC = { security: [] };
const MovementParams = Type.Object({ id: Uuid, sequence: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'the posting\'s sequence, as the wallet lists it' }) });

export const ledgerRoutes = {
  ledgerKey: route('GET', `${LEDGER_PREFIX}/key`, {
    tags: ['ledger'], summary: 'The log\'s public key: verifier key, did:key and origin (public)', ...PUBLIC,
    response: { 200: LedgerKey, ...errors(503) },
  }),
  ledgerCommunityKey: route('GET', `${LEDGER_PREFIX}/communities/:id/key`, {
    tags: ['ledger'], summary: 'A community\'s did:key, whose signature its entries carry (public; 404 before its first entry)', ...PUBLIC,
    params: IdParams, response: { 200: CommunityKey, ...errors(404) },
  }),
  ledgerCheckpoint: route('GET', `${LEDGER_PREFIX}/checkpoint`, {
    tags: ['ledger'], summary: 'The latest signed checkpoint (c2sp.org/tlog-checkpoint, text/plain; public)', ...PUBLIC,
    produces: ['text/plain'], response: errors(404),
  }),
  ledgerCheckpointNow: route('POST', `${LEDGER_PREFIX}/checkpoint`, {
    tags: ['ledger'], summary: 'Append what waits and sign a checkpoint now (platform admins)',
    response: { 200: Type.Object({ size: Type.Integer(), publishedAt: IsoDateTime }), ...errors(401, 403) },
  }),
  listWitnesses: route('GET', `${LEDGER_PREFIX}/witnesses`, {
    tags: ['ledger'], summary: 'The witnesses asked to cosign each checkpoint, and how far each has (platform admins)',
    response: { 200: Type.Array(Witness), ...errors(401, 403) },
  }),
  putWitness: route('POST', `${LEDGER_PREFIX}/witnesses`, {
    tags: ['ledger'], summary: 'Add a witness, or replace the key and URL of the one of that name (platform admins)',
    body: WitnessInput, response: { 200: Witness, ...errors(400, 401, 403) },
  }),
  removeWitness: route('DELETE', `${LEDGER_PREFIX}/witnesses/:name`, {
    tags: ['ledger'], summary: 'Stop asking a witness (platform admins); the cosignatures it gave stay',
    params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 500 }) }), response: { ...NoContent, ...errors(401, 403, 404) },
  }),
  ledgerTile: route('GET', `${LEDGER_PREFIX}/tile/*`, {
    tags: ['ledger'], summary: 'A tile (tile/<L>/<N>[.p/<W>]) or entry bundle (tile/entries/<N>[.p/<W>]) of the log (c2sp.org/tlog-tiles; public)', ...PUBLIC,
    params: Type.Object({ '*': Type.String({ maxLength: 100 }) }), produces: ['application/octet-stream'], response: errors(400, 404),
  }),
  inclusionProof: route('GET', `${LEDGER_PREFIX}/proofs/inclusion`, {
    tags: ['ledger'], summary: 'Inclusion proof of entry `index` in the tree of `size` entries (default: the latest checkpoint; public)', ...PUBLIC,
    querystring: Type.Object({ index: TreeIndex, size: Type.Optional(TreeIndex) }, { additionalProperties: false }),
    response: { 200: InclusionProof, ...errors(400) },
  }),
  consistencyProof: route('GET', `${LEDGER_PREFIX}/proofs/consistency`, {
    tags: ['ledger'], summary: 'Consistency proof from the tree of `from` entries to that of `to` (default: the latest checkpoint; public)', ...PUBLIC,
    querystring: Type.Object({ from: TreeIndex, to: Type.Optional(TreeIndex) }, { additionalProperties: false }),
    response: { 200: ConsistencyProof, ...errors(400) },
  }),
  statementReceipt: route('GET', '/api/v1/statements/:id/receipt.json', {
    tags: ['ledger'], summary: 'The statement\'s receipt: its log entry, index, inclusion proof and signed checkpoint (its member, managers)',
    params: IdParams, produces: ['application/json'], response: errors(401, 404),
  }),
  statementJson: route('GET', '/api/v1/statements/:id/statement.json', {
    tags: ['ledger'], summary: 'The statement as the exact JSON bytes its log entry commits to (its member, managers)',
    params: IdParams, produces: ['application/json'], response: errors(401, 404),
  }),
  statementVerification: route('GET', '/api/v1/statements/:id/verification', {
    tags: ['ledger'], summary: 'The statement\'s receipt checked as `gridshare verify` checks it (its member, managers)',
    params: IdParams, response: { 200: StatementVerification, ...errors(401, 404) },
  }),
  walletMovementProof: route('GET', '/api/v1/members/:id/market/postings/:sequence/proof', {
    tags: ['ledger'], summary: 'The proof that a posting of the member\'s wallet is in the verifiable record, to check offline (the member, managers; 409 until its batch is recorded)',
    params: MovementParams,
    response: { 200: MovementProof, ...errors(400, 401, 404, 409) },
  }),
  walletMovementVerification: route('GET', '/api/v1/members/:id/market/postings/:sequence/verification', {
    tags: ['ledger'], summary: 'A posting\'s proof checked as `gridshare verify --movement` checks it, with the proof (the member, managers; 409 until its batch is recorded)',
    params: MovementParams, response: { 200: MovementVerification, ...errors(400, 401, 404, 409) },
  }),
  communityLedger: route('GET', '/api/v1/communities/:id/ledger', {
    tags: ['ledger'], summary: 'The log\'s size, latest checkpoint, last append and audit, and the community\'s entries (managers)',
    params: IdParams, response: { 200: CommunityLedger, ...errors(401, 403, 404) },
  }),
};
