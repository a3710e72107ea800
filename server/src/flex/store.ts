import type { Queryable } from '../platform/store/db.js';
import { keyIdSql, sealedStore } from '../secrets/index.js';
import type { UftpRole } from './domain/uftp/messages.js';
import type { AvailabilityWindow, ContractState, ContractTerms, ServiceType } from './domain/contracts.js';

/** The only SQL on flex's tables: flex_identities, flex_participants, flex_messages, flex_outbox, the contracts and the settlements. */

// ---- identities ----

export interface StoredIdentity {
  readonly communityId: string;
  readonly domain: string;
  /** Sealed with the secrets box (place: flex_identities.signing_key:<community id>). */
  readonly signingKey: string;
  readonly publicKey: string;
  readonly timeZone: string;
  readonly ispDurationMinutes: number;
}

interface IdentityRow {
  community_id: string;
  domain: string;
  signing_key: string;
  public_key: string;
  time_zone: string;
  isp_duration_minutes: number;
}

const toIdentity = (r: IdentityRow): StoredIdentity => ({
  communityId: r.community_id, domain: r.domain, signingKey: r.signing_key, publicKey: r.public_key, timeZone: r.time_zone, ispDurationMinutes: r.isp_duration_minutes,
});

export async function identityOfCommunity(db: Queryable, communityId: string): Promise<StoredIdentity | undefined> {
  const [row] = await db.query<IdentityRow>('SELECT * FROM flex_identities WHERE community_id = $1', [communityId]);
  return row && toIdentity(row);
}

export async function identityOfDomain(db: Queryable, domain: string): Promise<StoredIdentity | undefined> {
  const [row] = await db.query<IdentityRow>('SELECT * FROM flex_identities WHERE domain = $1', [domain]);
  return row && toIdentity(row);
}

/** Creates the identity with its key, or changes its domain and market (the key stays); false when the domain is another community's. */
export async function upsertIdentity(db: Queryable, identity: StoredIdentity): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO flex_identities (community_id, domain, signing_key, public_key, time_zone, isp_duration_minutes)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (community_id) DO UPDATE SET domain = EXCLUDED.domain, time_zone = EXCLUDED.time_zone, isp_duration_minutes = EXCLUDED.isp_duration_minutes
     RETURNING 1`,
    [identity.communityId, identity.domain, identity.signingKey, identity.publicKey, identity.timeZone, identity.ispDurationMinutes],
  ).catch((error: { code?: string }) => {
    if (error.code === '23505') return [];
    throw error;
  });
  return rows.length > 0;
}

/** The sealed signing keys, for the secrets capability (key checks at start, rotation). */
export const flexKeyStore = sealedStore({
  table: 'flex_identities',
  id: 'community_id',
  columns: ['signing_key'],
  summary: `SELECT ${keyIdSql('signing_key')} AS "keyId", count(*)::int AS count FROM flex_identities GROUP BY 1`,
  page: `SELECT community_id::text AS community_id, signing_key FROM flex_identities
    WHERE ($1::text IS NULL OR community_id::text > $1) ORDER BY community_id::text LIMIT $2`,
  replace: `UPDATE flex_identities i SET signing_key = v.after
    FROM unnest($1::text[], $2::text[], $3::text[]) AS v(id, before, after)
    WHERE i.community_id::text = v.id AND i.signing_key = v.before
    RETURNING 1`,
});

// ---- participants (the address book) ----

export interface StoredParticipant {
  readonly id: string;
  readonly communityId: string;
  readonly domain: string;
  readonly role: UftpRole;
  readonly endpoint: string;
  readonly publicKeys: readonly string[];
  readonly barred: boolean;
  readonly congestionPoints: readonly string[];
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

interface ParticipantRow {
  id: string;
  community_id: string;
  domain: string;
  role: UftpRole;
  endpoint: string;
  public_keys: string[];
  barred: boolean;
  congestion_points: string[];
  created_at: Date;
  updated_at: Date;
}

const toParticipant = (r: ParticipantRow): StoredParticipant => ({
  id: r.id, communityId: r.community_id, domain: r.domain, role: r.role, endpoint: r.endpoint, publicKeys: r.public_keys, barred: r.barred,
  congestionPoints: r.congestion_points, createdAtMs: r.created_at.getTime(), updatedAtMs: r.updated_at.getTime(),
});

export async function participantsOfCommunity(db: Queryable, communityId: string): Promise<StoredParticipant[]> {
  const rows = await db.query<ParticipantRow>('SELECT * FROM flex_participants WHERE community_id = $1 ORDER BY domain, role', [communityId]);
  return rows.map(toParticipant);
}

/** Every community's entry for a sender (the envelope names no recipient: the payload does, once verified). */
export async function participantsNamed(db: Queryable, domain: string, role: string): Promise<StoredParticipant[]> {
  const rows = await db.query<ParticipantRow>('SELECT * FROM flex_participants WHERE domain = $1 AND role = $2', [domain, role]);
  return rows.map(toParticipant);
}

export async function participantById(db: Queryable, id: string): Promise<StoredParticipant | undefined> {
  const [row] = await db.query<ParticipantRow>('SELECT * FROM flex_participants WHERE id = $1', [id]);
  return row && toParticipant(row);
}

const UNIQUE_VIOLATION = '23505';
const conflictAsFalse = (error: { code?: string }) => {
  if (error.code === UNIQUE_VIOLATION) return [];
  throw error;
};

/** Inserts or replaces an entry; false when another entry of the community has its domain and role. */
export async function saveParticipant(db: Queryable, p: StoredParticipant): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO flex_participants (id, community_id, domain, role, endpoint, public_keys, barred, congestion_points, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (id, community_id) DO UPDATE SET domain = EXCLUDED.domain, role = EXCLUDED.role, endpoint = EXCLUDED.endpoint, public_keys = EXCLUDED.public_keys,
       barred = EXCLUDED.barred, congestion_points = EXCLUDED.congestion_points, updated_at = EXCLUDED.updated_at
     RETURNING 1`,
    [p.id, p.communityId, p.domain, p.role, p.endpoint, p.publicKeys, p.barred, p.congestionPoints, new Date(p.createdAtMs), new Date(p.updatedAtMs)],
  ).catch(conflictAsFalse);
  return rows.length > 0;
}

