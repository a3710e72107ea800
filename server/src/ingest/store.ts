import type { QuarterMark } from '../kernel/events.js';
import type { Queryable } from '../platform/store/db.js';

/**
 * The SQL of ingest's own tables: readings, meter_exchanges, device_state, device_events. Every
 * read takes a whole batch in one query (arrays through unnest), never one query per row.
 * The group commit's write statement stays in writer.ts until the events branch has replaced
 * its interval marks.
 */

/** A register value at an instant (epoch ms). */
export interface RegisterPoint {
  readonly ts: number;
  readonly value: number;
}

/** The newest stored value of each series (device and quantity at the same index); series never seen are absent. */
export async function latestRegisterValues(
  tx: Queryable,
  devices: readonly string[],
  quantities: readonly string[],
): Promise<{ deviceId: string; quantity: string; latest: RegisterPoint }[]> {
  const rows = await tx.query<{ device_id: string; quantity: string; ts: Date; value: number }>(
    `SELECT s.device_id, s.quantity, r.ts, r.value
     FROM unnest($1::text[], $2::text[]) AS s(device_id, quantity)
     CROSS JOIN LATERAL (
       SELECT ts, value FROM readings
       WHERE device_id = s.device_id AND quantity = s.quantity ORDER BY ts DESC LIMIT 1) r`,
    [devices, quantities],
  );
  return rows.map((r) => ({ deviceId: r.device_id, quantity: r.quantity, latest: { ts: r.ts.getTime(), value: r.value } }));
}

/** The stored readings just before and after each given reading of a series (same index in the three arrays). */
export async function registerNeighbours(
  tx: Queryable,
  devices: readonly string[],
  quantities: readonly string[],
  stamps: readonly Date[],
): Promise<{ deviceId: string; quantity: string; ts: number; previous: RegisterPoint | undefined; next: RegisterPoint | undefined }[]> {
  const rows = await tx.query<{ device_id: string; quantity: string; ts: Date; prev_ts: Date | null; prev_value: number | null; next_ts: Date | null; next_value: number | null }>(
    `SELECT s.device_id, s.quantity, s.ts, p.ts AS prev_ts, p.value AS prev_value, n.ts AS next_ts, n.value AS next_value
     FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS s(device_id, quantity, ts)
     LEFT JOIN LATERAL (SELECT ts, value FROM readings r
       WHERE r.device_id = s.device_id AND r.quantity = s.quantity AND r.ts < s.ts ORDER BY r.ts DESC LIMIT 1) p ON true
     LEFT JOIN LATERAL (SELECT ts, value FROM readings r
       WHERE r.device_id = s.device_id AND r.quantity = s.quantity AND r.ts > s.ts ORDER BY r.ts ASC LIMIT 1) n ON true`,
    [devices, quantities, stamps],
  );
  return rows.map((r) => ({
    deviceId: r.device_id,
    quantity: r.quantity,
    ts: r.ts.getTime(),
    previous: r.prev_ts ? { ts: r.prev_ts.getTime(), value: r.prev_value! } : undefined,
    next: r.next_ts ? { ts: r.next_ts.getTime(), value: r.next_value! } : undefined,
  }));
}

/** Every recorded meter exchange of the devices (epoch ms), per device; devices without one are absent. */
export async function meterExchangesOf(tx: Queryable, deviceIds: readonly string[]): Promise<Map<string, number[]>> {
  const rows = await tx.query<{ device_id: string; ts: Date }>('SELECT device_id, ts FROM meter_exchanges WHERE device_id = ANY($1::text[])', [deviceIds]);
  const byDevice = new Map<string, number[]>();
  for (const row of rows) {
    const stamps = byDevice.get(row.device_id);
    if (stamps) stamps.push(row.ts.getTime());
    else byDevice.set(row.device_id, [row.ts.getTime()]);
  }
  return byDevice;
}

/** Records that the meter behind a device was replaced at `ts`; recording the same instant again changes nothing. */
export async function recordMeterExchange(
  db: Queryable,
  exchange: { deviceId: string; communityId: string; ts: Date; note: string; recordedBy: string },
): Promise<void> {
  await db.query(
    `INSERT INTO meter_exchanges (device_id, ts, community_id, note, recorded_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT DO NOTHING`,
    [exchange.deviceId, exchange.ts, exchange.communityId, exchange.note, exchange.recordedBy],
  );
}

