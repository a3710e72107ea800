import type { Queryable } from '../../platform/store/db.js';
import type { ActivationDirection, ActivationState } from '../domain/activation.js';

/** The only SQL on flex_activation_requests (read with the opt-ins of their devices). */

export interface StoredActivation {
  readonly id: string;
  readonly communityId: string;
  readonly orderMessageId: string;
  readonly congestionPoint: string;
  readonly period: string;
  readonly deviceId: string;
  readonly memberId: string;
  readonly firstIsp: number;
  readonly lastIsp: number;
  readonly startsAtMs: number;
  readonly endsAtMs: number;
  readonly direction: ActivationDirection;
  readonly state: ActivationState;
  readonly answeredAtMs: number | null;
  readonly createdAtMs: number;
}

interface Row {
  id: string; community_id: string; order_message_id: string; congestion_point: string; period: string | Date; device_id: string; member_id: string;
  first_isp: number; last_isp: number; starts_at: Date; ends_at: Date; direction: ActivationDirection; state: ActivationState; answered_at: Date | null; created_at: Date;
}

const COLUMNS = `id, community_id, order_message_id, congestion_point, period, device_id, member_id, first_isp, last_isp, starts_at, ends_at, direction, state,
  answered_at, created_at`;

const dateText = (value: string | Date) => (typeof value === 'string' ? value.slice(0, 10) : value.toISOString().slice(0, 10));
const ms = (value: Date | string) => new Date(value).getTime();

const toActivation = (r: Row): StoredActivation => ({
  id: r.id, communityId: r.community_id, orderMessageId: r.order_message_id, congestionPoint: r.congestion_point, period: dateText(r.period), deviceId: r.device_id,
  memberId: r.member_id, firstIsp: r.first_isp, lastIsp: r.last_isp, startsAtMs: ms(r.starts_at), endsAtMs: ms(r.ends_at), direction: r.direction, state: r.state,
  answeredAtMs: r.answered_at === null ? null : ms(r.answered_at), createdAtMs: ms(r.created_at),
});

/** Records the requests of an order (one per device; an order received again adds none). */
export async function insertActivations(db: Queryable, rows: readonly StoredActivation[]): Promise<void> {
  for (const a of rows) {
    await db.query(
      `INSERT INTO flex_activation_requests (${COLUMNS})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (order_message_id, device_id, community_id) DO NOTHING`,
      [a.id, a.communityId, a.orderMessageId, a.congestionPoint, a.period, a.deviceId, a.memberId, a.firstIsp, a.lastIsp, new Date(a.startsAtMs), new Date(a.endsAtMs),
        a.direction, a.state, a.answeredAtMs === null ? null : new Date(a.answeredAtMs), new Date(a.createdAtMs)],
    );
  }
}

/** A member's requests in a community that have not ended before `sinceMs`, soonest first. */
export async function activationsOfMember(db: Queryable, communityId: string, memberId: string, sinceMs: number): Promise<StoredActivation[]> {
  const rows = await db.query<Row>(
    `SELECT ${COLUMNS} FROM flex_activation_requests WHERE community_id = $1 AND member_id = $2 AND ends_at > $3 ORDER BY starts_at, id`,
    [communityId, memberId, new Date(sinceMs)],
  );
  return rows.map(toActivation);
}

/** The community's requests that have not ended before `sinceMs`, soonest first. */
export async function activationsOfCommunity(db: Queryable, communityId: string, sinceMs: number): Promise<StoredActivation[]> {
  const rows = await db.query<Row>(
    `SELECT ${COLUMNS} FROM flex_activation_requests WHERE community_id = $1 AND ends_at > $2 ORDER BY starts_at, order_message_id, id`,
    [communityId, new Date(sinceMs)],
  );
  return rows.map(toActivation);
}

export async function activationById(db: Queryable, id: string, options: { lock?: boolean } = {}): Promise<StoredActivation | undefined> {
  const [row] = await db.query<Row>(`SELECT ${COLUMNS} FROM flex_activation_requests WHERE id = $1${options.lock ? ' FOR UPDATE' : ''}`, [id]);
  return row && toActivation(row);
}

/** The answer: its state, when, and the power the member said they will move by hand (null: their opt-in's maximum). */
export async function setActivationState(db: Queryable, id: string, state: ActivationState, atMs: number, powerW: number | null): Promise<void> {
  await db.query('UPDATE flex_activation_requests SET state = $2, answered_at = $3, power_w = $4 WHERE id = $1', [id, state, new Date(atMs), powerW]);
}

/** The most power the device's member allows on the opt-in to the contract (null: no maximum set; undefined: not opted in). */
export async function optInMaxPowerW(db: Queryable, communityId: string, contractId: string, deviceId: string): Promise<number | null | undefined> {
  const [row] = await db.query<{ max_power_w: number | null }>(
    'SELECT max_power_w FROM flex_contract_devices WHERE community_id = $1 AND contract_id = $2 AND device_id = $3', [communityId, contractId, deviceId],
  );
  return row ? row.max_power_w : undefined;
}

/** An order's accepted requests with the power counted for each: what the member said when accepting or their opt-in's maximum, the smaller of the two (null: neither, an answer from before 0195). */
export async function acceptedAllowances(db: Queryable, communityId: string, orderMessageId: string, contractId: string): Promise<Array<{ firstIsp: number; lastIsp: number; direction: ActivationDirection; countedW: number | null }>> {
  const rows = await db.query<{ first_isp: number; last_isp: number; direction: ActivationDirection; counted_w: number | null }>(
    `SELECT a.first_isp, a.last_isp, a.direction, LEAST(a.power_w, d.max_power_w) AS counted_w FROM flex_activation_requests a
       JOIN flex_contract_devices d ON d.device_id = a.device_id AND d.community_id = a.community_id AND d.contract_id = $3
     WHERE a.community_id = $1 AND a.order_message_id = $2 AND a.state = 'accepted' ORDER BY a.id`,
    [communityId, orderMessageId, contractId],
  );
  return rows.map((r) => ({ firstIsp: r.first_isp, lastIsp: r.last_isp, direction: r.direction, countedW: r.counted_w }));
}
