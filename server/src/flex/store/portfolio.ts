import type { Queryable } from '../../platform/store/db.js';

/**
 * SQL of the plan and validate phases (migration 0149): congestion points and their connections,
 * D-Prognoses sent, offers made; and the FlexRequests that wait for the validate phase's answer.
 * The transport's tables are in ../store.ts.
 */

export type CongestionPointSource = 'manager' | 'cro';

export interface StoredCongestionPoint {
  readonly id: string;
  readonly communityId: string;
  readonly participantId: string;
  readonly entityAddress: string;
  readonly mutexOffersSupported: boolean;
  readonly prognosisGate: string;
  readonly source: CongestionPointSource;
  readonly connections: readonly string[];
  readonly updatedAtMs: number;
}

interface CongestionPointRow {
  id: string;
  community_id: string;
  participant_id: string;
  entity_address: string;
  mutex_offers_supported: boolean;
  prognosis_gate: string;
  source: CongestionPointSource;
  updated_at: Date;
  connections: string[] | null;
}

const CONGESTION_POINTS = `SELECT cp.*, (SELECT array_agg(c.entity_address ORDER BY c.entity_address) FROM flex_congestion_point_connections c WHERE c.congestion_point_id = cp.id) AS connections
  FROM flex_congestion_points cp`;

const toCongestionPoint = (r: CongestionPointRow): StoredCongestionPoint => ({
  id: r.id, communityId: r.community_id, participantId: r.participant_id, entityAddress: r.entity_address, mutexOffersSupported: r.mutex_offers_supported,
  prognosisGate: r.prognosis_gate, source: r.source, connections: r.connections ?? [], updatedAtMs: r.updated_at.getTime(),
});

export async function congestionPointsOfCommunity(db: Queryable, communityId: string): Promise<StoredCongestionPoint[]> {
  const rows = await db.query<CongestionPointRow>(`${CONGESTION_POINTS} WHERE cp.community_id = $1 ORDER BY cp.participant_id, cp.entity_address`, [communityId]);
  return rows.map(toCongestionPoint);
}

export async function congestionPointOf(db: Queryable, participantId: string, entityAddress: string): Promise<StoredCongestionPoint | undefined> {
  const [row] = await db.query<CongestionPointRow>(`${CONGESTION_POINTS} WHERE cp.participant_id = $1 AND cp.entity_address = $2`, [participantId, entityAddress]);
  return row && toCongestionPoint(row);
}