/** A device's ingest counters and last activity since it was first heard from. */
export interface StoredDeviceState {
  readonly deviceId: string;
  readonly lastSeenAt: Date | null;
  readonly messagesTotal: number;
  readonly readingsTotal: number;
  readonly duplicatesTotal: number;
  readonly rejectedTotal: number;
  readonly lastError: string | null;
  readonly lastErrorAt: Date | null;
}

/** The stored states of the devices; devices never heard from are absent. */
export async function loadDeviceStates(db: Queryable, deviceIds: readonly string[]): Promise<StoredDeviceState[]> {
  const rows = await db.query<{
    device_id: string; last_seen_at: Date | null; messages_total: number; readings_total: number; duplicates_total: number;
    rejected_total: number; last_error: string | null; last_error_at: Date | null;
  }>(
    `SELECT device_id, last_seen_at, messages_total, readings_total, duplicates_total, rejected_total, last_error, last_error_at
     FROM device_state WHERE device_id = ANY($1::text[])`,
    [deviceIds],
  );
  return rows.map((r) => ({
    deviceId: r.device_id, lastSeenAt: r.last_seen_at, messagesTotal: r.messages_total, readingsTotal: r.readings_total,
    duplicatesTotal: r.duplicates_total, rejectedTotal: r.rejected_total, lastError: r.last_error, lastErrorAt: r.last_error_at,
  }));
}

/** A reading as stored. */
export interface StoredReading {
  readonly deviceId: string;
  readonly ts: Date;
  readonly quantity: string;
  readonly value: number;
}

/** A time window (epoch ms; null: open on that side). */
export interface ReadingWindow {
  readonly from: number | null;
  readonly until: number | null;
}

const instant = (ms: number | null) => (ms === null ? null : new Date(ms));

/** `ts` inside one of the windows given as the arrays of starts ($from) and ends ($until) of a query. */
const inWindows = (from: number, until: number) => `EXISTS (SELECT 1 FROM unnest($${from}::timestamptz[], $${until}::timestamptz[]) AS w(f, u)
  WHERE (w.f IS NULL OR ts >= w.f) AND (w.u IS NULL OR ts < w.u))`;
const windowParams = (windows: readonly ReadingWindow[]) => [windows.map((w) => instant(w.from)), windows.map((w) => instant(w.until))];

/**
 * The readings of one device, or taken at one metering point, in [from, to) and inside one of
 * `windows`, of one quantity or all; in time then quantity order, at most `limit`.
 */
export async function readingsInWindows(
  db: Queryable,
  of: { readonly deviceId: string } | { readonly meteringPointId: string },
  range: { from: Date; to: Date; quantity: string | null; windows: readonly ReadingWindow[]; limit: number },
): Promise<StoredReading[]> {
  const [column, id] = 'deviceId' in of ? ['device_id', of.deviceId] : ['metering_point_id', of.meteringPointId];
  const rows = await db.query<{ device_id: string; ts: Date; quantity: string; value: number }>(
    `SELECT device_id, ts, quantity, value FROM readings
     WHERE ${column} = $1 AND ts >= $2 AND ts < $3 AND ($4::text IS NULL OR quantity = $4) AND ${inWindows(5, 6)}
     ORDER BY ts, quantity LIMIT $7`,
    [id, range.from, range.to, range.quantity, ...windowParams(range.windows), range.limit],
  );
  return rows.map((r) => ({ deviceId: r.device_id, ts: r.ts, quantity: r.quantity, value: r.value }));
}

/**
 * The newest reading of `quantity` of each device taken within [fromMs, toMs] (both ends
 * included), in one query; devices without one there are absent. A caller that must not see
 * readings stamped after its own now passes that now as `toMs`.
 */
export async function latestReadingsIn(
  db: Queryable, deviceIds: readonly string[], quantity: string, fromMs: number, toMs: number,
): Promise<StoredReading[]> {
  const rows = await db.query<{ device_id: string; ts: Date; value: number }>(
    `SELECT d.id AS device_id, r.ts, r.value
     FROM unnest($1::text[]) AS d(id)
     CROSS JOIN LATERAL (
       SELECT ts, value FROM readings
       WHERE device_id = d.id AND quantity = $2 AND ts >= $3 AND ts <= $4 ORDER BY ts DESC LIMIT 1) r
     ORDER BY d.id`,
    [deviceIds, quantity, new Date(fromMs), new Date(toMs)],
  );
  return rows.map((r) => ({ deviceId: r.device_id, ts: r.ts, quantity, value: r.value }));
}

