import { signUp, unique, type TestPlatform, type TestUser } from './platform.js';

/**
 * Two communities and every kind of caller: A is public, B is private. Each community has a
 * manager and members; memberA owns a metering point with a device; A has a tariff.
 */
export interface World {
  managerA: TestUser;
  memberA: TestUser;
  memberA2: TestUser;
  managerB: TestUser;
  memberB: TestUser;
  /** Has an account and no community. */
  outsider: TestUser;
  communityA: string;
  communityB: string;
  memberIdA: string;
  memberIdA2: string;
  memberIdB: string;
  meteringPointA: string;
  meteringPointA2: string;
  deviceA: string;
  tariffA: string;
  /** A provisioned batch of two in A; its first device is bound to memberA's metering point as its billing meter (deviceA is a sub-meter there). */
  batchA: string;
  provisionedA: string;
}

export const communityBody = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  timeZone: 'Europe/Vienna',
  currency: 'EUR',
  ...extra,
});

async function ok(tp: TestPlatform, method: string, url: string, token: string, body?: unknown) {
  const response = await tp.call(method, url, { token, body });
  if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** When A's members take part in the sharing (see buildWorld). */
export const PARTICIPATION_START = '2020-01-01T00:00:00.000Z';

export async function buildWorld(tp: TestPlatform): Promise<World> {
  const [managerA, memberA, memberA2, managerB, memberB, outsider] = await Promise.all(
    ['managerA', 'memberA', 'memberA2', 'managerB', 'memberB', 'outsider'].map((name) => signUp(tp, name)),
  ) as [TestUser, TestUser, TestUser, TestUser, TestUser, TestUser];
  const communityA = (await ok(tp, 'POST', '/api/v1/communities', managerA.token,
    communityBody(unique('Community A '), { postcode: '1100', gridArea: 'AT-TEST', location: { latitude: 48.2, longitude: 16.37 } }))).id;
  const communityB = (await ok(tp, 'POST', '/api/v1/communities', managerB.token, communityBody(unique('Community B '), { isPublic: false }))).id;

  const requestA = await ok(tp, 'POST', `/api/v1/communities/${communityA}/join-requests`, memberA.token, { message: 'hello' });
  await ok(tp, 'POST', `/api/v1/members/${requestA.id}/approve`, managerA.token);
  const requestA2 = await ok(tp, 'POST', `/api/v1/communities/${communityA}/join-requests`, memberA2.token, {});
  await ok(tp, 'POST', `/api/v1/members/${requestA2.id}/approve`, managerA.token);
  const invitationB = await ok(tp, 'POST', `/api/v1/communities/${communityB}/invitations`, managerB.token, { email: memberB.email });
  const memberB1 = await ok(tp, 'POST', `/api/v1/invitations/${invitationB.id}/accept`, memberB.token);
  // The tests store energy of past months: the manager dates A's members' part in the sharing back,
  // as after the grid operator confirmed their metering points.
  for (const id of [requestA.id, requestA2.id]) await ok(tp, 'PATCH', `/api/v1/members/${id}`, managerA.token, { activeFrom: PARTICIPATION_START });

  const meteringPointA = (await ok(tp, 'POST', `/api/v1/communities/${communityA}/metering-points`, memberA.token,
    { name: 'Home A', gridConnectionId: unique('AT001GC'), role: 'prosumer', pvCapacityW: 6000 })).id;
  const meteringPointA2 = (await ok(tp, 'POST', `/api/v1/communities/${communityA}/metering-points`, memberA2.token,
    { name: 'Home A2', gridConnectionId: unique('AT001GC'), role: 'consumer' })).id;
  const deviceA = (await ok(tp, 'POST', `/api/v1/communities/${communityA}/devices`, managerA.token,
    { kind: 'meter-reader', name: 'Reader A', meteringPointId: meteringPointA, role: 'sub-load' })).id;
  const tariffA = (await ok(tp, 'POST', `/api/v1/communities/${communityA}/tariffs`, managerA.token,
    { name: 'Standard', gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', validFrom: '2026-01-01' })).id;

  const batch = await ok(tp, 'POST', `/api/v1/communities/${communityA}/device-batches`, managerA.token, { count: 2 });
  const provisionedA = batch.deviceIds[0];
  await ok(tp, 'PATCH', `/api/v1/devices/${provisionedA}`, managerA.token, { meteringPointId: meteringPointA });

  return {
    batchA: batch.id, provisionedA,
    managerA, memberA, memberA2, managerB, memberB, outsider, communityA, communityB,
    memberIdA: requestA.id, memberIdA2: requestA2.id, memberIdB: memberB1.id,
    meteringPointA, meteringPointA2, deviceA, tariffA,
  };
}

export interface Joiner { user: TestUser; memberId: string; pointId: string; gridConnectionId: string }

/** Someone new joins community A (approved by managerA) with a consumer metering point; `activeFrom` dates its part back. */
export async function joinA(tp: TestPlatform, w: World, name: string, activeFrom?: string): Promise<Joiner> {
  const user = await signUp(tp, name);
  const memberId = (await ok(tp, 'POST', `/api/v1/communities/${w.communityA}/join-requests`, user.token, {})).id;
  await ok(tp, 'POST', `/api/v1/members/${memberId}/approve`, w.managerA.token);
  if (activeFrom !== undefined) await ok(tp, 'PATCH', `/api/v1/members/${memberId}`, w.managerA.token, { activeFrom });
  const gridConnectionId = unique('ES0031JOIN').replace(/[^A-Z0-9]/gi, '').toUpperCase();
  const pointId = (await ok(tp, 'POST', `/api/v1/communities/${w.communityA}/metering-points`, user.token,
    { name: `Home ${name}`, gridConnectionId, role: 'consumer' })).id;
  return { user, memberId, pointId, gridConnectionId };
}