/** Replaces a DSO's congestion points of one source with `points` (those of the other source stay). */
export async function replaceCongestionPoints(tx: Queryable, participantId: string, source: CongestionPointSource, points: readonly StoredCongestionPoint[]): Promise<void> {
  await tx.query('DELETE FROM flex_congestion_points WHERE participant_id = $1 AND (source = $2 OR entity_address = ANY($3::text[]))',
    [participantId, source, points.map((p) => p.entityAddress)]);
  for (const p of points) {
    await tx.query(
      `INSERT INTO flex_congestion_points (id, community_id, participant_id, entity_address, mutex_offers_supported, prognosis_gate, source, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [p.id, p.communityId, p.participantId, p.entityAddress, p.mutexOffersSupported, p.prognosisGate, p.source, new Date(p.updatedAtMs)],
    );
    for (const connection of new Set(p.connections)) {
      await tx.query('INSERT INTO flex_congestion_point_connections (congestion_point_id, entity_address, community_id) VALUES ($1, $2, $3)', [p.id, connection, p.communityId]);
    }
  }
}

// ---- D-Prognoses ----

export interface StoredPrognosis {
  readonly messageId: string;
  readonly communityId: string;
  readonly participantId: string;
  readonly congestionPoint: string;
  readonly period: string;
  readonly revision: number;
  readonly powers: ReadonlyMap<number, number>;
  readonly sentAtMs: number;
}

const powersJson = (powers: ReadonlyMap<number, number>) => JSON.stringify(Object.fromEntries(powers));
const powersOf = (json: Record<string, number>) => new Map(Object.entries(json).map(([isp, w]) => [Number(isp), w]));

/** The latest revision sent for a congestion point and Period. */
export async function latestPrognosis(db: Queryable, participantId: string, congestionPoint: string, period: string): Promise<StoredPrognosis | undefined> {
  const [row] = await db.query<{ message_id: string; community_id: string; participant_id: string; congestion_point: string; period: string; revision: number; powers: Record<string, number>; sent_at: Date }>(
    `SELECT message_id, community_id, participant_id, congestion_point, to_char(period, 'YYYY-MM-DD') AS period, revision, powers, sent_at
     FROM flex_prognoses WHERE participant_id = $1 AND congestion_point = $2 AND period = $3 ORDER BY revision DESC LIMIT 1`,
    [participantId, congestionPoint, period],
  );
  return row && {
    messageId: row.message_id, communityId: row.community_id, participantId: row.participant_id, congestionPoint: row.congestion_point, period: row.period,
    revision: row.revision, powers: powersOf(row.powers), sentAtMs: row.sent_at.getTime(),
  };
}

export async function insertPrognosis(tx: Queryable, p: StoredPrognosis): Promise<void> {
  await tx.query(
    `INSERT INTO flex_prognoses (message_id, community_id, participant_id, congestion_point, period, revision, powers, sent_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)`,
    [p.messageId, p.communityId, p.participantId, p.congestionPoint, p.period, p.revision, powersJson(p.powers), new Date(p.sentAtMs)],
  );
}

// ---- offers ----

export interface StoredOffer {
  readonly messageId: string;
  readonly communityId: string;
  readonly contractId: string;
  /** The FlexRequest answered; null for an unsolicited offer. */
  readonly requestMessageId: string | null;
  readonly congestionPoint: string;
  readonly period: string;
  /** W per ISP: the plan without the request. */
  readonly baseline: ReadonlyMap<number, number>;
  readonly deviceIds: readonly string[];
  /** Nano-units: the plan with the request, and without it. */
  readonly planCost: bigint;
  readonly baselineCost: bigint;
  readonly createdAtMs: number;
}

interface OfferRow {
  message_id: string;
  community_id: string;
  contract_id: string;
  request_message_id: string | null;
  congestion_point: string;
  period: string;
  baseline: Record<string, number>;
  device_ids: string[];
  plan_cost: string;
  baseline_cost: string;
  created_at: Date;
}

const OFFER_COLUMNS = `message_id, community_id, contract_id, request_message_id, congestion_point, to_char(period, 'YYYY-MM-DD') AS period, baseline, device_ids,
  plan_cost::text AS plan_cost, baseline_cost::text AS baseline_cost, created_at`;

const toOffer = (r: OfferRow): StoredOffer => ({
  messageId: r.message_id, communityId: r.community_id, contractId: r.contract_id, requestMessageId: r.request_message_id, congestionPoint: r.congestion_point,
  period: r.period, baseline: powersOf(r.baseline), deviceIds: r.device_ids, planCost: BigInt(r.plan_cost), baselineCost: BigInt(r.baseline_cost), createdAtMs: r.created_at.getTime(),
});

export async function insertOffer(tx: Queryable, o: StoredOffer): Promise<void> {
  await tx.query(
    `INSERT INTO flex_offers (message_id, community_id, contract_id, request_message_id, congestion_point, period, baseline, device_ids, plan_cost, baseline_cost, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::text[], $9::bigint, $10::bigint, $11)`,
    [o.messageId, o.communityId, o.contractId, o.requestMessageId, o.congestionPoint, o.period, powersJson(o.baseline), [...o.deviceIds],
      o.planCost.toString(), o.baselineCost.toString(), new Date(o.createdAtMs)],
  );
}

/** The offer made with this UFTP MessageID (what an order or a settlement refers to). */
export async function offerByMessageId(db: Queryable, messageId: string): Promise<StoredOffer | undefined> {
  const [row] = await db.query<OfferRow>(`SELECT ${OFFER_COLUMNS} FROM flex_offers WHERE message_id = $1`, [messageId]);
  return row && toOffer(row);
}

export async function offersOfCommunity(db: Queryable, communityId: string, limit: number): Promise<StoredOffer[]> {
  const rows = await db.query<OfferRow>(`SELECT ${OFFER_COLUMNS} FROM flex_offers WHERE community_id = $1 ORDER BY created_at DESC, message_id LIMIT $2`, [communityId, limit]);
  return rows.map(toOffer);
}

// ---- FlexRequests waiting for the validate phase ----

export interface PendingRequest {
  readonly id: string;
  readonly communityId: string;
  readonly payloadXml: string;
  readonly senderDomain: string;
}

/** Accepted FlexRequests not answered yet (the transport left their answer to the validate phase), oldest first. */
export async function pendingRequests(db: Queryable, limit: number): Promise<PendingRequest[]> {
  const rows = await db.query<{ id: string; community_id: string; payload_xml: string; sender_domain: string }>(
    `SELECT m.id, m.community_id, m.payload_xml, m.sender_domain FROM flex_messages m
     WHERE m.type = 'FlexRequest' AND m.direction = 'in' AND m.state = 'accepted' AND m.duplicate_of IS NULL
       AND NOT EXISTS (SELECT 1 FROM flex_messages r WHERE r.in_reply_to = m.id)
     ORDER BY m.at, m.id LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ id: r.id, communityId: r.community_id, payloadXml: r.payload_xml, senderDomain: r.sender_domain }));
}

/** Each congestion point of an active contract, once per DSO and community (what D-Prognoses are made for). */
export async function contractedCongestionPoints(db: Queryable): Promise<{ communityId: string; participantId: string; congestionPoint: string }[]> {
  const rows = await db.query<{ community_id: string; participant_id: string; congestion_point: string }>(
    `SELECT DISTINCT community_id, participant_id, unnest(congestion_points) AS congestion_point FROM flex_contracts WHERE state = 'active'
     ORDER BY community_id, participant_id, congestion_point`,
  );
  return rows.map((r) => ({ communityId: r.community_id, participantId: r.participant_id, congestionPoint: r.congestion_point }));
}