/** PostgreSQL's SQLSTATE for a foreign-key violation. */
const FOREIGN_KEY_VIOLATION = '23503';

/** What the broker noticed about a device's connections. */
export type DeviceEventKind = 'session-takeover' | 'reconnects-limited';

/** One such event as it is recorded. */
export interface DeviceEvent {
  readonly device: { readonly id: string; readonly communityId: string };
  readonly kind: DeviceEventKind;
  readonly address: string | undefined;
  readonly previousAddress?: string | undefined;
}

/** Records a connection event; an event of a device deleted meanwhile is dropped (it has nobody to show it to). */
export async function recordDeviceEvent(db: Queryable, event: DeviceEvent): Promise<void> {
  try {
    await db.query(
      `INSERT INTO device_events (community_id, device_id, kind, address, previous_address) VALUES ($1, $2, $3, $4, $5)`,
      [event.device.communityId, event.device.id, event.kind, event.address ?? null, event.previousAddress ?? null],
    );
  } catch (error) {
    if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error;
  }
}

export interface StoredDeviceEvent {
  id: number;
  deviceId: string;
  kind: DeviceEventKind;
  address: string | null;
  previousAddress: string | null;
  at: string;
}

/** The newest events of a community's devices, or of one of them. */
export async function deviceEventsOf(
  db: Queryable,
  communityId: string,
  filter: { deviceId?: string | undefined; limit: number },
): Promise<StoredDeviceEvent[]> {
  const rows = await db.query<{ id: number; device_id: string; kind: DeviceEventKind; address: string | null; previous_address: string | null; at: Date }>(
    `SELECT id, device_id, kind, address, previous_address, at FROM device_events
     WHERE community_id = $1 AND ($2::text IS NULL OR device_id = $2) ORDER BY at DESC, id DESC LIMIT $3`,
    [communityId, filter.deviceId ?? null, filter.limit],
  );
  return rows.map((r) => ({ id: r.id, deviceId: r.device_id, kind: r.kind, address: r.address, previousAddress: r.previous_address, at: r.at.toISOString() }));
}

/** Series of metering points to read, each device and quantity at a point within [from, to] (the same index in every array). */
export interface SeriesProbes {
  readonly points: readonly string[];
  readonly devices: readonly string[];
  readonly quantities: readonly string[];
  readonly froms: readonly Date[];
  readonly tos: readonly Date[];
}

/** A reading taken at a metering point, shaped as the interval computation's rows. */
export interface PointReading {
  readonly point: string;
  readonly quantity: string;
  readonly device_id: string;
  readonly ts: Date;
  readonly value: number;
}

/** The origin of the UTC quarter-hour grid, for date_bin. */
const QUARTER_GRID = `TIMESTAMPTZ '2000-01-01 00:00:00+00'`;

/**
 * Every probe's readings in [from, to], plus the nearest one on each side within a day, in one
 * query. With `edgesOnly` only the first and last reading of each quarter hour come back (what
 * can bracket a quarter-hour boundary): the database walks the rest, nobody parses it.
 */
export async function readingsForIntervals(db: Queryable, probes: SeriesProbes, edgesOnly: boolean): Promise<PointReading[]> {
  const inside = `SELECT quantity, device_id, ts, value FROM readings
         WHERE device_id = u.d AND quantity = u.q AND ts >= u.f AND ts <= u.t AND metering_point_id = u.p`;
  return db.query<PointReading>(
    `SELECT u.p AS point, r.quantity, r.device_id, r.ts, r.value
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS u(p, d, q, f, t) CROSS JOIN LATERAL (
       ${edgesOnly ? `SELECT quantity, device_id, ts, value FROM (
         SELECT i.*, date_bin('15 minutes', i.ts, ${QUARTER_GRID}) AS slot,
           lag(date_bin('15 minutes', i.ts, ${QUARTER_GRID})) OVER w AS slot_before,
           lead(date_bin('15 minutes', i.ts, ${QUARTER_GRID})) OVER w AS slot_after
         FROM (${inside}) i WINDOW w AS (ORDER BY i.ts)) e
         WHERE slot_before IS DISTINCT FROM slot OR slot_after IS DISTINCT FROM slot` : inside}
       UNION ALL
       (SELECT quantity, device_id, ts, value FROM readings
        WHERE device_id = u.d AND quantity = u.q AND ts < u.f AND ts >= u.f - interval '24 hours' AND metering_point_id = u.p
        ORDER BY ts DESC LIMIT 1)
       UNION ALL
       (SELECT quantity, device_id, ts, value FROM readings
        WHERE device_id = u.d AND quantity = u.q AND ts > u.t AND ts <= u.t + interval '24 hours' AND metering_point_id = u.p
        ORDER BY ts ASC LIMIT 1)) r`,
    [probes.points, probes.devices, probes.quantities, probes.froms, probes.tos],
  );
}