/** Removes the entry; false while a contract names it. */
export async function deleteParticipant(db: Queryable, id: string): Promise<boolean> {
  try {
    await db.query('DELETE FROM flex_participants WHERE id = $1', [id]);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '23503') return false; // foreign_key_violation: flex_contracts names it
    throw error;
  }
}

// ---- messages ----

export type MessageDirection = 'in' | 'out';
export type MessageState = 'accepted' | 'rejected' | 'duplicate' | 'queued' | 'sent' | 'failed' | 'revoked' | 'ordered' | 'settled';

export interface StoredMessage {
  readonly id: string;
  readonly communityId: string;
  readonly direction: MessageDirection;
  readonly type: string;
  readonly messageId: string;
  readonly conversationId: string;
  readonly senderDomain: string;
  readonly senderRole: UftpRole;
  readonly recipientDomain: string;
  readonly payloadXml: string;
  readonly fingerprint: string;
  readonly state: MessageState;
  readonly rejectionReason: string | null;
  readonly inReplyTo: string | null;
  readonly duplicateOf: string | null;
  readonly atMs: number;
}

interface MessageRow {
  id: string;
  community_id: string;
  direction: MessageDirection;
  type: string;
  message_id: string;
  conversation_id: string;
  sender_domain: string;
  sender_role: UftpRole;
  recipient_domain: string;
  payload_xml: string;
  fingerprint: string;
  state: MessageState;
  rejection_reason: string | null;
  in_reply_to: string | null;
  duplicate_of: string | null;
  at: Date;
}

const toMessage = (r: MessageRow): StoredMessage => ({
  id: r.id, communityId: r.community_id, direction: r.direction, type: r.type, messageId: r.message_id, conversationId: r.conversation_id,
  senderDomain: r.sender_domain, senderRole: r.sender_role, recipientDomain: r.recipient_domain, payloadXml: r.payload_xml, fingerprint: r.fingerprint,
  state: r.state, rejectionReason: r.rejection_reason, inReplyTo: r.in_reply_to, duplicateOf: r.duplicate_of, atMs: r.at.getTime(),
});

