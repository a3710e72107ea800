import type { Queryable } from '../../src/platform/store/db.js';
import { randomUUID } from 'node:crypto';

/** Registry rows inserted directly, for tests of one capability below the HTTP layer. */
export async function insertCommunityWithDevice(db: Queryable, deviceId = `dev-${randomUUID().slice(0, 8)}`) {
  const [user] = await db.query<{ id: string }>(
    `INSERT INTO users (email, display_name, password_hash) VALUES ($1, 'Fixture', 'x') RETURNING id`,
    [`${randomUUID()}@example.org`],
  );
  const [community] = await db.query<{ id: string }>(
    `INSERT INTO communities (name, time_zone, currency) VALUES ('Fixture', 'Europe/Vienna', 'EUR') RETURNING id`,
  );
  const [member] = await db.query<{ id: string }>(
    `INSERT INTO members (community_id, user_id, role, state, display_name) VALUES ($1, $2, 'member', 'active', 'M') RETURNING id`,
    [community!.id, user!.id],
  );
  const [point] = await db.query<{ id: string }>(
    `INSERT INTO metering_points (community_id, member_id, name, grid_connection_id, role) VALUES ($1, $2, 'Home', $3, 'prosumer') RETURNING id`,
    [community!.id, member!.id, `AT${randomUUID().replace(/-/g, '').slice(0, 20).toUpperCase()}`],
  );
  await db.query(`INSERT INTO devices (id, community_id, metering_point_id, kind, name) VALUES ($1, $2, $3, 'meter-reader', 'Reader')`,
    [deviceId, community!.id, point!.id]);
  return { userId: user!.id, communityId: community!.id, memberId: member!.id, meteringPointId: point!.id, deviceId };
}