/**
 * Per metering point, the earliest reading before its probes' ranges and the latest after them
 * (the nearest of each series within a day), in one query; null where there is none.
 */
export async function readingsAround(db: Queryable, probes: SeriesProbes): Promise<{ pointId: string; before: Date | null; after: Date | null }[]> {
  const rows = await db.query<{ point: string; before: Date | null; after: Date | null }>(
    `SELECT u.p AS point, min(b.ts) AS before, max(a.ts) AS after
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS u(p, d, q, f, t)
     LEFT JOIN LATERAL (SELECT ts FROM readings WHERE device_id = u.d AND quantity = u.q AND ts < u.f AND ts >= u.f - interval '24 hours'
       AND metering_point_id = u.p ORDER BY ts DESC LIMIT 1) b ON true
     LEFT JOIN LATERAL (SELECT ts FROM readings WHERE device_id = u.d AND quantity = u.q AND ts > u.t AND ts <= u.t + interval '24 hours'
       AND metering_point_id = u.p ORDER BY ts ASC LIMIT 1) a ON true
     GROUP BY u.p`,
    [probes.points, probes.devices, probes.quantities, probes.froms, probes.tos],
  );
  return rows.map((r) => ({ pointId: r.point, before: r.before, after: r.after }));
}

/**
 * Meter exchanges in each range of the devices that reported for its metering point there, in one
 * query. Starts from the few exchanges, not from the readings.
 */
export async function meterExchangesAt(
  db: Queryable,
  ranges: { readonly points: readonly string[]; readonly froms: readonly Date[]; readonly tos: readonly Date[] },
): Promise<{ pointId: string; deviceId: string; ts: Date }[]> {
  const rows = await db.query<{ point: string; device_id: string; ts: Date }>(
    `SELECT DISTINCT u.p AS point, e.device_id, e.ts
     FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS u(p, f, t)
     JOIN meter_exchanges e ON e.ts >= u.f AND e.ts <= u.t
     WHERE EXISTS (SELECT 1 FROM readings r WHERE r.device_id = e.device_id AND r.metering_point_id = u.p AND r.ts >= u.f AND r.ts <= u.t)`,
    [ranges.points, ranges.froms, ranges.tos],
  );
  return rows.map((r) => ({ pointId: r.point, deviceId: r.device_id, ts: r.ts }));
}

/** The first and last reading a device sent for a metering point; undefined when it sent none there. */
export async function readingSpan(db: Queryable, deviceId: string, meteringPointId: string): Promise<{ first: Date; last: Date } | undefined> {
  const rows = await db.query<{ first: Date | null; last: Date | null }>(
    'SELECT min(ts) AS first, max(ts) AS last FROM readings WHERE device_id = $1 AND metering_point_id = $2',
    [deviceId, meteringPointId],
  );
  const row = rows[0];
  return row?.first && row.last ? { first: row.first, last: row.last } : undefined;
}

/** Those of these devices that have sent readings. */
export async function devicesWithReadings(db: Queryable, deviceIds: readonly string[]): Promise<Set<string>> {
  const rows = await db.query<{ id: string }>(
    'SELECT id FROM unnest($1::text[]) AS id WHERE EXISTS (SELECT 1 FROM readings r WHERE r.device_id = id)', [deviceIds]);
  return new Set(rows.map((r) => r.id));
}

/** Deletes every reading of these devices (readings have no foreign key to devices: they outlive re-binding). */
export async function deleteReadingsOfDevices(tx: Queryable, deviceIds: readonly string[]): Promise<void> {
  await tx.query('DELETE FROM readings WHERE device_id = ANY($1::text[])', [deviceIds]);
}

/** A raw reading with where and when it arrived (the member's export). */
export interface ReceivedReading extends StoredReading {
  readonly meteringPointId: string | null;
  readonly receivedAt: Date;
}