/** Stores a first message of its sender and MessageID; false when one is stored already (the unique index decides). */
export async function insertFirstMessage(tx: Queryable, m: StoredMessage): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO flex_messages (id, community_id, direction, type, message_id, conversation_id, sender_domain, sender_role, recipient_domain,
       payload_xml, fingerprint, state, rejection_reason, in_reply_to, duplicate_of, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, NULL, $15)
     ON CONFLICT (community_id, sender_domain, message_id) WHERE duplicate_of IS NULL DO NOTHING RETURNING 1`,
    [m.id, m.communityId, m.direction, m.type, m.messageId, m.conversationId, m.senderDomain, m.senderRole, m.recipientDomain,
      m.payloadXml, m.fingerprint, m.state, m.rejectionReason, m.inReplyTo, new Date(m.atMs)],
  );
  return rows.length > 0;
}

export async function insertDuplicate(tx: Queryable, m: StoredMessage, duplicateOf: string): Promise<void> {
  await tx.query(
    `INSERT INTO flex_messages (id, community_id, direction, type, message_id, conversation_id, sender_domain, sender_role, recipient_domain,
       payload_xml, fingerprint, state, rejection_reason, in_reply_to, duplicate_of, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'duplicate', $12, NULL, $13, $14)`,
    [m.id, m.communityId, m.direction, m.type, m.messageId, m.conversationId, m.senderDomain, m.senderRole, m.recipientDomain,
      m.payloadXml, m.fingerprint, m.rejectionReason, duplicateOf, new Date(m.atMs)],
  );
}

/** The first stored message of a type with this MessageID in the community, in or out. */
export async function messageByUftpId(db: Queryable, communityId: string, type: string, messageId: string): Promise<StoredMessage | undefined> {
  const [row] = await db.query<MessageRow>(
    'SELECT * FROM flex_messages WHERE community_id = $1 AND type = $2 AND message_id = $3 AND duplicate_of IS NULL ORDER BY at LIMIT 1',
    [communityId, type, messageId],
  );
  return row && toMessage(row);
}

/** The first stored message of a sender with this MessageID (the Duplicate Identifier check). */
export async function firstOfSender(db: Queryable, communityId: string, senderDomain: string, messageId: string): Promise<StoredMessage | undefined> {
  const [row] = await db.query<MessageRow>(
    'SELECT * FROM flex_messages WHERE community_id = $1 AND sender_domain = $2 AND message_id = $3 AND duplicate_of IS NULL',
    [communityId, senderDomain, messageId],
  );
  return row && toMessage(row);
}

/** The answer sent to a stored message (what a repeated message is answered with again). */
export async function replyTo(db: Queryable, id: string): Promise<StoredMessage | undefined> {
  const [row] = await db.query<MessageRow>("SELECT * FROM flex_messages WHERE in_reply_to = $1 AND direction = 'out' ORDER BY at LIMIT 1", [id]);
  return row && toMessage(row);
}

export async function setMessageState(db: Queryable, id: string, state: MessageState, from: readonly MessageState[]): Promise<void> {
  await db.query('UPDATE flex_messages SET state = $2 WHERE id = $1 AND state = ANY($3::text[])', [id, state, from]);
}

export async function messagesOfCommunity(db: Queryable, communityId: string, filter: { conversationId?: string | undefined; limit: number }): Promise<StoredMessage[]> {
  const rows = await db.query<MessageRow>(
    `SELECT * FROM flex_messages WHERE community_id = $1 AND ($2::text IS NULL OR conversation_id = $2) ORDER BY at DESC, id LIMIT $3`,
    [communityId, filter.conversationId ?? null, filter.limit],
  );
  return rows.map(toMessage);
}

/** Each community's CROs (not barred) it sent no AGRPortfolioQuery since `sinceMs`, with the community's UFTP identity. */
export async function croQueriesDue(db: Queryable, sinceMs: number): Promise<Array<{ communityId: string; identityDomain: string; timeZone: string; croDomain: string }>> {
  const rows = await db.query<{ community_id: string; identity_domain: string; time_zone: string; cro_domain: string }>(
    `SELECT p.community_id, i.domain AS identity_domain, i.time_zone, p.domain AS cro_domain
     FROM flex_participants p JOIN flex_identities i ON i.community_id = p.community_id
     WHERE p.role = 'CRO' AND NOT p.barred AND NOT EXISTS (
       SELECT 1 FROM flex_messages m WHERE m.community_id = p.community_id AND m.direction = 'out' AND m.type = 'AGRPortfolioQuery'
         AND m.recipient_domain = p.domain AND m.duplicate_of IS NULL AND m.at > $1)
     ORDER BY p.community_id, p.domain`,
    [new Date(sinceMs)],
  );
  return rows.map((r) => ({ communityId: r.community_id, identityDomain: r.identity_domain, timeZone: r.time_zone, croDomain: r.cro_domain }));
}

/** The FlexOrders received and taken (accepted, or settled since), oldest first. */
export async function ordersTaken(db: Queryable, communityId: string): Promise<StoredMessage[]> {
  const rows = await db.query<MessageRow>(
    `SELECT * FROM flex_messages WHERE community_id = $1 AND type = 'FlexOrder' AND direction = 'in' AND duplicate_of IS NULL AND state IN ('accepted', 'settled')
     ORDER BY at, id`,
    [communityId],
  );
  return rows.map(toMessage);
}

// ---- the outbox ----

export interface Delivery {
  readonly id: string;
  readonly messageId: string;
  readonly communityId: string;
  readonly endpoint: string;
  readonly signedXml: string;
  readonly attempts: number;
  readonly retryUntilMs: number;
}

export async function queueDelivery(tx: Queryable, d: Delivery, nowMs: number): Promise<void> {
  await tx.query(
    `INSERT INTO flex_outbox (id, message_id, community_id, endpoint, signed_xml, next_attempt_at, retry_until, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $6)`,
    [d.id, d.messageId, d.communityId, d.endpoint, d.signedXml, new Date(nowMs), new Date(d.retryUntilMs)],
  );
}

/** Deliveries due now, oldest first; the communities they belong to are the units a pass leases. */
export async function dueDeliveries(db: Queryable, nowMs: number, limit: number): Promise<Delivery[]> {
  const rows = await db.query<{ id: string; message_id: string; community_id: string; endpoint: string; signed_xml: string; attempts: number; retry_until: Date }>(
    `SELECT id, message_id, community_id, endpoint, signed_xml, attempts, retry_until FROM flex_outbox
     WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at, created_at LIMIT $2`,
    [new Date(nowMs), limit],
  );
  return rows.map((r) => ({
    id: r.id, messageId: r.message_id, communityId: r.community_id, endpoint: r.endpoint, signedXml: r.signed_xml, attempts: r.attempts, retryUntilMs: r.retry_until.getTime(),
  }));
}

/** Records an attempt: delivered, failed for good, or to be tried again at `nextAttemptMs`. */
export async function recordAttempt(
  db: Queryable,
  id: string,
  outcome: { state: 'delivered' | 'failed'; atMs: number; error: string | null } | { state: 'pending'; nextAttemptMs: number; error: string },
): Promise<void> {
  if (outcome.state === 'pending') {
    await db.query(
      "UPDATE flex_outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1 AND state = 'pending'",
      [id, new Date(outcome.nextAttemptMs), outcome.error],
    );
    return;
  }
  await db.query(
    "UPDATE flex_outbox SET attempts = attempts + 1, state = $2, closed_at = $3, last_error = $4 WHERE id = $1 AND state = 'pending'",
    [id, outcome.state, new Date(outcome.atMs), outcome.error],
  );
}

export interface DeliveryView {
  readonly messageId: string;
  readonly state: 'pending' | 'delivered' | 'failed';
  readonly attempts: number;
  readonly lastError: string | null;
  readonly nextAttemptMs: number | null;
}

/** The latest delivery of each of these messages. */
export async function deliveriesOf(db: Queryable, messageIds: readonly string[]): Promise<Map<string, DeliveryView>> {
  if (messageIds.length === 0) return new Map();
  const rows = await db.query<{ message_id: string; state: DeliveryView['state']; attempts: number; last_error: string | null; next_attempt_at: Date }>(
    `SELECT DISTINCT ON (message_id) message_id, state, attempts, last_error, next_attempt_at FROM flex_outbox
     WHERE message_id = ANY($1::uuid[]) ORDER BY message_id, created_at DESC`,
    [messageIds],
  );
  return new Map(rows.map((r) => [r.message_id, {
    messageId: r.message_id, state: r.state, attempts: r.attempts, lastError: r.last_error, nextAttemptMs: r.state === 'pending' ? r.next_attempt_at.getTime() : null,
  }]));
}

// ---- contracts and the devices opted in to them ----

export interface StoredContract extends ContractTerms {
  readonly id: string;
  readonly communityId: string;
  readonly timeZone: string;
  readonly currency: string;
  readonly state: ContractState;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly activatedAtMs: number | null;
  readonly endedAtMs: number | null;
}

interface ContractRow {
  id: string;
  community_id: string;
  participant_id: string;
  congestion_points: string[];
  service_type: ServiceType;
  valid_from: string;
  valid_to: string;
  time_zone: string;
  windows: AvailabilityWindow[];
  currency: string;
  capacity_price: string;
  volume_price: string;
  penalty_rate: string;
  community_fee_bp: number;
  direct_orders: boolean;
  state: ContractState;
  created_at: Date;
  updated_at: Date;
  activated_at: Date | null;
  ended_at: Date | null;
}

const CONTRACT_COLUMNS = `id, community_id, participant_id, congestion_points, service_type, valid_from::text AS valid_from, valid_to::text AS valid_to,
  time_zone, windows, currency, capacity_price::text AS capacity_price, volume_price::text AS volume_price, penalty_rate::text AS penalty_rate, community_fee_bp, direct_orders, state,
  created_at, updated_at, activated_at, ended_at`;

const toContract = (r: ContractRow): StoredContract => ({
  id: r.id, communityId: r.community_id, participantId: r.participant_id, congestionPoints: r.congestion_points, serviceType: r.service_type,
  validFrom: r.valid_from, validTo: r.valid_to, timeZone: r.time_zone, windows: r.windows, currency: r.currency,
  capacityPrice: BigInt(r.capacity_price), volumePrice: BigInt(r.volume_price), penaltyRate: BigInt(r.penalty_rate), communityFeeBasisPoints: r.community_fee_bp, directOrders: r.direct_orders, state: r.state,
  createdAtMs: r.created_at.getTime(), updatedAtMs: r.updated_at.getTime(), activatedAtMs: r.activated_at?.getTime() ?? null, endedAtMs: r.ended_at?.getTime() ?? null,
});

const msOrNull = (ms: number | null) => (ms === null ? null : new Date(ms));

/** Inserts the contract or replaces its terms and state. */
export async function saveContract(db: Queryable, c: StoredContract): Promise<void> {
  await db.query(
    `INSERT INTO flex_contracts (id, community_id, participant_id, congestion_points, service_type, valid_from, valid_to, time_zone, windows, currency,
       capacity_price, volume_price, penalty_rate, state, created_at, updated_at, activated_at, ended_at, community_fee_bp, direct_orders)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11::bigint, $12::bigint, $13::bigint, $14, $15, $16, $17, $18, $19, $20)
     ON CONFLICT (id, community_id) DO UPDATE SET participant_id = EXCLUDED.participant_id, congestion_points = EXCLUDED.congestion_points,
       service_type = EXCLUDED.service_type, valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to, time_zone = EXCLUDED.time_zone,
       windows = EXCLUDED.windows, currency = EXCLUDED.currency, capacity_price = EXCLUDED.capacity_price, volume_price = EXCLUDED.volume_price,
       penalty_rate = EXCLUDED.penalty_rate, community_fee_bp = EXCLUDED.community_fee_bp, direct_orders = EXCLUDED.direct_orders, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at, activated_at = EXCLUDED.activated_at,
       ended_at = EXCLUDED.ended_at`,
    [c.id, c.communityId, c.participantId, [...c.congestionPoints], c.serviceType, c.validFrom, c.validTo, c.timeZone, JSON.stringify(c.windows), c.currency,
      c.capacityPrice.toString(), c.volumePrice.toString(), c.penaltyRate.toString(), c.state, new Date(c.createdAtMs), new Date(c.updatedAtMs),
      msOrNull(c.activatedAtMs), msOrNull(c.endedAtMs), c.communityFeeBasisPoints, c.directOrders],
  );
}

/** The contract, locked for the rest of the transaction when asked (state changes). */
export async function contractById(db: Queryable, id: string, options: { lock?: boolean } = {}): Promise<StoredContract | undefined> {
  const [row] = await db.query<ContractRow>(`SELECT ${CONTRACT_COLUMNS} FROM flex_contracts WHERE id = $1${options.lock ? ' FOR UPDATE' : ''}`, [id]);
  return row && toContract(row);
}

export async function contractsOfCommunity(db: Queryable, communityId: string, states?: readonly ContractState[]): Promise<StoredContract[]> {
  const rows = await db.query<ContractRow>(
    `SELECT ${CONTRACT_COLUMNS} FROM flex_contracts WHERE community_id = $1 AND ($2::text[] IS NULL OR state = ANY($2)) ORDER BY created_at, id`,
    [communityId, states ? [...states] : null],
  );
  return rows.map(toContract);
}

export interface Participation {
  readonly devices: number;
  readonly devicesWithoutLimit: number;
  readonly allowedPowerW: number;
}

/** Per contract: how many devices take part and the power their members allow (nothing about who). */
export async function participationOf(db: Queryable, contractIds: readonly string[]): Promise<Map<string, Participation>> {
  const rows = await db.query<{ contract_id: string; devices: number; unlimited: number; allowed: string }>(
    `SELECT contract_id, count(*)::int AS devices, count(*) FILTER (WHERE max_power_w IS NULL)::int AS unlimited, coalesce(sum(max_power_w), 0)::text AS allowed
     FROM flex_contract_devices WHERE contract_id = ANY($1::uuid[]) GROUP BY contract_id`,
    [[...contractIds]],
  );
  return new Map(rows.map((r) => [r.contract_id, { devices: r.devices, devicesWithoutLimit: r.unlimited, allowedPowerW: Number(r.allowed) }]));
}

export interface StoredOptIn {
  readonly contractId: string;
  readonly deviceId: string;
  readonly maxPowerW: number | null;
  readonly optedInAtMs: number;
}

/** Opts the device in, or changes its limit when it is in already. */
export async function saveOptIn(db: Queryable, optIn: StoredOptIn & { communityId: string; memberId: string }): Promise<void> {
  await db.query(
    `INSERT INTO flex_contract_devices (contract_id, device_id, community_id, member_id, max_power_w, opted_in_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (contract_id, device_id, community_id) DO UPDATE SET max_power_w = EXCLUDED.max_power_w, member_id = EXCLUDED.member_id`,
    [optIn.contractId, optIn.deviceId, optIn.communityId, optIn.memberId, optIn.maxPowerW, new Date(optIn.optedInAtMs)],
  );
}

export async function deleteOptIn(db: Queryable, contractId: string, deviceId: string): Promise<void> {
  await db.query('DELETE FROM flex_contract_devices WHERE contract_id = $1 AND device_id = $2', [contractId, deviceId]);
}

export async function optInsOfDevices(db: Queryable, deviceIds: readonly string[]): Promise<StoredOptIn[]> {
  const rows = await db.query<{ contract_id: string; device_id: string; max_power_w: number | null; opted_in_at: Date }>(
    'SELECT contract_id, device_id, max_power_w, opted_in_at FROM flex_contract_devices WHERE device_id = ANY($1::text[]) ORDER BY opted_in_at, contract_id',
    [[...deviceIds]],
  );
  return rows.map((r) => ({ contractId: r.contract_id, deviceId: r.device_id, maxPowerW: r.max_power_w, optedInAtMs: r.opted_in_at.getTime() }));
}

// ---- settlements (flex_member_baselines, flex_order_settlements, flex_rewards) ----

/** Accepted messages of a type in one direction (in: from `partyDomain`; out: to it), oldest first. */
export async function acceptedMessages(db: Queryable, communityId: string, type: string, direction: MessageDirection, partyDomain: string): Promise<StoredMessage[]> {
  const rows = await db.query<MessageRow>(
    `SELECT * FROM flex_messages WHERE community_id = $1 AND type = $2 AND direction = $3 AND duplicate_of IS NULL AND state = 'accepted'
       AND (CASE WHEN direction = 'in' THEN sender_domain ELSE recipient_domain END) = $4
     ORDER BY at, id`,
    [communityId, type, direction, partyDomain],
  );
  return rows.map(toMessage);
}

export interface MemberBaseline {
  readonly memberId: string;
  readonly isp: number;
  readonly baselineWh: number;
}

/** Replaces the members' baselines of a congestion point and Period (what the plan phase assumed). */
export async function replaceMemberBaselines(db: Queryable, communityId: string, congestionPoint: string, period: string, baselines: readonly MemberBaseline[]): Promise<void> {
  await db.query('DELETE FROM flex_member_baselines WHERE community_id = $1 AND congestion_point = $2 AND period = $3', [communityId, congestionPoint, period]);
  await db.query(
    `INSERT INTO flex_member_baselines (community_id, congestion_point, period, member_id, isp, baseline_wh)
     SELECT $1, $2, $3, m, i, b FROM unnest($4::uuid[], $5::int[], $6::int[]) AS u(m, i, b)`,
    [communityId, congestionPoint, period, baselines.map((b) => b.memberId), baselines.map((b) => b.isp), baselines.map((b) => b.baselineWh)],
  );
}

export async function memberBaselines(db: Queryable, communityId: string, congestionPoint: string, period: string): Promise<MemberBaseline[]> {
  const rows = await db.query<{ member_id: string; isp: number; baseline_wh: number }>(
    'SELECT member_id, isp, baseline_wh FROM flex_member_baselines WHERE community_id = $1 AND congestion_point = $2 AND period = $3',
    [communityId, congestionPoint, period],
  );
  return rows.map((r) => ({ memberId: r.member_id, isp: r.isp, baselineWh: r.baseline_wh }));
}

/** The members with a device opted in to the contract. */
export async function participatingMembers(db: Queryable, contractId: string): Promise<string[]> {
  const rows = await db.query<{ member_id: string }>('SELECT DISTINCT member_id FROM flex_contract_devices WHERE contract_id = $1 ORDER BY member_id', [contractId]);
  return rows.map((r) => r.member_id);
}

export interface StoredOrderSettlement {
  readonly id: string;
  readonly communityId: string;
  /** The stored FlexSettlement (flex_messages.id). */
  readonly settlementId: string;
  readonly orderReference: string;
  readonly period: string;
  readonly congestionPoint: string;
  readonly currency: string;
  readonly dso: { readonly price: bigint; readonly penalty: bigint; readonly net: bigint };
  readonly ours: { readonly price: bigint; readonly penalty: bigint; readonly net: bigint } | null;
  readonly disposition: 'Accepted' | 'Disputed';
  readonly disputeReason: string | null;
  /** Our per-ISP figures (baseline, ordered, actual, delivered, deficiency in W), or [] when they could not be computed. */
  readonly figures: readonly object[];
  readonly settledAtMs: number;
}

export async function insertOrderSettlement(tx: Queryable, s: StoredOrderSettlement): Promise<void> {
  await tx.query(
    `INSERT INTO flex_order_settlements (id, community_id, settlement_id, order_reference, period, congestion_point, currency, dso_price, dso_penalty, dso_net,
       our_price, our_penalty, our_net, disposition, dispute_reason, figures, settled_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bigint, $9::bigint, $10::bigint, $11::bigint, $12::bigint, $13::bigint, $14, $15, $16::jsonb, $17)`,
    [s.id, s.communityId, s.settlementId, s.orderReference, s.period, s.congestionPoint, s.currency, s.dso.price.toString(), s.dso.penalty.toString(), s.dso.net.toString(),
      s.ours?.price.toString() ?? null, s.ours?.penalty.toString() ?? null, s.ours?.net.toString() ?? null, s.disposition, s.disputeReason, JSON.stringify(s.figures), new Date(s.settledAtMs)],
  );
}

export async function orderSettlementsOf(db: Queryable, communityId: string, settlementId: string): Promise<StoredOrderSettlement[]> {
  const rows = await db.query<{
    id: string; community_id: string; settlement_id: string; order_reference: string; period: string; congestion_point: string; currency: string;
    dso_price: string; dso_penalty: string; dso_net: string; our_price: string | null; our_penalty: string | null; our_net: string | null;
    disposition: 'Accepted' | 'Disputed'; dispute_reason: string | null; figures: object[]; settled_at: Date;
  }>(
    `SELECT id, community_id, settlement_id, order_reference, period::text AS period, congestion_point, currency, dso_price::text AS dso_price,
       dso_penalty::text AS dso_penalty, dso_net::text AS dso_net, our_price::text AS our_price, our_penalty::text AS our_penalty, our_net::text AS our_net,
       disposition, dispute_reason, figures, settled_at
     FROM flex_order_settlements WHERE community_id = $1 AND settlement_id = $2 ORDER BY order_reference, id`,
    [communityId, settlementId],
  );
  return rows.map((r) => ({
    id: r.id, communityId: r.community_id, settlementId: r.settlement_id, orderReference: r.order_reference, period: r.period, congestionPoint: r.congestion_point,
    currency: r.currency, dso: { price: BigInt(r.dso_price), penalty: BigInt(r.dso_penalty), net: BigInt(r.dso_net) },
    ours: r.our_price === null ? null : { price: BigInt(r.our_price), penalty: BigInt(r.our_penalty!), net: BigInt(r.our_net!) },
    disposition: r.disposition, disputeReason: r.dispute_reason, figures: r.figures, settledAtMs: r.settled_at.getTime(),
  }));
}

export interface StoredReward {
  readonly orderSettlementId: string;
  readonly communityId: string;
  readonly memberId: string;
  readonly period: string;
  readonly currency: string;
  readonly contributionWh: number;
  readonly amountMinor: bigint;
  readonly recordedAtMs: number;
}

export async function insertRewards(tx: Queryable, rewards: readonly StoredReward[]): Promise<void> {
  if (rewards.length === 0) return;
  await tx.query(
    `INSERT INTO flex_rewards (order_settlement_id, community_id, member_id, period, currency, contribution_wh, amount_minor, recorded_at)
     SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::date[], $5::text[], $6::int8[], $7::int8[], $8::timestamptz[])`,
    [rewards.map((r) => r.orderSettlementId), rewards.map((r) => r.communityId), rewards.map((r) => r.memberId), rewards.map((r) => r.period),
      rewards.map((r) => r.currency), rewards.map((r) => r.contributionWh), rewards.map((r) => r.amountMinor.toString()), rewards.map((r) => new Date(r.recordedAtMs))],
  );
}

/** Members' rewards for orders of Periods from `first` to `last` (local dates, inclusive), per member and order. */
export async function rewardsOfPeriods(db: Queryable, communityId: string, first: string, last: string): Promise<Array<StoredReward & { readonly orderReference: string }>> {
  const rows = await db.query<{ order_settlement_id: string; member_id: string; period: string; currency: string; contribution_wh: string; amount_minor: string; recorded_at: Date; order_reference: string }>(
    `SELECT r.order_settlement_id, r.member_id, r.period::text AS period, r.currency, r.contribution_wh::text AS contribution_wh, r.amount_minor::text AS amount_minor,
       r.recorded_at, s.order_reference
     FROM flex_rewards r JOIN flex_order_settlements s ON s.id = r.order_settlement_id
     WHERE r.community_id = $1 AND r.period BETWEEN $2 AND $3 ORDER BY r.period, s.order_reference, r.member_id`,
    [communityId, first, last],
  );
  return rows.map((r) => ({
    orderSettlementId: r.order_settlement_id, communityId, memberId: r.member_id, period: r.period, currency: r.currency,
    contributionWh: Number(r.contribution_wh), amountMinor: BigInt(r.amount_minor), recordedAtMs: r.recorded_at.getTime(), orderReference: r.order_reference,
  }));
}