/** Readings the member's export reads per query. */
const EXPORT_PAGE = 5_000;

/**
 * Every reading of a device inside `windows`, in time then quantity order, a page at a time, so a
 * device's whole history never sits in memory at once. No windows: nothing.
 */
export async function* deviceReadingsInWindows(db: Queryable, deviceId: string, windows: readonly ReadingWindow[]): AsyncGenerator<ReceivedReading> {
  if (windows.length === 0) return;
  let after: { ts: Date; quantity: string } | null = null;
  for (;;) {
    const rows: { ts: Date; quantity: string; value: number; metering_point_id: string | null; received_at: Date }[] = await db.query(
      `SELECT ts, quantity, value, metering_point_id, received_at FROM readings
       WHERE device_id = $1 AND ${inWindows(2, 3)} AND ($4::timestamptz IS NULL OR (ts, quantity) > ($4, $5::text))
       ORDER BY ts, quantity LIMIT $6`,
      [deviceId, ...windowParams(windows), after?.ts ?? null, after?.quantity ?? null, EXPORT_PAGE],
    );
    for (const r of rows) yield { deviceId, ts: r.ts, quantity: r.quantity, value: r.value, meteringPointId: r.metering_point_id, receivedAt: r.received_at };
    const last = rows.at(-1);
    if (!last || rows.length < EXPORT_PAGE) return;
    after = { ts: last.ts, quantity: last.quantity };
  }
}

/**
 * Deletes the readings of each device inside its windows (an erased member's periods with it).
 * Readings outside them — another member's time with the device — stay.
 */
export async function deleteReadingsInWindows(tx: Queryable, devices: readonly { deviceId: string; windows: readonly ReadingWindow[] }[]): Promise<void> {
  for (const { deviceId, windows } of devices) {
    if (windows.length > 0) await tx.query(`DELETE FROM readings WHERE device_id = $1 AND ${inWindows(2, 3)}`, [deviceId, ...windowParams(windows)]);
  }
}

/** Deletes every reading stored under these metering points (an erased member's sites). */
export async function deleteReadingsAtPoints(tx: Queryable, meteringPointIds: readonly string[]): Promise<void> {
  await tx.query('DELETE FROM readings WHERE metering_point_id = ANY($1::uuid[])', [meteringPointIds]);
}

/**
 * Retention (privacy's daily job): deletes a community's raw readings stamped before `cutoffMs`,
 * keeping each device's and quantity's newest one before it — the baseline a later register
 * reading is differenced against — so the quarter hours already made stay as they are and the
 * next ones can still be made. Returns how many went; a second call with the same cut-off deletes none.
 */
export async function deleteReadingsBefore(tx: Queryable, communityId: string, cutoffMs: number): Promise<number> {
  const rows = await tx.query<{ count: number }>(
    `WITH gone AS (
       DELETE FROM readings r WHERE r.community_id = $1 AND r.ts < $2
         AND r.ts < (SELECT max(k.ts) FROM readings k WHERE k.device_id = r.device_id AND k.quantity = r.quantity AND k.ts < $2)
       RETURNING 1)
     SELECT count(*)::int AS count FROM gone`,
    [communityId, new Date(cutoffMs)],
  );
  return rows[0]?.count ?? 0;
}

/**
 * Deletes every raw reading of a community (it left the platform), one partition per statement
 * (each month's, and the default one's); returns how many went. The key leads with the device, so
 * each statement reads its partition through: a community leaves rarely, and an index on
 * community_id would cost every group commit.
 */
export async function deleteCommunityReadings(tx: Queryable, communityId: string): Promise<number> {
  // The partitions job moves a month out of the default partition under its exclusive lock: taken
  // first, this waits for a move under way and holds off the next, so the list below is complete.
  await tx.exec('LOCK TABLE readings_default IN ROW EXCLUSIVE MODE');
  let deleted = 0;
  for (const name of await readingPartitionNames(tx)) {
    const table = name === 'readings_default' ? name : identifier(name);
    const [gone] = await tx.query<{ n: number }>(
      `WITH gone AS (DELETE FROM ${table} WHERE community_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`, [communityId]);
    deleted += gone?.n ?? 0;
  }
  return deleted;
}

/** The columns of one group commit's readings, in device order. */
export interface ReadingColumns {
  devices: string[];
  quantities: string[];
  stamps: string[];
  values: number[];
  communities: string[];
  points: (string | null)[];
}

/** What one group commit adds to each device's counters. */
export interface DeviceStateDelta {
  device: string;
  community: string;
  messages: number;
  /** Readings offered in accepted messages; those not stored were duplicates. */
  attempted: number;
  rejected: number;
  error: string | null;
}

/**
 * One statement stores a group commit's readings (repeats are skipped), adds to each device's
 * counters and returns how many readings each device stored and the quarter hours that new
 * readings touch. Rows go in device order, so concurrent commits take their row locks in the same order.
 */
export async function storeReadingsBatch(
  tx: Queryable, readings: ReadingColumns, states: readonly DeviceStateDelta[],
): Promise<{ storedByDevice: Map<string, number>; quarters: QuarterMark[] }> {
  const rows = await tx.query<{ device_id: string; n: number; community: string | null; point: string | null; start: Date | null }>(
    `WITH ins AS (
         INSERT INTO readings (device_id, quantity, ts, value, community_id, metering_point_id)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[], $5::uuid[], $6::uuid[])
         ON CONFLICT DO NOTHING
         RETURNING device_id, community_id, metering_point_id, ts),
       stored AS (SELECT device_id, count(*)::int AS n FROM ins GROUP BY device_id),
       state AS (
         INSERT INTO device_state AS s (device_id, community_id, last_seen_at, messages_total, readings_total, duplicates_total, rejected_total, last_error, last_error_at)
         SELECT u.d, u.c, now(), u.m, coalesce(st.n, 0), u.a - coalesce(st.n, 0), u.rj, u.e, CASE WHEN u.e IS NULL THEN NULL ELSE now() END
         FROM unnest($7::text[], $8::uuid[], $9::int8[], $10::int8[], $11::int8[], $12::text[]) AS u(d, c, m, a, rj, e)
         LEFT JOIN stored st ON st.device_id = u.d
         ORDER BY u.d
         ON CONFLICT (device_id, community_id) DO UPDATE SET
           last_seen_at = now(),
           messages_total = s.messages_total + EXCLUDED.messages_total,
           readings_total = s.readings_total + EXCLUDED.readings_total,
           duplicates_total = s.duplicates_total + EXCLUDED.duplicates_total,
           rejected_total = s.rejected_total + EXCLUDED.rejected_total,
           last_error = COALESCE(EXCLUDED.last_error, s.last_error),
           last_error_at = COALESCE(EXCLUDED.last_error_at, s.last_error_at))
       SELECT device_id, n, NULL::uuid AS community, NULL::uuid AS point, NULL::timestamptz AS start FROM stored
       UNION ALL
       SELECT DISTINCT NULL, NULL::int, community_id, metering_point_id, date_bin('15 minutes', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00') FROM ins
       WHERE metering_point_id IS NOT NULL`,
    [readings.devices, readings.quantities, readings.stamps, readings.values, readings.communities, readings.points,
      states.map((x) => x.device), states.map((x) => x.community), states.map((x) => x.messages),
      states.map((x) => x.attempted), states.map((x) => x.rejected), states.map((x) => x.error)],
  );
  const storedByDevice = new Map<string, number>();
  const quarters: QuarterMark[] = [];
  for (const row of rows) {
    if (row.point !== null) quarters.push({ communityId: row.community!, meteringPointId: row.point, startMs: row.start!.getTime() });
    else storedByDevice.set(row.device_id, row.n);
  }
  return { storedByDevice, quarters };
}

/** The last heartbeat of a device running `gridshare agent` (table agent_heartbeats). */
export interface AgentHeartbeatRow {
  readonly deviceId: string;
  readonly receivedAt: Date;
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly queueMessages: number;
  readonly queueReadings: number;
  readonly lastFrameAt: Date | null;
  readonly framesPerMinute: number;
  readonly checksumErrors: number;
  readonly transport: 'mqtt' | 'http' | 'offline';
  readonly controlMode: 'following' | 'safe' | null;
}

/** Keeps the newest heartbeat per device; one that arrives late (older than the stored one) changes nothing. */
export async function saveAgentHeartbeat(tx: Queryable, communityId: string, beat: AgentHeartbeatRow): Promise<void> {
  await tx.query(
    `INSERT INTO agent_heartbeats (device_id, received_at, version, uptime_seconds, queue_messages, queue_readings, last_frame_at, frames_per_minute, checksum_errors, transport, control_mode, community_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (device_id, community_id) DO UPDATE SET received_at = excluded.received_at, version = excluded.version, uptime_seconds = excluded.uptime_seconds,
       queue_messages = excluded.queue_messages, queue_readings = excluded.queue_readings, last_frame_at = excluded.last_frame_at,
       frames_per_minute = excluded.frames_per_minute, checksum_errors = excluded.checksum_errors, transport = excluded.transport, control_mode = excluded.control_mode
     WHERE agent_heartbeats.received_at <= excluded.received_at`,
    [beat.deviceId, beat.receivedAt, beat.version, beat.uptimeSeconds, beat.queueMessages, beat.queueReadings, beat.lastFrameAt, beat.framesPerMinute, beat.checksumErrors, beat.transport, beat.controlMode, communityId],
  );
}

export async function agentHeartbeatsOf(tx: Queryable, deviceIds: readonly string[]): Promise<AgentHeartbeatRow[]> {
  const rows = await tx.query<{
    device_id: string; received_at: Date; version: string; uptime_seconds: string | number; queue_messages: string | number; queue_readings: string | number;
    last_frame_at: Date | null; frames_per_minute: number; checksum_errors: string | number; transport: AgentHeartbeatRow['transport']; control_mode: AgentHeartbeatRow['controlMode'];
  }>('SELECT * FROM agent_heartbeats WHERE device_id = ANY($1::text[]) ORDER BY device_id', [deviceIds]);
  return rows.map((r) => ({
    deviceId: r.device_id, receivedAt: r.received_at, version: r.version, uptimeSeconds: Number(r.uptime_seconds), queueMessages: Number(r.queue_messages),
    queueReadings: Number(r.queue_readings), lastFrameAt: r.last_frame_at, framesPerMinute: r.frames_per_minute, checksumErrors: Number(r.checksum_errors),
    transport: r.transport, controlMode: r.control_mode,
  }));
}

// ---- Partitions of readings (one per UTC month, see domain/partitions.ts) ----

/** The names of the readings table's partitions, the default one included. */
export async function readingPartitionNames(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'readings'::regclass ORDER BY 1`);
  return rows.map((r) => r.name);
}

/** The UTC months (first instants) of which the default partition holds readings. */
export async function monthsInDefaultPartition(db: Queryable): Promise<Date[]> {
  const rows = await db.query<{ month: Date }>(
    `SELECT DISTINCT date_trunc('month', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month FROM readings_default ORDER BY 1`);
  return rows.map((r) => r.month);
}

/**
 * Creates the partition `name` for [from, to) and moves the default partition's readings of that
 * range into it; returns how many moved. The default partition is locked first (the attach needs
 * that lock anyway): a reading for the range committed between the move and the attach would make
 * the attach fail. Readings for other months go to their own partitions meanwhile.
 */
export async function createReadingPartition(tx: Queryable, name: string, from: Date, to: Date): Promise<number> {
  const [fromSql, toSql] = [timestampLiteral(from), timestampLiteral(to)];
  await tx.exec('LOCK TABLE readings_default IN ACCESS EXCLUSIVE MODE');
  await tx.exec(`CREATE TABLE ${identifier(name)} (LIKE readings INCLUDING DEFAULTS)`);
  const [moved] = await tx.query<{ n: number }>(
    `WITH moved AS (DELETE FROM readings_default WHERE ts >= $1 AND ts < $2 RETURNING *),
       copied AS (INSERT INTO ${identifier(name)} SELECT * FROM moved RETURNING 1)
     SELECT count(*)::int AS n FROM copied`, [from, to]);
  await tx.exec(`ALTER TABLE readings ATTACH PARTITION ${identifier(name)} FOR VALUES FROM (${fromSql}) TO (${toSql})`);
  return moved?.n ?? 0;
}

/** Detaches the partition `name` and drops it with its readings; returns how many readings it held. */
export async function dropReadingPartition(tx: Queryable, name: string): Promise<number> {
  const [held] = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${identifier(name)}`);
  await tx.exec(`ALTER TABLE readings DETACH PARTITION ${identifier(name)}`);
  await tx.exec(`DROP TABLE ${identifier(name)}`);
  return held?.n ?? 0;
}

/** Deletes the default partition's readings taken before `cutoff`; returns how many. */
export async function deleteDefaultReadingsBefore(db: Queryable, cutoff: Date): Promise<number> {
  const [deleted] = await db.query<{ n: number }>(
    'WITH gone AS (DELETE FROM readings_default WHERE ts < $1 RETURNING 1) SELECT count(*)::int AS n FROM gone', [cutoff]);
  return deleted?.n ?? 0;
}

// DDL takes no parameters: the names and bounds spliced in are made here from a Month, checked again.
function identifier(name: string): string {
  if (!/^readings_p\d{6}$/.test(name)) throw new Error(`not a readings partition name: ${name}`);
  return name;
}
const timestampLiteral = (at: Date) => `'${at.toISOString()}'::timestamptz`;

/**
 * What interpolating registers at bucket boundaries needs of the sites' readings of `quantities`:
 * per device, quantity and bucket its first and last reading, the readings either side of a drop
 * (a meter exchange), and the nearest reading within `marginMs` before the first boundary and
 * after the last. A meter that reports every minute thus costs two rows a bucket, not sixty.
 */
export async function registerReadingsAtBoundaries(
  db: Queryable, pointIds: readonly string[], quantities: readonly string[], bounds: readonly number[], marginMs: number,
): Promise<{ deviceId: string; quantity: string; ts: Date; value: number }[]> {
  if (pointIds.length === 0 || bounds.length < 2) return [];
  const rows = await db.query<{ device_id: string; quantity: string; ts: Date; value: number }>(
    `WITH ranged AS (
       SELECT device_id, quantity, ts, value, width_bucket(ts, $3::timestamptz[]) AS bucket
         FROM readings
        WHERE metering_point_id = ANY($1::uuid[]) AND quantity = ANY($2::text[]) AND ts >= $4 AND ts <= $5
     ), ranked AS (
       SELECT device_id, quantity, ts, value,
              row_number() OVER (PARTITION BY device_id, quantity, bucket ORDER BY ts) AS nth,
              row_number() OVER (PARTITION BY device_id, quantity, bucket ORDER BY ts DESC) AS nth_last,
              bucket,
              value < lag(value) OVER (PARTITION BY device_id, quantity ORDER BY ts) AS dropped,
              lead(value) OVER (PARTITION BY device_id, quantity ORDER BY ts) < value AS drops_next
         FROM ranged
     )
     SELECT device_id, quantity, ts, value FROM ranked
      WHERE (bucket = 0 AND nth_last = 1) OR (bucket = $6 AND nth = 1)
         OR (bucket > 0 AND bucket < $6 AND (nth = 1 OR nth_last = 1 OR dropped OR drops_next))
      ORDER BY device_id, quantity, ts`,
    [pointIds, quantities, bounds.map((b) => new Date(b)), new Date(bounds[0]! - marginMs), new Date(bounds[bounds.length - 1]! + marginMs), bounds.length],
  );
  return rows.map((r) => ({ deviceId: r.device_id, quantity: r.quantity, ts: r.ts, value: r.value }));
}

/**
 * A community's devices silent since before `silentSinceMs` whose outage (their last message) no
 * alert has told of yet, longest silent first; never-seen devices are not offline, only unused.
 */
export async function untoldOfflineDevices(db: Queryable, communityId: string, silentSinceMs: number, limit: number): Promise<{ deviceId: string; lastSeenMs: number }[]> {
  const rows = await db.query<{ device_id: string; last_seen_at: Date }>(
    `SELECT s.device_id, s.last_seen_at FROM device_state s
     WHERE s.community_id = $1 AND s.last_seen_at < $2
       AND NOT EXISTS (SELECT 1 FROM device_offline_alerts a WHERE a.device_id = s.device_id AND a.community_id = s.community_id AND a.last_seen_at = s.last_seen_at)
     ORDER BY s.last_seen_at, s.device_id LIMIT $3`,
    [communityId, new Date(silentSinceMs), limit],
  );
  return rows.map((r) => ({ deviceId: r.device_id, lastSeenMs: r.last_seen_at.getTime() }));
}

/** Records the alert of this outage; false when it was recorded already (another process, a replay). */
export async function recordOfflineAlert(tx: Queryable, communityId: string, deviceId: string, lastSeenMs: number, atMs: number): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO device_offline_alerts AS a (device_id, community_id, last_seen_at, alerted_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (device_id, community_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at, alerted_at = EXCLUDED.alerted_at
     WHERE a.last_seen_at IS DISTINCT FROM EXCLUDED.last_seen_at RETURNING device_id`,
    [deviceId, communityId, new Date(lastSeenMs), new Date(atMs)],
  );
  return rows.length === 1;
}
