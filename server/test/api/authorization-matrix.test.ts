import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/stores.js';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, communityBody, type World } from '../support/world.js';
import { consumptionRecordXml } from '../sharing/eda/support/messages.js';
import { deviceCredentials, sasFor } from '../support/devices.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { recordHeartbeat } from '../../src/ingest/index.js';
import { formatVerifierKey, SIGNATURE_TYPE } from '../../src/ledger/domain/index.js';
import { ed25519PublicKey } from '../../src/ledger/domain/crypto.js';
import { insertPayoutRequests } from '../../src/market/store.js';
import { confirmedCloseUrl } from '../support/settlements.js';
import { PRIVACY_EXPORTS_JOB } from '../../src/privacy/index.js';
import { camt053 } from '../billing/sepa/camt-fixture.js';

const ROLES = ['anonymous', 'memberA', 'memberA2', 'memberB', 'managerA', 'managerB', 'admin'] as const;
type Role = (typeof ROLES)[number];
type Expectation = Record<Role, number>;

const everyone = (status: number): Expectation => Object.fromEntries(ROLES.map((r) => [r, status])) as Expectation;
const usersOnly = (status: number): Expectation => ({ ...everyone(status), anonymous: 401 });
/** A witness's cosignature verifier key (c2sp.org/tlog-cosignature) for the ledger's witness routes. */
const MATRIX_WITNESS_KEY = formatVerifierKey('matrix.witness/1', SIGNATURE_TYPE.cosignatureV1, ed25519PublicKey(new Uint8Array(32).fill(7)));
const adminOnly = (status: number): Expectation => ({ ...everyone(403), anonymous: 401, admin: status });
/** The resource belongs to memberA: they, A's managers and admins; nobody else learns it exists. */
const ownerOfA = (status: number, owner = status): Expectation => ({
  anonymous: 401, memberA: owner, memberA2: 404, memberB: 404, managerA: status, managerB: 404, admin: status,
});
/** Visible to all of A; changing it is for A's managers. */
const managersOfA = (status: number, members = 403): Expectation => ({
  anonymous: 401, memberA: members, memberA2: members, memberB: 404, managerA: status, managerB: 404, admin: status,
});
const membersOfA = (status: number) => managersOfA(status, status);

interface Case {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The route as registered, to check that every route has a case. */
  route: string;
  /** The concrete URL; may create a fresh resource first so destructive calls never disturb other cases. */
  url: (w: World, tp: TestPlatform) => string | Promise<string>;
  body?: (w: World) => unknown;
  /** A body sent as is with its content type, e.g. a file. */
  file?: (w: World) => { contentType: string; text: string };
  expect: Expectation;
  /** A streaming route: only the status is read, over real HTTP, then the stream is dropped. */
  stream?: boolean;
  /** Extra checks on a successful answer, e.g. that a member sees only their own rows. */
  check?: (role: Role, body: any, w: World) => void;
}

async function freshCommunity(tp: TestPlatform, w: World): Promise<string> {
  const response = await tp.call('POST', '/api/v1/communities', { token: w.managerA.token, body: communityBody(unique('Temp ')) });
  return response.body.id;
}

/** A new account of its own, for changes to accounts. */
async function freshUser(tp: TestPlatform): Promise<string> {
  const response = await tp.call('POST', '/api/v1/auth/signup', { body: { email: `${unique('account')}@example.org`, password: 'account-password-1', displayName: 'Account' } });
  return response.body.id;
}

async function invitationToA(tp: TestPlatform, w: World, email: string): Promise<string> {
  const response = await tp.call('POST', `/api/v1/communities/${w.communityA}/invitations`, { token: w.managerA.token, body: { email } });
  if (response.status !== 201) throw new Error(`invitation: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id;
}

/** A fresh invitation of memberB to a new community of managerA's. */
async function invitationToMemberB(tp: TestPlatform, w: World): Promise<string> {
  const communityId = await freshCommunity(tp, w);
  const response = await tp.call('POST', `/api/v1/communities/${communityId}/invitations`, { token: w.managerA.token, body: { email: w.memberB.email } });
  return response.body.id;
}

async function freshMemberOfA(tp: TestPlatform, w: World, state: 'requested' | 'active'): Promise<string> {
  const email = `${unique('joiner')}@example.org`;
  const signup = await tp.call('POST', '/api/v1/auth/signup', { body: { email, password: 'joiner-password-1', displayName: 'Joiner' } });
  const cookie = String(signup.headers['set-cookie']).split(';')[0]!;
  const request = await tp.call('POST', `/api/v1/communities/${w.communityA}/join-requests`, { cookie, body: {} });
  if (state === 'active') await tp.call('POST', `/api/v1/members/${request.body.id}/approve`, { token: w.managerA.token });
  return request.body.id;
}

/** An http-json connector of A's (with a secret) reading nothing that answers; disabled unless asked. */
const connectorConfig = () => ({
  auth: { type: 'bearer', token: 'matrix-secret-token' },
  steps: [{ url: 'http://127.0.0.1:9/readings' }],
  mapping: { timestamp: '$.t', values: [{ field: '$.v', target: 'meter', quantity: 'power.import', unit: 'W' }] },
});
async function connectorOfA(tp: TestPlatform, w: World, enabled = false): Promise<string> {
  const response = await tp.call('POST', `/api/v1/communities/${w.communityA}/connectors`, {
    token: w.managerA.token, body: { kind: 'http-json', name: unique('Connector '), config: connectorConfig(), enabled, intervalS: 3_600 },
  });
  if (response.status !== 201) throw new Error(`connector: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id;
}
/** A smart plug on memberA's site, controllable by the plan if asked (its member allowed it). */
async function plugOfA(tp: TestPlatform, w: World, controllable: boolean): Promise<string> {
  const plug = await tp.call('POST', `/api/v1/communities/${w.communityA}/devices`, {
    token: w.managerA.token, body: { kind: 'smart-plug', name: unique('Plug '), meteringPointId: w.meteringPointA, role: 'sub-load' },
  });
  if (controllable) await tp.call('PUT', `/api/v1/devices/${plug.body.id}/control`, { token: w.memberA.token, body: { controllable: true } });
  return plug.body.id;
}
/** One plan of A, made once per world (each store kind has its own). */
const plansOfA = new WeakMap<World, string>();
async function planOfA(tp: TestPlatform, w: World): Promise<string> {
  let id = plansOfA.get(w);
  if (!id) {
    id = (await tp.call('POST', `/api/v1/communities/${w.communityA}/plan/replan`, { token: w.managerA.token })).body.id as string;
    plansOfA.set(w, id);
  }
  return id;
}
const noSecret = (_role: Role, body: any) => expect(JSON.stringify(body)).not.toContain('matrix-secret-token');

/** Only memberA themself; A's managers and admins see the member exists (403); others learn nothing (404). */
const onlyMemberA = (status: number): Expectation => ownerOfA(403, status);

/** memberA lets memberA2 read a day of hourly import of A's home. */
const consentOfA = (w: World) => ({
  recipient: { kind: 'member', id: w.memberIdA2, label: 'Neighbour' },
  scope: { meteringPoints: [w.meteringPointA], quantities: ['import'], resolution: '1h', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' },
  purpose: { code: 'peer-comparison', statement: 'Compare our mornings.' },
  validUntil: new Date(Date.now() + 30 * 86_400_000).toISOString(),
});
async function grantOfA(tp: TestPlatform, w: World): Promise<string> {
  const response = await tp.call('POST', `/api/v1/members/${w.memberIdA}/consents`, { token: w.memberA.token, body: consentOfA(w) });
  if (response.status !== 201) throw new Error(`consent: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id;
}
/** memberA lets a researcher read the same day; the grant's recipient token comes back once. */
async function researchGrantOfA(tp: TestPlatform, w: World, validForMs = 30 * 86_400_000): Promise<{ id: string; token: string }> {
  const response = await tp.call('POST', `/api/v1/members/${w.memberIdA}/consents`, {
    token: w.memberA.token,
    body: { ...consentOfA(w), recipient: { kind: 'researcher', id: 'matrix-lab', label: 'Matrix Lab' }, validUntil: new Date(Date.now() + validForMs).toISOString() },
  });
  if (response.status !== 201) throw new Error(`consent: ${response.status} ${JSON.stringify(response.body)}`);
  return { id: response.body.id, token: response.body.recipientToken };
}
/** memberA offers a day of daily import of A's home for free to the community's members. */
const offerOfA = (w: World) => ({
  scope: { meteringPoints: [w.meteringPointA], quantities: ['import'], resolution: '1d', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' },
  description: 'A day of my home.', audience: 'members', price: '0', grantValidityDays: 30,
  openUntil: new Date(Date.now() + 30 * 86_400_000).toISOString(),
});
async function dataOfferOfA(tp: TestPlatform, w: World): Promise<string> {
  const response = await tp.call('POST', `/api/v1/members/${w.memberIdA}/data-offers`, { token: w.memberA.token, body: offerOfA(w) });
  if (response.status !== 201) throw new Error(`offer: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id;
}
/** memberA's export, made by the job (done, so its file is there). */
async function exportJobOfA(tp: TestPlatform, w: World): Promise<string> {
  const response = await tp.call('POST', `/api/v1/members/${w.memberIdA}/export-jobs`, { token: w.memberA.token });
  if (response.status !== 202) throw new Error(`export job: ${response.status} ${JSON.stringify(response.body)}`);
  await tp.platform.jobs.flush(PRIVACY_EXPORTS_JOB);
  return response.body.id;
}
const seriesOf = (w: World, grantId: string, resolution = '1h') =>
  `/api/v1/consents/${grantId}/series?meteringPoint=${w.meteringPointA}&quantity=import&resolution=${resolution}&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`;
/** A's market opened by its manager (the same settings every time). */
async function openMarketOfA(tp: TestPlatform, w: World): Promise<void> {
  const response = await tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, {
    token: w.managerA.token,
    body: { mechanism: 'uniform', gateLeadMinutes: 5, gridFee: '0.0000', floor: null, ceiling: null, surplusPrice: '0.0500', shortfallPrice: '0.3000' },
  });
  if (response.status !== 200) throw new Error(`market settings: ${response.status} ${JSON.stringify(response.body)}`);
}
/** A quarter hour a day ahead: its gate is open. */
const openSlot = () => new Date(Math.ceil(Date.now() / 900_000) * 900_000 + 86_400_000).toISOString();
const orderBody = () => ({ slotStart: openSlot(), side: 'buy', energyWh: 500, price: '0.1500' });
async function orderOfA(tp: TestPlatform, w: World): Promise<string> {
  await openMarketOfA(tp, w);
  const response = await tp.call('POST', `/api/v1/members/${w.memberIdA}/market/orders`, { token: w.memberA.token, body: orderBody() });
  if (response.status !== 201) throw new Error(`order: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id;
}
/** A cleared slot of A: the market job clears the slots whose gate has closed. */
async function clearedSlotOfA(tp: TestPlatform, w: World): Promise<string> {
  await openMarketOfA(tp, w);
  await tp.platform.market.flush();
  const slots = await tp.call('GET', `/api/v1/communities/${w.communityA}/market/slots?limit=1`, { token: w.managerA.token });
  return slots.body[0].slotStart;
}
/** A fresh posting of A's wallet (a top-up), for A to dispute: its sequence, read by the case's body. */
let postingOfA = 0;
async function freshPostingOfA(tp: TestPlatform, w: World): Promise<number> {
  await openMarketOfA(tp, w);
  const response = await tp.call('POST', `/api/v1/communities/${w.communityA}/market/top-ups`, {
    token: w.managerA.token, body: { memberId: w.memberIdA, amount: '1.00', reference: 'matrix' },
  });
  if (response.status !== 201) throw new Error(`top-up: ${response.status} ${JSON.stringify(response.body)}`);
  postingOfA = response.body.sequence;
  return postingOfA;
}
/** A fresh open dispute of A's. */
async function disputeOfA(tp: TestPlatform, w: World): Promise<string> {
  const response = await tp.call('POST', `/api/v1/members/${w.memberIdA}/market/disputes`, {
    token: w.memberA.token, body: { posting: await freshPostingOfA(tp, w), reason: 'matrix' },
  });
  if (response.status !== 201) throw new Error(`dispute: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id;
}
/** A fresh payout request of A's for 0.01 (a period of its own: one request per member and month), its wallet funded first. */
let payoutPeriods = 0;
async function payoutOfA(tp: TestPlatform, w: World): Promise<string> {
  await freshPostingOfA(tp, w);
  const id = randomUUID();
  await insertPayoutRequests(tp.platform.db, w.communityA, `19${String(++payoutPeriods).padStart(2, '0')}-01`, [{ id, memberId: w.memberIdA, amount: 10_000_000n }], Date.now());
  return id;
}
const ownOrdersOnly = (_role: Role, body: any, w: World) => expect(body.every((o: { memberId: string }) => o.memberId === w.memberIdA)).toBe(true);

const cases: Case[] = [
  { method: 'POST', route: '/api/v1/auth/signup', url: () => '/api/v1/auth/signup',
    body: () => ({ email: `${unique('new')}@example.org`, password: 'a-long-password', displayName: 'New' }), expect: everyone(201) },
  { method: 'POST', route: '/api/v1/auth/login', url: () => '/api/v1/auth/login',
    body: (w) => ({ email: w.memberA.email, password: w.memberA.password }), expect: everyone(200) },
  // Public: the answer never says whether the account exists, whoever asks.
  { method: 'POST', route: '/api/v1/auth/password-reset', url: () => '/api/v1/auth/password-reset',
    body: (w) => ({ email: w.memberA.email }), expect: everyone(202) },
  // Public: the emailed token is the credential; a session adds nothing to a token that was never issued.
  { method: 'POST', route: '/api/v1/auth/password-reset/confirm', url: () => '/api/v1/auth/password-reset/confirm',
    body: () => ({ token: Buffer.alloc(32, 9).toString('base64url'), newPassword: 'a-long-password' }), expect: everyone(400) },
  // Public like the reset: the emailed token is the credential.
  { method: 'POST', route: '/api/v1/auth/verify-email', url: () => '/api/v1/auth/verify-email',
    body: () => ({ token: Buffer.alloc(32, 8).toString('base64url') }), expect: everyone(400) },
  { method: 'POST', route: '/api/v1/auth/logout', url: () => '/api/v1/auth/logout', expect: everyone(204) },
  { method: 'GET', route: '/api/v1/me', url: () => '/api/v1/me', expect: usersOnly(200) },
  // Every account here is verified (no mail server: verified at once): asking again is a conflict, never someone else's link.
  { method: 'POST', route: '/api/v1/me/verification-email', url: () => '/api/v1/me/verification-email', expect: usersOnly(409) },
  { method: 'PATCH', route: '/api/v1/me', url: () => '/api/v1/me', body: () => ({ locale: null }), expect: usersOnly(200),
    check: (_role, body) => expect(body.locale).toBeNull() },
  { method: 'POST', route: '/api/v1/me/password', url: () => '/api/v1/me/password',
    body: () => ({ currentPassword: 'not-the-password', newPassword: 'another-long-password' }), expect: usersOnly(403) },
  { method: 'GET', route: '/api/v1/me/tokens', url: () => '/api/v1/me/tokens', expect: usersOnly(200) },
  { method: 'POST', route: '/api/v1/me/tokens', url: () => '/api/v1/me/tokens', body: () => ({ name: 'ci' }), expect: usersOnly(201) },
  { method: 'DELETE', route: '/api/v1/me/tokens/:id',
    url: async (w, tp) => `/api/v1/me/tokens/${(await tp.call('POST', '/api/v1/me/tokens', { token: w.memberA.token, body: { name: 'x' } })).body.id}`,
    expect: { ...usersOnly(404), memberA: 204 } },
  { method: 'GET', route: '/api/v1/users', url: () => '/api/v1/users', expect: adminOnly(200) },
  { method: 'GET', route: '/api/v1/secrets', url: () => '/api/v1/secrets', expect: adminOnly(200) },
  { method: 'POST', route: '/api/v1/secrets/rotate', url: () => '/api/v1/secrets/rotate', expect: adminOnly(200) },

  { method: 'GET', route: '/api/v1/communities', url: () => '/api/v1/communities', expect: everyone(200),
    check: (role, body, w) => {
      const ids = body.map((c: { id: string }) => c.id);
      expect(ids).toContain(w.communityA);
      // The private community is listed only for its members and admins.
      expect(ids.includes(w.communityB)).toBe(['memberB', 'managerB', 'admin'].includes(role));
    } },
  { method: 'GET', route: '/api/v1/communities/compare', url: (w) => `/api/v1/communities/compare?ids=${w.communityA}`, expect: everyone(200) },
  { method: 'POST', route: '/api/v1/communities', url: () => '/api/v1/communities', body: () => communityBody(unique('New ')), expect: usersOnly(201) },
  { method: 'GET', route: '/api/v1/communities/:id', url: (w) => `/api/v1/communities/${w.communityA}`, expect: everyone(200) },
  { method: 'GET', route: '/api/v1/communities/:id', url: (w) => `/api/v1/communities/${w.communityB}`,
    expect: { ...everyone(404), memberB: 200, managerB: 200, admin: 200 } },
  { method: 'PATCH', route: '/api/v1/communities/:id', url: (w) => `/api/v1/communities/${w.communityA}`,
    body: () => ({ description: 'changed' }), expect: managersOfA(200) },
  { method: 'DELETE', route: '/api/v1/communities/:id', url: (w, tp) => freshCommunity(tp, w).then((id) => `/api/v1/communities/${id}`),
    expect: adminOnly(204) },

  { method: 'GET', route: '/api/v1/communities/:id/members', url: (w) => `/api/v1/communities/${w.communityA}/members`,
    expect: membersOfA(200),
    check: (role, body, w) => {
      const ids = body.map((m: { id: string }) => m.id);
      if (role === 'memberA') expect(ids).toEqual([w.memberIdA]);
      if (role === 'memberA2') expect(ids).toEqual([w.memberIdA2]);
      if (role === 'managerA' || role === 'admin') expect(ids).toEqual(expect.arrayContaining([w.memberIdA, w.memberIdA2]));
    } },
  { method: 'POST', route: '/api/v1/communities/:id/invitations', url: (w) => `/api/v1/communities/${w.communityA}/invitations`,
    body: () => ({ email: `${unique('invited')}@example.org` }), expect: managersOfA(201),
    check: (_role, body) => expect(Object.keys(body).sort()).toEqual(['communityId', 'createdAt', 'decidedAt', 'email', 'id', 'role', 'state']) },
  { method: 'GET', route: '/api/v1/communities/:id/invitations', url: (w) => `/api/v1/communities/${w.communityA}/invitations`, expect: managersOfA(200) },
  { method: 'DELETE', route: '/api/v1/invitations/:id', url: (w, tp) => invitationToA(tp, w, `${unique('revoked')}@example.org`).then((id) => `/api/v1/invitations/${id}`),
    expect: managersOfA(204) },
  { method: 'GET', route: '/api/v1/me/invitations', url: () => '/api/v1/me/invitations', expect: usersOnly(200),
    check: (role, body) => {
      // Each sees only what is addressed to them: memberB has an open invitation (made in beforeAll), nobody else any.
      if (role === 'memberB') expect(body.length).toBeGreaterThan(0);
      else expect(body).toEqual([]);
    } },
  // Addressed to memberB, to a throwaway community of managerA's (accepting must not change who belongs to A or B).
  { method: 'POST', route: '/api/v1/invitations/:id/accept', url: (w, tp) => invitationToMemberB(tp, w).then((id) => `/api/v1/invitations/${id}/accept`),
    expect: { ...usersOnly(404), memberB: 200 } },
  { method: 'POST', route: '/api/v1/invitations/:id/decline', url: (w, tp) => invitationToMemberB(tp, w).then((id) => `/api/v1/invitations/${id}/decline`),
    expect: { ...usersOnly(404), memberB: 204 } },
  { method: 'POST', route: '/api/v1/communities/:id/join-requests', url: (w) => `/api/v1/communities/${w.communityA}/join-requests`,
    body: () => ({}), expect: { ...usersOnly(409), memberB: 201, managerB: 201, admin: 201 } },
  { method: 'GET', route: '/api/v1/members/:id', url: (w) => `/api/v1/members/${w.memberIdA}`, expect: ownerOfA(200) },
  { method: 'PATCH', route: '/api/v1/members/:id', url: (w) => `/api/v1/members/${w.memberIdA}`,
    body: () => ({ displayName: 'Renamed' }), expect: ownerOfA(200) },
  { method: 'PATCH', route: '/api/v1/members/:id', url: (w) => `/api/v1/members/${w.memberIdA}`,
    body: () => ({ role: 'member' }), expect: ownerOfA(200) },
  { method: 'PATCH', route: '/api/v1/members/:id', url: (w) => `/api/v1/members/${w.memberIdA}`,
    body: () => ({ activeFrom: '2020-01-01T00:00:00Z' }), expect: ownerOfA(200, 403) },
  { method: 'POST', route: '/api/v1/members/:id/approve',
    url: (w, tp) => freshMemberOfA(tp, w, 'requested').then((id) => `/api/v1/members/${id}/approve`), expect: ownerOfA(200, 404) },
  { method: 'POST', route: '/api/v1/members/:id/reject',
    url: (w, tp) => freshMemberOfA(tp, w, 'requested').then((id) => `/api/v1/members/${id}/reject`), expect: ownerOfA(200, 404) },
  { method: 'POST', route: '/api/v1/members/:id/leave',
    url: (w, tp) => freshMemberOfA(tp, w, 'active').then((id) => `/api/v1/members/${id}/leave`), expect: ownerOfA(200, 404) },

  { method: 'GET', route: '/api/v1/communities/:id/metering-points', url: (w) => `/api/v1/communities/${w.communityA}/metering-points`,
    expect: membersOfA(200),
    check: (role, body, w) => {
      const ids = body.map((m: { id: string }) => m.id);
      if (role === 'memberA') expect(ids).toEqual([w.meteringPointA]);
      if (role === 'memberA2') expect(ids).toEqual([w.meteringPointA2]);
      if (role === 'managerA') expect(ids).toEqual(expect.arrayContaining([w.meteringPointA, w.meteringPointA2]));
    } },
  { method: 'POST', route: '/api/v1/communities/:id/metering-points', url: (w) => `/api/v1/communities/${w.communityA}/metering-points`,
    body: (w) => ({ memberId: w.memberIdA, name: 'Shed', gridConnectionId: unique('AT002GC'), role: 'consumer' }), expect: ownerOfA(201) },
  { method: 'GET', route: '/api/v1/metering-points/:id', url: (w) => `/api/v1/metering-points/${w.meteringPointA}`, expect: ownerOfA(200) },
  { method: 'PATCH', route: '/api/v1/metering-points/:id', url: (w) => `/api/v1/metering-points/${w.meteringPointA}`,
    body: () => ({ address: 'Main Street 1' }), expect: ownerOfA(200) },
  { method: 'DELETE', route: '/api/v1/metering-points/:id',
    url: async (w, tp) => `/api/v1/metering-points/${(await tp.call('POST', `/api/v1/communities/${w.communityA}/metering-points`, {
      token: w.memberA.token, body: { name: 'Temp', gridConnectionId: unique('AT003GC'), role: 'consumer' } })).body.id}`,
    expect: ownerOfA(204) },

  { method: 'GET', route: '/api/v1/communities/:id/devices', url: (w) => `/api/v1/communities/${w.communityA}/devices`,
    expect: membersOfA(200),
    check: (role, body, w) => {
      const ids = body.map((d: { id: string }) => d.id);
      if (role === 'memberA' || role === 'managerA') expect(ids).toContain(w.deviceA);
      if (role === 'memberA2') expect(ids).not.toContain(w.deviceA);
    } },
  { method: 'POST', route: '/api/v1/communities/:id/devices', url: (w) => `/api/v1/communities/${w.communityA}/devices`,
    body: () => ({ kind: 'smart-plug', name: 'Plug' }), expect: managersOfA(201) },
  { method: 'GET', route: '/api/v1/devices/:id', url: (w) => `/api/v1/devices/${w.deviceA}`, expect: ownerOfA(200) },
  { method: 'PATCH', route: '/api/v1/devices/:id', url: (w) => `/api/v1/devices/${w.deviceA}`,
    body: () => ({ name: 'Reader A (hall)' }), expect: ownerOfA(200, 403) },
  { method: 'PUT', route: '/api/v1/devices/:id/specs', url: (w) => `/api/v1/devices/${w.deviceA}/specs`,
    body: () => ({ specs: null }), expect: ownerOfA(200) },
  { method: 'DELETE', route: '/api/v1/devices/:id',
    url: async (w, tp) => `/api/v1/devices/${(await tp.call('POST', `/api/v1/communities/${w.communityA}/devices`, {
      token: w.managerA.token, body: { kind: 'meter-reader', name: 'Temp', meteringPointId: w.meteringPointA, role: 'sub-load' } })).body.id}`,
    expect: ownerOfA(204, 403) },

  { method: 'GET', route: '/api/v1/communities/:id/tariffs', url: (w) => `/api/v1/communities/${w.communityA}/tariffs`, expect: membersOfA(200) },
  { method: 'POST', route: '/api/v1/communities/:id/tariffs', url: (w) => `/api/v1/communities/${w.communityA}/tariffs`,
    body: () => ({ name: 'T', gridPrice: '0.3', communityPrice: '0.1', feedInPrice: '0.05', validFrom: nextDate() }), expect: managersOfA(201) },
  { method: 'GET', route: '/api/v1/tariffs/:id', url: (w) => `/api/v1/tariffs/${w.tariffA}`, expect: membersOfA(200) },
  { method: 'PATCH', route: '/api/v1/tariffs/:id', url: (w) => `/api/v1/tariffs/${w.tariffA}`, body: () => ({ name: 'Standard (2026)' }), expect: managersOfA(200) },
  { method: 'DELETE', route: '/api/v1/tariffs/:id',
    url: async (w, tp) => `/api/v1/tariffs/${(await tp.call('POST', `/api/v1/communities/${w.communityA}/tariffs`, {
      token: w.managerA.token, body: { name: 'T', gridPrice: '0.3', communityPrice: '0.1', feedInPrice: '0.05', validFrom: nextDate() } })).body.id}`,
    expect: managersOfA(204) },

  { method: 'POST', route: '/api/v1/communities/:id/device-batches', url: (w) => `/api/v1/communities/${w.communityA}/device-batches`,
    body: () => ({ count: 1, kind: 'smart-plug' }), expect: managersOfA(201) },
  { method: 'GET', route: '/api/v1/communities/:id/device-batches', url: (w) => `/api/v1/communities/${w.communityA}/device-batches`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/device-batches/:id', url: (w) => `/api/v1/device-batches/${w.batchA}`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/device-batches/:id/artefacts.zip', url: (w) => `/api/v1/device-batches/${w.batchA}/artefacts.zip`, expect: managersOfA(200) },
  { method: 'PATCH', route: '/api/v1/device-batches/:id', url: (w) => `/api/v1/device-batches/${w.batchA}`,
    body: () => ({ name: 'Renamed by the matrix' }), expect: managersOfA(200),
    check: (_role, body) => expect(body.name).toBe('Renamed by the matrix') },
  { method: 'GET', route: '/api/v1/device-batches/:id/stickers.pdf', url: (w) => `/api/v1/device-batches/${w.batchA}/stickers.pdf`, expect: managersOfA(200),
    check: (_role, body) => expect(String(body).startsWith('%PDF-')).toBe(true) },
  { method: 'POST', route: '/api/v1/device-batches/:id/rollback',
    url: async (w, tp) => `/api/v1/device-batches/${(await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, {
      token: w.managerA.token, body: { count: 1 } })).body.id}/rollback`,
    body: () => ({}), expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/devices/:id/config.json', url: (w) => `/api/v1/devices/${w.provisionedA}/config.json`, expect: ownerOfA(200, 403) },
  { method: 'GET', route: '/api/v1/devices/:id/qr.png', url: (w) => `/api/v1/devices/${w.provisionedA}/qr.png`, expect: ownerOfA(200, 403) },
  { method: 'GET', route: '/api/v1/devices/:id/qr.svg', url: (w) => `/api/v1/devices/${w.provisionedA}/qr.svg`, expect: ownerOfA(200, 403) },
  { method: 'POST', route: '/api/v1/devices/:id/keys/:slot/rotate', url: (w) => `/api/v1/devices/${w.provisionedA}/keys/secondary/rotate`, expect: ownerOfA(200, 403) },
  { method: 'POST', route: '/api/v1/claims', url: () => '/api/v1/claims',
    body: (w) => ({ code: '0000-0000-0000', meteringPointId: w.meteringPointA }), expect: usersOnly(404) },

  // Device routes take a device's SAS token, never a person's login.
  { method: 'POST', route: '/api/v1/devices/:id/readings', url: (w) => `/api/v1/devices/${w.provisionedA}/readings`,
    body: () => ({ readings: [{ ts: new Date().toISOString(), quantity: 'power.import', value: 1, unit: 'W' }] }), expect: everyone(401) },
  // The broker's auth hook answers everyone, and only for the credentials it is given: no session or role opens a device.
  { method: 'POST', route: '/api/v1/broker/authenticate', url: () => '/api/v1/broker/authenticate',
    body: (w) => ({ clientid: w.provisionedA, username: w.provisionedA, password: 'not-its-password' }), expect: everyone(200),
    check: (_role, body) => expect(body).toEqual({ result: 'deny' }) },
  { method: 'POST', route: '/api/v1/broker/authorize', url: () => '/api/v1/broker/authorize',
    body: (w) => ({ clientid: w.provisionedA, username: w.provisionedA, topic: `devices/${w.deviceA}/messages/events`, action: 'publish' }), expect: everyone(200),
    check: (_role, body) => expect(body).toEqual({ result: 'deny' }) },
  { method: 'POST', route: '/api/v1/devices/:id/frames/:format', url: (w) => `/api/v1/devices/${w.provisionedA}/frames/dsmr`, expect: everyone(401) },
  { method: 'GET', route: '/api/v1/devices/:id/state', url: (w) => `/api/v1/devices/${w.provisionedA}/state`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/device-states', url: (w) => `/api/v1/communities/${w.communityA}/device-states`, expect: membersOfA(200),
    check: (role, body, w) => {
      // Members get the states of their own devices only (memberA2 has none); managers and admins every device's.
      const ids = body.map((s: { deviceId: string }) => s.deviceId);
      expect(ids).toEqual(role === 'memberA2' ? [] : expect.arrayContaining([w.deviceA, w.provisionedA]));
      // The moved reader's counters start at the move for its new owner.
      if (role !== 'memberA2') expect(body.find((s: { deviceId: string }) => s.deviceId === moved.id).messagesTotal).toBe(role === 'memberA' ? 1 : 2);
    } },
  { method: 'GET', route: '/api/v1/communities/:id/agent-health',
    url: async (w, tp) => {
      const beat = { type: 'heartbeat', version: '1.0.0', uptimeSeconds: 5, queue: { messages: 0, readings: 0 }, serial: { lastFrameAt: null, framesPerMinute: 0, checksumErrors: 0 }, uplink: { transport: 'mqtt' } };
      await recordHeartbeat(tp.platform.db, { id: w.provisionedA, communityId: w.communityA, meteringPointId: null, boundFrom: null }, Buffer.from(JSON.stringify(beat)), new Date());
      return `/api/v1/communities/${w.communityA}/agent-health`;
    },
    expect: membersOfA(200),
    // Members see their own devices' agents only (memberA2 has none); managers and admins every one.
    check: (role, body, w) => expect(body.map((h: { deviceId: string }) => h.deviceId)).toEqual(role === 'memberA2' ? [] : [w.provisionedA]) },
  // Commands: devices poll and answer with their SAS token only; people see and issue them.
  { method: 'GET', route: '/api/v1/devices/:id/commands', url: (w) => `/api/v1/devices/${w.provisionedA}/commands`, expect: everyone(401) },
  { method: 'POST', route: '/api/v1/devices/:id/commands/ack', url: (w) => `/api/v1/devices/${w.provisionedA}/commands/ack`,
    body: () => ({ commandId: '00000000-0000-4000-8000-000000000000', result: 'acknowledged' }), expect: everyone(401) },
  { method: 'GET', route: '/api/v1/communities/:id/commands', url: (w) => `/api/v1/communities/${w.communityA}/commands`, expect: membersOfA(200),
    check: (_role, body) => expect(body).toMatchObject({ items: expect.any(Array), total: expect.any(Number) }) },
  { method: 'POST', route: '/api/v1/devices/:id/manual-commands',
    url: async (w, tp) => `/api/v1/devices/${(await tp.call('POST', `/api/v1/communities/${w.communityA}/devices`, {
      token: w.managerA.token, body: { kind: 'battery', name: unique('Battery '), meteringPointId: w.meteringPointA } })).body.id}/manual-commands`,
    body: () => ({ kind: 'battery-power', value: 1_000, durationMinutes: 15 }), expect: ownerOfA(201) },
  // Flex (UFTP): the endpoint is authenticated by signatures, not accounts (an unknown sender is 401 whoever calls); the rest is for managers.
  { method: 'POST', route: '/shapeshifter/api/v3/message', url: () => '/shapeshifter/api/v3/message',
    file: () => ({ contentType: 'text/xml', text: `<SignedMessage SenderDomain="stranger.example.org" SenderRole="DSO" Body="${Buffer.alloc(96).toString('base64')}"/>` }),
    expect: everyone(401) },
  { method: 'GET', route: '/api/v1/communities/:id/flex/identity', url: async (w, tp) => (await flexIdentityOfA(tp, w), `/api/v1/communities/${w.communityA}/flex/identity`), expect: managersOfA(200) },
  { method: 'PUT', route: '/api/v1/communities/:id/flex/identity', url: (w) => `/api/v1/communities/${w.communityA}/flex/identity`,
    body: (w) => ({ domain: `a-${w.communityA}.example.org` }), expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/flex/participants', url: (w) => `/api/v1/communities/${w.communityA}/flex/participants`, expect: managersOfA(200) },
  { method: 'POST', route: '/api/v1/communities/:id/flex/participants', url: (w) => `/api/v1/communities/${w.communityA}/flex/participants`,
    body: () => flexParticipant(), expect: managersOfA(201) },
  { method: 'PUT', route: '/api/v1/flex/participants/:id', url: async (w, tp) => `/api/v1/flex/participants/${await flexParticipantOfA(tp, w)}`,
    body: () => flexParticipant(), expect: managersOfA(200) },
  { method: 'DELETE', route: '/api/v1/flex/participants/:id', url: async (w, tp) => `/api/v1/flex/participants/${await flexParticipantOfA(tp, w)}`, expect: managersOfA(204) },
  { method: 'GET', route: '/api/v1/communities/:id/flex/messages', url: (w) => `/api/v1/communities/${w.communityA}/flex/messages`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/flex/contracts', url: (w) => `/api/v1/communities/${w.communityA}/flex/contracts`, expect: managersOfA(200) },
  { method: 'POST', route: '/api/v1/communities/:id/flex/contracts', url: async (w, tp) => (await flexDsoOfA(tp, w), `/api/v1/communities/${w.communityA}/flex/contracts`),
    body: flexContractTerms, expect: managersOfA(201) },
  { method: 'GET', route: '/api/v1/flex/contracts/:id', url: async (w, tp) => `/api/v1/flex/contracts/${await flexContractOfA(tp, w, 'draft')}`, expect: managersOfA(200) },
  { method: 'PUT', route: '/api/v1/flex/contracts/:id', url: async (w, tp) => `/api/v1/flex/contracts/${await flexContractOfA(tp, w, 'draft')}`,
    body: flexContractTerms, expect: managersOfA(200) },
  { method: 'POST', route: '/api/v1/flex/contracts/:id/activate', url: async (w, tp) => `/api/v1/flex/contracts/${await flexContractOfA(tp, w, 'draft')}/activate`,
    expect: managersOfA(200) },
  { method: 'POST', route: '/api/v1/flex/contracts/:id/end', url: async (w, tp) => `/api/v1/flex/contracts/${await flexContractOfA(tp, w, 'active')}/end`, expect: managersOfA(200) },
  // Only a device's own member opts it in or out; managers see counts on the contract, and admins too are no device's member.
  { method: 'GET', route: '/api/v1/communities/:id/flex/portfolio', url: (w) => `/api/v1/communities/${w.communityA}/flex/portfolio`, expect: managersOfA(200) },
  { method: 'PUT', route: '/api/v1/flex/participants/:id/portfolio', url: async (w, tp) => `/api/v1/flex/participants/${await flexDsoOfA(tp, w)}/portfolio`,
    body: () => ({ congestionPoints: [{ entityAddress: 'ean.matrix-cp', connections: ['ean.871685900000000001'] }] }), expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/flex/offers', url: (w) => `/api/v1/communities/${w.communityA}/flex/offers`, expect: managersOfA(200) },
  // No such DSO in A's address book: A's managers learn that (404), nobody else gets that far.
  { method: 'POST', route: '/api/v1/communities/:id/flex/offers', url: (w) => `/api/v1/communities/${w.communityA}/flex/offers`,
    body: () => ({ participantId: '00000000-0000-4000-8000-00000000beef', congestionPoint: 'ean.matrix-cp', period: '2026-06-16', isps: [{ start: 73, duration: 4, minPower: -2000, maxPower: -1000 }] }),
    expect: managersOfA(404) },
  // No offer with this id: A's managers learn that (404), nobody else gets that far.
  { method: 'POST', route: '/api/v1/communities/:id/flex/offers/:messageId/revoke', url: (w) => `/api/v1/communities/${w.communityA}/flex/offers/00000000-0000-4000-8000-00000000beef/revoke`,
    expect: managersOfA(404) },
  // No order with this id either.
  { method: 'GET', route: '/api/v1/communities/:id/flex/orders/:messageId/delivery', url: (w) => `/api/v1/communities/${w.communityA}/flex/orders/00000000-0000-4000-8000-00000000beef/delivery`,
    expect: managersOfA(404) },
  { method: 'GET', route: '/api/v1/communities/:id/flex/settlements', url: (w) => `/api/v1/communities/${w.communityA}/flex/settlements`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/flex/prognosis', url: async (w, tp) => (await flexIdentityOfA(tp, w), `/api/v1/communities/${w.communityA}/flex/prognosis?period=2026-06-01`),
    expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/flex/my-rewards', url: (w) => `/api/v1/communities/${w.communityA}/flex/my-rewards`,
    expect: { ...membersOfA(200), admin: 404 } },
  { method: 'GET', route: '/api/v1/communities/:id/flex/activation-requests/mine', url: (w) => `/api/v1/communities/${w.communityA}/flex/activation-requests/mine`,
    expect: { ...membersOfA(200), admin: 404 } },
  // No request with this id: nobody learns more than that (only its own member could answer it).
  { method: 'POST', route: '/api/v1/flex/activation-requests/:id/answer', url: () => '/api/v1/flex/activation-requests/00000000-0000-4000-8000-00000000beef/answer',
    body: () => ({ answer: 'accept' }), expect: usersOnly(404) },
  { method: 'GET', route: '/api/v1/communities/:id/flex/activation-requests', url: (w) => `/api/v1/communities/${w.communityA}/flex/activation-requests`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/flex/my-devices', url: (w) => `/api/v1/communities/${w.communityA}/flex/my-devices`,
    expect: { ...membersOfA(200), admin: 404 } },
  { method: 'PUT', route: '/api/v1/flex/contracts/:id/devices/:deviceId', url: async (w, tp) => await flexOptInUrlOfA(tp, w), body: () => ({ maxPowerW: 1500 }),
    expect: { ...everyone(404), anonymous: 401, memberA: 200 } },
  { method: 'DELETE', route: '/api/v1/flex/contracts/:id/devices/:deviceId', url: async (w, tp) => await flexOptInUrlOfA(tp, w),
    expect: { ...everyone(404), anonymous: 401, memberA: 204 } },
  { method: 'GET', route: '/api/v1/communities/:id/device-events', url: (w) => `/api/v1/communities/${w.communityA}/device-events`, expect: managersOfA(200) },
  { method: 'POST', route: '/api/v1/devices/:id/meter-exchanges', url: (w) => `/api/v1/devices/${w.provisionedA}/meter-exchanges`,
    body: () => ({ ts: '2026-01-01T00:00:00Z' }), expect: ownerOfA(201, 403) },
  { method: 'GET', route: '/api/v1/devices/:id/readings',
    url: (w) => `/api/v1/devices/${w.provisionedA}/readings?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/metering-points/:id/readings',
    url: (w) => `/api/v1/metering-points/${w.meteringPointA}/readings?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/metering-points/:id/intervals',
    url: (w) => `/api/v1/metering-points/${w.meteringPointA}/intervals?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/interval-issues', url: (w) => `/api/v1/communities/${w.communityA}/interval-issues`, expect: managersOfA(200) },
  { method: 'PUT', route: '/api/v1/devices/:id/meter-keys', url: (w) => `/api/v1/devices/${w.provisionedA}/meter-keys`,
    body: () => ({ encryptionKey: '36C66639E48A8CA4D6BC8B282A793BBB' }), expect: ownerOfA(204, 403) },
  { method: 'GET', route: '/api/v1/connector-kinds', url: () => '/api/v1/connector-kinds', expect: usersOnly(200) },
  { method: 'GET', route: '/api/v1/communities/:id/connectors', url: (w) => `/api/v1/communities/${w.communityA}/connectors`, expect: managersOfA(200), check: noSecret },
  { method: 'POST', route: '/api/v1/communities/:id/connectors', url: (w) => `/api/v1/communities/${w.communityA}/connectors`,
    body: () => ({ kind: 'http-json', name: unique('Connector '), config: connectorConfig(), enabled: false }), expect: managersOfA(201), check: noSecret },
  { method: 'POST', route: '/api/v1/communities/:id/connectors/test', url: (w) => `/api/v1/communities/${w.communityA}/connectors/test`,
    body: () => ({ kind: 'http-json', config: connectorConfig() }), expect: managersOfA(200),
    check: (_role, body) => expect(body.error.code).toBe('unreachable') },
  { method: 'GET', route: '/api/v1/connectors/:id', url: (w, tp) => connectorOfA(tp, w).then((id) => `/api/v1/connectors/${id}`), expect: managersOfA(200), check: noSecret },
  { method: 'PATCH', route: '/api/v1/connectors/:id', url: (w, tp) => connectorOfA(tp, w).then((id) => `/api/v1/connectors/${id}`),
    body: () => ({ intervalS: 600 }), expect: managersOfA(200), check: noSecret },
  { method: 'DELETE', route: '/api/v1/connectors/:id', url: (w, tp) => connectorOfA(tp, w).then((id) => `/api/v1/connectors/${id}`), expect: managersOfA(204) },
  { method: 'GET', route: '/api/v1/connectors/:id/runs', url: (w, tp) => connectorOfA(tp, w).then((id) => `/api/v1/connectors/${id}/runs`), expect: managersOfA(200) },
  { method: 'POST', route: '/api/v1/connectors/:id/run', url: (w, tp) => connectorOfA(tp, w, true).then((id) => `/api/v1/connectors/${id}/run`), expect: managersOfA(202) },
  // http-json writes no setpoints: a manager is told so; the others learn nothing more.
  { method: 'POST', route: '/api/v1/connectors/:id/commands', url: (w, tp) => connectorOfA(tp, w).then((id) => `/api/v1/connectors/${id}/commands`),
    body: () => ({ command: { type: 'power-limit', percent: 50 } }), expect: managersOfA(400) },
  { method: 'GET', route: '/api/v1/communities/:id/live', url: (w) => `/api/v1/communities/${w.communityA}/live`, stream: true, expect: membersOfA(200) },
  // Binding periods: a reader moved from memberA2's site to memberA's (see movedReader) shows memberA only what it measured since.
  { method: 'GET', route: '/api/v1/devices/:id/readings', url: () => `/api/v1/devices/${moved.id}/readings?${recentRange()}`, expect: ownerOfA(200),
    check: (role, body) => expect(body.map((r: { value: number }) => r.value)).toEqual(role === 'memberA' ? [MOVED_AFTER] : [MOVED_BEFORE, MOVED_AFTER]) },
  { method: 'GET', route: '/api/v1/devices/:id/state', url: () => `/api/v1/devices/${moved.id}/state`, expect: ownerOfA(200),
    check: (role, body) => expect(body.messagesTotal).toBe(role === 'memberA' ? 1 : 2) },
  { method: 'GET', route: '/api/v1/metering-points/:id/readings', url: (w) => `/api/v1/metering-points/${w.meteringPointA2}/readings?${recentRange()}`,
    expect: { anonymous: 401, memberA: 404, memberA2: 200, memberB: 404, managerA: 200, managerB: 404, admin: 200 },
    check: (_role, body) => expect(body.map((r: { value: number }) => r.value)).toEqual([MOVED_BEFORE]) },

  { method: 'GET', route: '/api/v1/quotas', url: () => '/api/v1/quotas', expect: adminOnly(200) },
  { method: 'PATCH', route: '/api/v1/quotas', url: () => '/api/v1/quotas', body: () => ({ batchesPerHour: 1_000 }), expect: adminOnly(200) },
  { method: 'GET', route: '/api/v1/users/:id/quotas', url: (w) => `/api/v1/users/${w.memberA.id}/quotas`, expect: { ...usersOnly(404), memberA: 200, admin: 200 } },
  { method: 'PATCH', route: '/api/v1/users/:id/quotas', url: (w) => `/api/v1/users/${w.memberA.id}/quotas`, body: () => ({ communitiesPerUser: 1_000 }), expect: adminOnly(200) },
  { method: 'GET', route: '/api/v1/communities/:id/quotas', url: (w) => `/api/v1/communities/${w.communityA}/quotas`, expect: managersOfA(200) },
  { method: 'PATCH', route: '/api/v1/communities/:id/quotas', url: (w) => `/api/v1/communities/${w.communityA}/quotas`,
    body: () => ({ devicesPerCommunity: 1_000_000 }), expect: adminOnly(200) },

  // The admin console: platform admins only; suspensions, locks and roles change fresh records only.
  { method: 'GET', route: '/api/v1/admin/communities', url: () => '/api/v1/admin/communities', expect: adminOnly(200) },
  { method: 'POST', route: '/api/v1/admin/communities', url: () => '/api/v1/admin/communities',
    body: (w) => ({ ...communityBody(unique('Admin made ')), managerEmail: w.managerB.email }), expect: adminOnly(201) },
  { method: 'POST', route: '/api/v1/admin/communities/:id/suspend', url: async (w, tp) => `/api/v1/admin/communities/${await freshCommunity(tp, w)}/suspend`,
    body: () => ({ reason: 'matrix' }), expect: adminOnly(204) },
  { method: 'POST', route: '/api/v1/admin/communities/:id/resume', url: async (w, tp) => `/api/v1/admin/communities/${await freshCommunity(tp, w)}/resume`, expect: adminOnly(204) },
  { method: 'GET', route: '/api/v1/admin/users', url: () => '/api/v1/admin/users?q=example', expect: adminOnly(200) },
  { method: 'POST', route: '/api/v1/admin/users/:id/lock', url: async (_w, tp) => `/api/v1/admin/users/${await freshUser(tp)}/lock`, expect: adminOnly(204) },
  { method: 'POST', route: '/api/v1/admin/users/:id/unlock', url: async (_w, tp) => `/api/v1/admin/users/${await freshUser(tp)}/unlock`, expect: adminOnly(204) },
  { method: 'PUT', route: '/api/v1/admin/users/:id/admin', url: async (_w, tp) => `/api/v1/admin/users/${await freshUser(tp)}/admin`,
    body: () => ({ isAdmin: false }), expect: adminOnly(204) },
  { method: 'GET', route: '/api/v1/admin/installation', url: () => '/api/v1/admin/installation', expect: adminOnly(200),
    check: (_role, body) => expect(body.jobs.map((j: { name: string }) => j.name)).toContain('sharing') },
  // The audit job is paused by one case and resumed by the next.
  { method: 'POST', route: '/api/v1/admin/jobs/:name/pause', url: () => '/api/v1/admin/jobs/ledger%20audit/pause', expect: adminOnly(204) },
  { method: 'POST', route: '/api/v1/admin/jobs/:name/resume', url: () => '/api/v1/admin/jobs/ledger%20audit/resume', expect: adminOnly(204) },

  { method: 'GET', route: '/api/v1/communities/:id/allocation-shares', url: (w) => `/api/v1/communities/${w.communityA}/allocation-shares`, expect: managersOfA(200) },
  { method: 'PUT', route: '/api/v1/communities/:id/allocation-shares', url: (w) => `/api/v1/communities/${w.communityA}/allocation-shares`,
    body: (w) => ({ validFrom: '2026-01-01T00:00:00Z', shares: [{ memberId: w.memberIdA, share: '0.5' }] }), expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/allocation-coefficients', url: (w) => `/api/v1/communities/${w.communityA}/allocation-coefficients`, expect: managersOfA(200) },
  { method: 'PUT', route: '/api/v1/communities/:id/allocation-coefficients',
    url: (w) => `/api/v1/communities/${w.communityA}/allocation-coefficients?resolution=15`,
    file: (w) => ({ contentType: 'text/csv', text: `member_id,timestamp,coefficient\n${w.memberIdA},2026-01-01T00:00:00Z,0.5\n` }), expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/co2-intensity', url: (w) => `/api/v1/communities/${w.communityA}/co2-intensity`, expect: membersOfA(200) },
  { method: 'PUT', route: '/api/v1/communities/:id/co2-intensity', url: (w) => `/api/v1/communities/${w.communityA}/co2-intensity`,
    body: () => ({ gramsPerKWh: 210 }), expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/members/:id/energy',
    url: (w) => `/api/v1/members/${w.memberIdA}/energy?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&resolution=1h`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/members/:id/utilities',
    url: (w) => `/api/v1/members/${w.memberIdA}/utilities?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&resolution=1h`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/members/:id/energy.csv',
    url: (w) => `/api/v1/members/${w.memberIdA}/energy.csv?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&resolution=1h`, expect: ownerOfA(200),
    check: (_role, body) => {
      const lines = String(body).split('\r\n');
      expect(lines[0]).toMatch(/^start,end,consumption_wh,/);
      // A header and the 24 hours of that (past) day.
      expect(lines).toHaveLength(26);
    } },
  { method: 'GET', route: '/api/v1/metering-points/:id/forecast',
    url: (w) => `/api/v1/metering-points/${w.meteringPointA}/forecast?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/forecast',
    url: (w) => `/api/v1/communities/${w.communityA}/forecast?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&resolution=60`, expect: membersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/forecast-accuracy', url: (w) => `/api/v1/communities/${w.communityA}/forecast-accuracy`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/metering-points/:id/forecast-accuracy', url: (w) => `/api/v1/metering-points/${w.meteringPointA}/forecast-accuracy`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/members/:id/best-hours', url: (w) => `/api/v1/members/${w.memberIdA}/best-hours`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/plan', url: (w) => `/api/v1/communities/${w.communityA}/plan`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/plans/:id', url: async (w, tp) => `/api/v1/plans/${await planOfA(tp, w)}`, expect: managersOfA(200) },
  { method: 'POST', route: '/api/v1/communities/:id/plan/replan', url: (w) => `/api/v1/communities/${w.communityA}/plan/replan`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/plan-objective', url: (w) => `/api/v1/communities/${w.communityA}/plan-objective`, expect: managersOfA(200) },
  { method: 'PUT', route: '/api/v1/communities/:id/plan-objective', url: (w) => `/api/v1/communities/${w.communityA}/plan-objective`,
    body: () => ({ cost: 1, co2PerKg: 0, importPerKwh: 0, exportPerKwh: 0, peakPerKw: 0 }), expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/members/:id/plan', url: (w) => `/api/v1/members/${w.memberIdA}/plan`, expect: ownerOfA(200) },
  // Members stay in charge of their devices: managers see the settings, only the member changes them.
  { method: 'GET', route: '/api/v1/devices/:id/control', url: (w) => `/api/v1/devices/${w.deviceA}/control`, expect: ownerOfA(200) },
  { method: 'PUT', route: '/api/v1/devices/:id/control', url: async (w, tp) => `/api/v1/devices/${await plugOfA(tp, w, false)}/control`,
    body: () => ({ controllable: true, limits: { windowStart: '08:00', windowEnd: '20:00' } }), expect: ownerOfA(403, 200) },
  { method: 'POST', route: '/api/v1/devices/:id/appliance-requests', url: async (w, tp) => `/api/v1/devices/${await plugOfA(tp, w, true)}/appliance-requests`,
    body: () => ({ readyBy: new Date(Date.now() + 6 * 3_600_000).toISOString() }), expect: ownerOfA(403, 201) },
  { method: 'DELETE', route: '/api/v1/appliance-requests/:id', url: async (w, tp) => {
    const plug = await plugOfA(tp, w, true);
    const created = await tp.call('POST', `/api/v1/devices/${plug}/appliance-requests`, {
      token: w.memberA.token, body: { readyBy: new Date(Date.now() + 6 * 3_600_000).toISOString() },
    });
    return `/api/v1/appliance-requests/${created.body.id}`;
  }, expect: ownerOfA(403, 204) },
  { method: 'GET', route: '/api/v1/communities/:id/weather-source', url: (w) => `/api/v1/communities/${w.communityA}/weather-source`, expect: managersOfA(200) },
  { method: 'PUT', route: '/api/v1/communities/:id/weather-source', url: (w) => `/api/v1/communities/${w.communityA}/weather-source`,
    body: () => ({ url: null }), expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/energy',
    url: (w) => `/api/v1/communities/${w.communityA}/energy?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&resolution=1d`, expect: membersOfA(200),
    check: (role, body, w) => {
      // Per-member figures are for the managers (and admins) only.
      expect(body.members !== undefined).toBe(role === 'managerA' || role === 'admin');
      if (body.members) expect(body.members.map((m: { memberId: string }) => m.memberId)).toEqual(expect.arrayContaining([w.memberIdA, w.memberIdA2]));
    } },

  { method: 'POST', route: '/api/v1/communities/:id/operator-imports',
    url: async (w, tp) => {
      await registerZaehlpunktOfA(tp, w);
      return `/api/v1/communities/${w.communityA}/operator-imports`;
    },
    // A new message id per call, so that every allowed caller imports (201) rather than replays (200).
    file: () => ({ text: edaMessage(unique('MSG')), contentType: 'application/xml' }), expect: managersOfA(201) },
  { method: 'GET', route: '/api/v1/communities/:id/operator-imports', url: (w) => `/api/v1/communities/${w.communityA}/operator-imports`,
    expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/reconciliation',
    url: (w) => `/api/v1/communities/${w.communityA}/reconciliation?from=2025-06-01T00:00:00Z&to=2025-06-02T00:00:00Z`, expect: managersOfA(200) },

  { method: 'POST', route: '/api/v1/communities/:id/settlements', url: (w) => `/api/v1/communities/${w.communityA}/settlements`,
    body: () => ({ period: '2026-01' }), expect: managersOfA(201) },
  { method: 'GET', route: '/api/v1/communities/:id/settlements', url: (w) => `/api/v1/communities/${w.communityA}/settlements`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/settlements/:id', url: async (w, tp) => `/api/v1/settlements/${(await settlementOfA(tp, w, '2026-02')).id}`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/settlements/:id/gaps', url: async (w, tp) => `/api/v1/settlements/${(await settlementOfA(tp, w, '2026-02')).id}/gaps`, expect: managersOfA(200) },
  { method: 'POST', route: '/api/v1/settlements/:id/close',
    url: async (w, tp) => confirmedCloseUrl(tp, w.managerA.token, (await settlementOfA(tp, w, nextMonth())).id), expect: managersOfA(200) },
  { method: 'POST', route: '/api/v1/settlements/:id/recompute',
    url: async (w, tp) => `/api/v1/settlements/${(await settlementOfA(tp, w, '2026-03')).id}/recompute`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/members/:id/statements', url: (w) => `/api/v1/members/${w.memberIdA}/statements`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/statements/:id', url: async (w, tp) => `/api/v1/statements/${await statementOfA(tp, w)}`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/statements/:id/statement.csv', url: async (w, tp) => `/api/v1/statements/${await statementOfA(tp, w)}/statement.csv`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/statements/:id/statement.pdf', url: async (w, tp) => `/api/v1/statements/${await statementOfA(tp, w)}/statement.pdf`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/billing-profile', url: (w) => `/api/v1/communities/${w.communityA}/billing-profile`, expect: managersOfA(200) },
  { method: 'PUT', route: '/api/v1/communities/:id/billing-profile', url: async (w, tp) => { await invoicingInA(tp, w); return `/api/v1/communities/${w.communityA}/billing-profile`; },
    body: () => BILLING_PROFILE, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/billing-details', url: (w) => `/api/v1/communities/${w.communityA}/billing-details`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/members/:id/billing-details', url: (w) => `/api/v1/members/${w.memberIdA}/billing-details`, expect: ownerOfA(200) },
  { method: 'PUT', route: '/api/v1/members/:id/billing-details', url: (w) => `/api/v1/members/${w.memberIdA}/billing-details`, body: () => billingDetails('Anna A'), expect: ownerOfA(200) },
  { method: 'PUT', route: '/api/v1/members/:id/sepa-mandate', url: (w) => `/api/v1/members/${w.memberIdA}/sepa-mandate`, body: () => SEPA_MANDATE, expect: ownerOfA(200, 403) },
  { method: 'DELETE', route: '/api/v1/members/:id/sepa-mandate',
    url: async (w, tp) => {
      await tp.call('PUT', `/api/v1/members/${w.memberIdA}/sepa-mandate`, { token: w.managerA.token, body: SEPA_MANDATE });
      return `/api/v1/members/${w.memberIdA}/sepa-mandate`;
    },
    expect: ownerOfA(204, 403) },
  { method: 'GET', route: '/api/v1/settlements/:id/invoices', url: async (w, tp) => `/api/v1/settlements/${(await invoiceOfA(tp, w)).settlementId}/invoices`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/members/:id/invoices', url: (w) => `/api/v1/members/${w.memberIdA}/invoices`, expect: ownerOfA(200),
    check: (_role, body: { memberId: string }[], w) => expect(body.every((i) => i.memberId === w.memberIdA)).toBe(true) },
  { method: 'GET', route: '/api/v1/invoices/:id', url: async (w, tp) => `/api/v1/invoices/${(await invoiceOfA(tp, w)).id}`, expect: ownerOfA(200) },
  // The month has no energy, so nothing to collect or pay out (409): who may ask is decided before that.
  { method: 'GET', route: '/api/v1/settlements/:id/sepa/direct-debits.xml', url: async (w, tp) => `/api/v1/settlements/${(await invoiceOfA(tp, w)).settlementId}/sepa/direct-debits.xml`, expect: managersOfA(409) },
  { method: 'GET', route: '/api/v1/settlements/:id/sepa/credit-transfers.xml', url: async (w, tp) => `/api/v1/settlements/${(await invoiceOfA(tp, w)).settlementId}/sepa/credit-transfers.xml`, expect: managersOfA(409) },
  { method: 'GET', route: '/api/v1/settlements/:id/payments', url: async (w, tp) => `/api/v1/settlements/${(await invoiceOfA(tp, w)).settlementId}/payments`, expect: managersOfA(200) },
  { method: 'PUT', route: '/api/v1/invoices/:id/payment', url: async (w, tp) => `/api/v1/invoices/${(await invoiceOfA(tp, w)).id}/payment`, body: () => ({ status: 'open' }), expect: managersOfA(200) },
  { method: 'POST', route: '/api/v1/settlements/:id/bank-statements', url: async (w, tp) => `/api/v1/settlements/${(await invoiceOfA(tp, w)).settlementId}/bank-statements`,
    file: () => ({ contentType: 'application/xml', text: EMPTY_CAMT }), expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/invoices/:id/invoice.pdf', url: async (w, tp) => `/api/v1/invoices/${(await invoiceOfA(tp, w)).id}/invoice.pdf`, expect: ownerOfA(200) },

  { method: 'GET', route: '/api/v1/ledger/key', url: () => '/api/v1/ledger/key', expect: everyone(200) },
  { method: 'GET', route: '/api/v1/ledger/communities/:id/key', url: async (w, tp) => (await loggedStatementOfA(tp, w), `/api/v1/ledger/communities/${w.communityA}/key`), expect: everyone(200),
    check: (_role, body) => expect(body.did).toMatch(/^did:key:z6Mk/) },
  { method: 'GET', route: '/api/v1/ledger/checkpoint', url: async (w, tp) => (await loggedStatementOfA(tp, w), '/api/v1/ledger/checkpoint'), expect: everyone(200) },
  { method: 'POST', route: '/api/v1/ledger/checkpoint', url: () => '/api/v1/ledger/checkpoint', expect: adminOnly(200) },
  { method: 'GET', route: '/api/v1/ledger/witnesses', url: () => '/api/v1/ledger/witnesses', expect: adminOnly(200) },
  { method: 'POST', route: '/api/v1/ledger/witnesses', url: () => '/api/v1/ledger/witnesses', body: () => ({ verifierKey: MATRIX_WITNESS_KEY, url: 'http://127.0.0.1:9' }), expect: adminOnly(200) },
  {
    method: 'DELETE', route: '/api/v1/ledger/witnesses/:name',
    url: async (_w, tp) => {
      await tp.call('POST', '/api/v1/ledger/witnesses', { token: tp.admin.token, body: { verifierKey: MATRIX_WITNESS_KEY, url: 'http://127.0.0.1:9' } });
      return `/api/v1/ledger/witnesses/${encodeURIComponent('matrix.witness/1')}`;
    },
    expect: adminOnly(204),
  },
  { method: 'GET', route: '/api/v1/ledger/tile/{*}', url: async (w, tp) => (await loggedStatementOfA(tp, w), '/api/v1/ledger/tile/entries/000.p/1'), expect: everyone(200) },
  { method: 'GET', route: '/api/v1/ledger/proofs/inclusion', url: async (w, tp) => (await loggedStatementOfA(tp, w), '/api/v1/ledger/proofs/inclusion?index=0'), expect: everyone(200) },
  { method: 'GET', route: '/api/v1/ledger/proofs/consistency', url: async (w, tp) => (await loggedStatementOfA(tp, w), '/api/v1/ledger/proofs/consistency?from=1'), expect: everyone(200) },
  { method: 'GET', route: '/api/v1/statements/:id/receipt.json', url: async (w, tp) => `/api/v1/statements/${await loggedStatementOfA(tp, w)}/receipt.json`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/statements/:id/statement.json', url: async (w, tp) => `/api/v1/statements/${await loggedStatementOfA(tp, w)}/statement.json`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/statements/:id/verification', url: async (w, tp) => `/api/v1/statements/${await loggedStatementOfA(tp, w)}/verification`, expect: ownerOfA(200),
    check: (_role, body) => expect(body.verified).toBe(true) },
  { method: 'GET', route: '/api/v1/members/:id/market/postings/:sequence/proof', url: async (w, tp) => {
    const sequence = await freshPostingOfA(tp, w);
    await tp.platform.jobs.flush(OUTBOX_JOB);
    return `/api/v1/members/${w.memberIdA}/market/postings/${sequence}/proof`;
  }, expect: ownerOfA(200), check: (_role, body) => expect(body.format).toBe('gridshare-movement-proof/v1') },
  { method: 'GET', route: '/api/v1/members/:id/market/postings/:sequence/verification', url: async (w, tp) => {
    const sequence = await freshPostingOfA(tp, w);
    await tp.platform.jobs.flush(OUTBOX_JOB);
    return `/api/v1/members/${w.memberIdA}/market/postings/${sequence}/verification`;
  }, expect: ownerOfA(200), check: (_role, body) => expect(body.verified).toBe(true) },
  { method: 'GET', route: '/api/v1/communities/:id/ledger', url: (w) => `/api/v1/communities/${w.communityA}/ledger`, expect: managersOfA(200),
    check: (_role, body) => expect(body.communityDid).toMatch(/^did:key:z6Mk/) },

  { method: 'GET', route: '/health', url: () => '/health', expect: everyone(200) },
  { method: 'GET', route: '/metrics', url: () => '/metrics', expect: adminOnly(200) },
  // Privacy: a member's consents, access log, export and erasure are theirs alone (managers and admins see they exist);
  // a consent's data only its recipient reads; the register is for the community, its retention and erasures for managers.
  { method: 'GET', route: '/api/v1/members/:id/consents', url: (w) => `/api/v1/members/${w.memberIdA}/consents`, expect: onlyMemberA(200) },
  { method: 'POST', route: '/api/v1/members/:id/consents', url: (w) => `/api/v1/members/${w.memberIdA}/consents`, body: consentOfA, expect: onlyMemberA(201) },
  { method: 'POST', route: '/api/v1/consents/:id/revoke', url: (w, tp) => grantOfA(tp, w).then((id) => `/api/v1/consents/${id}/revoke`),
    expect: { ...onlyMemberA(200), memberA2: 403 } },
  // A researcher's grant: only the member who gave it re-issues its token (its recipient holds no login here).
  { method: 'POST', route: '/api/v1/consents/:id/recipient-token', url: (w, tp) => researchGrantOfA(tp, w).then((g) => `/api/v1/consents/${g.id}/recipient-token`),
    expect: onlyMemberA(200) },
  { method: 'GET', route: '/api/v1/consents/:id/series', url: (w, tp) => grantOfA(tp, w).then((id) =>
    `/api/v1/consents/${id}/series?meteringPoint=${w.meteringPointA}&quantity=import&resolution=1h&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`),
    expect: { ...everyone(404), anonymous: 401, memberA2: 200 } },
  // Data offers: a member publishes and withdraws their own; a members-only offer is the community's: the taker accepts as themself.
  { method: 'GET', route: '/api/v1/members/:id/data-offers', url: (w) => `/api/v1/members/${w.memberIdA}/data-offers`, expect: onlyMemberA(200) },
  { method: 'POST', route: '/api/v1/members/:id/data-offers', url: (w) => `/api/v1/members/${w.memberIdA}/data-offers`, body: offerOfA, expect: onlyMemberA(201) },
  // The catalogue: any signed-in user (each sees the offers open to them; the content is tested in privacy/offers.test.ts).
  { method: 'GET', route: '/api/v1/data-offers', url: () => '/api/v1/data-offers', expect: usersOnly(200) },
  { method: 'POST', route: '/api/v1/data-offers/:id/withdraw', url: (w, tp) => dataOfferOfA(tp, w).then((id) => `/api/v1/data-offers/${id}/withdraw`),
    expect: { ...everyone(404), anonymous: 401, memberA: 200, memberA2: 403, managerA: 403, admin: 403 } },
  { method: 'POST', route: '/api/v1/data-offers/:id/accept', url: (w, tp) => dataOfferOfA(tp, w).then((id) => `/api/v1/data-offers/${id}/accept`),
    body: (w) => ({ memberId: w.memberIdA2, purpose: { code: 'peer-comparison', statement: 'Compare our days.' } }),
    expect: { ...everyone(404), anonymous: 401, memberA: 403, memberA2: 201, managerA: 403, admin: 403 } },
  { method: 'GET', route: '/api/v1/members/:id/access-log', url: (w) => `/api/v1/members/${w.memberIdA}/access-log`, expect: onlyMemberA(200) },
  { method: 'GET', route: '/api/v1/members/:id/export.zip', url: (w) => `/api/v1/members/${w.memberIdA}/export.zip`, expect: onlyMemberA(200) },
  // Export jobs: a member's is theirs alone (not even their managers or an admin learn of it); a manager export is the managers'.
  { method: 'POST', route: '/api/v1/members/:id/export-jobs', url: (w) => `/api/v1/members/${w.memberIdA}/export-jobs`, expect: onlyMemberA(202) },
  { method: 'GET', route: '/api/v1/members/:id/export-jobs', url: (w) => `/api/v1/members/${w.memberIdA}/export-jobs`, expect: onlyMemberA(200) },
  { method: 'POST', route: '/api/v1/communities/:id/export-jobs', url: async (w, tp) => {
    // One manager export at a time: the one asked for before is done first.
    await tp.platform.jobs.flush(PRIVACY_EXPORTS_JOB);
    return `/api/v1/communities/${w.communityA}/export-jobs`;
  }, body: () => ({ export: 'regulator-intervals', from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' }), expect: managersOfA(202) },
  { method: 'GET', route: '/api/v1/communities/:id/export-jobs', url: (w) => `/api/v1/communities/${w.communityA}/export-jobs`, expect: managersOfA(200),
    check: (_role, body) => expect(body.every((j: { memberId: string | null }) => j.memberId === null)).toBe(true) },
  { method: 'GET', route: '/api/v1/communities/:id/export-jobs/overview', url: (w) => `/api/v1/communities/${w.communityA}/export-jobs/overview`,
    expect: managersOfA(200), check: (_role, body) => expect(body.every((j: Record<string, unknown>) => !('fileName' in j))).toBe(true) },
  { method: 'GET', route: '/api/v1/export-jobs/:id', url: async (w, tp) => `/api/v1/export-jobs/${await exportJobOfA(tp, w)}`,
    expect: { ...everyone(404), anonymous: 401, memberA: 200 } },
  { method: 'GET', route: '/api/v1/export-jobs/:id/file', url: async (w, tp) => `/api/v1/export-jobs/${await exportJobOfA(tp, w)}/file`,
    expect: { ...everyone(404), anonymous: 401, memberA: 200 } },
  // A fresh member of A each time (erasure is for good): nobody else of A learns of them, managers may not, an admin may on request.
  { method: 'POST', route: '/api/v1/members/:id/erasure', url: (w, tp) => freshMemberOfA(tp, w, 'active').then((id) => `/api/v1/members/${id}/erasure`),
    expect: { ...everyone(404), anonymous: 401, managerA: 403, admin: 201 } },
  { method: 'GET', route: '/api/v1/communities/:id/processing-register', url: (w) => `/api/v1/communities/${w.communityA}/processing-register`, expect: membersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/erasure-requests', url: (w) => `/api/v1/communities/${w.communityA}/erasure-requests`, expect: managersOfA(200) },
  { method: 'PUT', route: '/api/v1/communities/:id/retention', url: (w) => `/api/v1/communities/${w.communityA}/retention`,
    body: () => ({ rawReadingsDays: 90, intervalsDays: 1100, forecastsDays: 90, accessLogDays: 732, operationalLogsDays: 90, exportFilesDays: 7, billingRecordsYears: 10 }),
    expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/masking-rules', url: (w) => `/api/v1/communities/${w.communityA}/masking-rules`, expect: managersOfA(200) },
  { method: 'PUT', route: '/api/v1/communities/:id/masking-rules', url: (w) => `/api/v1/communities/${w.communityA}/masking-rules`,
    body: () => ({ export: 'regulator-intervals', name: 'Matrix', fields: { member_name: 'drop', metering_point: 'hash', address: 'drop' }, otherFields: 'keep' }), expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/exports/regulator-intervals.csv',
    url: (w) => `/api/v1/communities/${w.communityA}/exports/regulator-intervals.csv?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`, expect: managersOfA(200) },

  { method: 'GET', route: '/api/v1/members/:id/market/orders', url: async (w, tp) => {
    await orderOfA(tp, w);
    return `/api/v1/members/${w.memberIdA}/market/orders`;
  }, expect: ownerOfA(200), check: ownOrdersOnly },
  { method: 'POST', route: '/api/v1/members/:id/market/orders', url: async (w, tp) => {
    await openMarketOfA(tp, w);
    return `/api/v1/members/${w.memberIdA}/market/orders`;
  }, body: orderBody, expect: onlyMemberA(201) },
  { method: 'DELETE', route: '/api/v1/market-orders/:id', url: async (w, tp) => `/api/v1/market-orders/${await orderOfA(tp, w)}`, expect: onlyMemberA(204) },
  { method: 'GET', route: '/api/v1/members/:id/market/agent-limits', url: (w) => `/api/v1/members/${w.memberIdA}/market/agent-limits`, expect: ownerOfA(200) },
  { method: 'PUT', route: '/api/v1/members/:id/market/agent-limits', url: (w) => `/api/v1/members/${w.memberIdA}/market/agent-limits`,
    body: () => ({ enabled: false, minSellPrice: '0.0900', maxBuyPrice: null, sellShare: '0.5', buyShare: '1', meteringPointIds: [] }), expect: onlyMemberA(200) },
  { method: 'GET', route: '/api/v1/members/:id/market/trades', url: (w) => `/api/v1/members/${w.memberIdA}/market/trades`, expect: ownerOfA(200) },
  { method: 'GET', route: '/api/v1/members/:id/market/wallet', url: (w) => `/api/v1/members/${w.memberIdA}/market/wallet`, expect: ownerOfA(200),
    check: (_role, body, w) => expect(body.memberId).toBe(w.memberIdA) },
  { method: 'GET', route: '/api/v1/communities/:id/market/settings', url: (w) => `/api/v1/communities/${w.communityA}/market/settings`, expect: managersOfA(200) },
  { method: 'PUT', route: '/api/v1/communities/:id/market/settings', url: (w) => `/api/v1/communities/${w.communityA}/market/settings`,
    body: () => ({ mechanism: 'uniform', gateLeadMinutes: 5, gridFee: '0.0000', floor: null, ceiling: null, surplusPrice: '0.0500', shortfallPrice: '0.3000' }),
    expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/market/slots', url: (w) => `/api/v1/communities/${w.communityA}/market/slots`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/market/slots/:start',
    url: async (w, tp) => `/api/v1/communities/${w.communityA}/market/slots/${await clearedSlotOfA(tp, w)}`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/market/slots/:start/depth',
    url: async (w, tp) => `/api/v1/communities/${w.communityA}/market/slots/${await clearedSlotOfA(tp, w)}/depth`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/market/statistics', url: (w) => `/api/v1/communities/${w.communityA}/market/statistics`, expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/market/wallets', url: (w) => `/api/v1/communities/${w.communityA}/market/wallets`, expect: managersOfA(200) },
  { method: 'POST', route: '/api/v1/communities/:id/market/top-ups', url: (w) => `/api/v1/communities/${w.communityA}/market/top-ups`,
    body: (w) => ({ memberId: w.memberIdA, amount: '1.00', reference: 'matrix' }), expect: managersOfA(201) },
  { method: 'GET', route: '/api/v1/members/:id/market/disputes', url: async (w, tp) => {
    await disputeOfA(tp, w);
    return `/api/v1/members/${w.memberIdA}/market/disputes`;
  }, expect: ownerOfA(200), check: (_role, body, w) => expect(body.every((d: { memberId: string }) => d.memberId === w.memberIdA)).toBe(true) },
  { method: 'POST', route: '/api/v1/members/:id/market/disputes', url: async (w, tp) => {
    await freshPostingOfA(tp, w);
    return `/api/v1/members/${w.memberIdA}/market/disputes`;
  }, body: () => ({ posting: postingOfA, reason: 'matrix' }), expect: onlyMemberA(201) },
  { method: 'GET', route: '/api/v1/communities/:id/market/disputes', url: (w) => `/api/v1/communities/${w.communityA}/market/disputes`, expect: managersOfA(200) },
  { method: 'POST', route: '/api/v1/communities/:id/market/disputes/:disputeId/resolution',
    url: async (w, tp) => `/api/v1/communities/${w.communityA}/market/disputes/${await disputeOfA(tp, w)}/resolution`,
    body: () => ({ outcome: 'rejected', note: 'matrix' }), expect: managersOfA(200) },
  { method: 'GET', route: '/api/v1/communities/:id/market/payouts', url: (w) => `/api/v1/communities/${w.communityA}/market/payouts`, expect: managersOfA(200) },
  { method: 'POST', route: '/api/v1/communities/:id/market/payouts/:payoutId/decision',
    url: async (w, tp) => `/api/v1/communities/${w.communityA}/market/payouts/${await payoutOfA(tp, w)}/decision`,
    body: () => ({ outcome: 'confirmed', reference: 'matrix' }), expect: managersOfA(200) },

  // The audit trail: A's managers and admins read A's (never B's); members nothing; the whole installation's for admins only.
  // Notifications: one's own; another user's notification or an unknown delivery is not found (the owner's positive cases: test/notifications/phase2.test.ts).
  { method: 'GET', route: '/api/v1/me/notifications', url: () => '/api/v1/me/notifications', expect: usersOnly(200) },
  { method: 'POST', route: '/api/v1/me/notifications/:id/read', url: () => `/api/v1/me/notifications/${randomUUID()}/read`, expect: usersOnly(404) },
  { method: 'POST', route: '/api/v1/me/notifications/read-all', url: () => '/api/v1/me/notifications/read-all', expect: usersOnly(204) },
  { method: 'GET', route: '/api/v1/me/notification-preferences', url: () => '/api/v1/me/notification-preferences', expect: usersOnly(200) },
  { method: 'PUT', route: '/api/v1/me/notification-preferences', url: () => '/api/v1/me/notification-preferences',
    body: () => ({ preferences: [{ event: 'statement-ready', channel: 'email', enabled: true }] }), expect: usersOnly(200) },
  { method: 'GET', route: '/api/v1/communities/:id/deliveries', url: (w) => `/api/v1/communities/${w.communityA}/deliveries`, expect: managersOfA(200) },
  { method: 'POST', route: '/api/v1/deliveries/:id/resend', url: () => `/api/v1/deliveries/${randomUUID()}/resend`, expect: usersOnly(404) },
  // Email is off on the matrix's platform: a manager of A is told so (409).
  { method: 'POST', route: '/api/v1/settlements/:id/statement-emails', url: async (w, tp) => `/api/v1/settlements/${(await invoiceOfA(tp, w)).settlementId}/statement-emails`,
    expect: managersOfA(409) },
  { method: 'GET', route: '/api/v1/communities/:id/audit', url: (w) => `/api/v1/communities/${w.communityA}/audit`, expect: managersOfA(200),
    check: (_role, body, w) => {
      expect(body.entries.length).toBeGreaterThan(0);
      expect(body.entries.every((e: { communityId: string }) => e.communityId === w.communityA)).toBe(true);
    } },
  { method: 'GET', route: '/api/v1/communities/:id/audit', url: (w) => `/api/v1/communities/${w.communityB}/audit`,
    expect: { ...everyone(404), anonymous: 401, memberB: 403, managerB: 200, admin: 200 },
    check: (_role, body, w) => expect(body.entries.every((e: { communityId: string }) => e.communityId === w.communityB)).toBe(true) },
  { method: 'GET', route: '/api/v1/communities/:id/audit.csv', url: (w) => `/api/v1/communities/${w.communityA}/audit.csv`, expect: managersOfA(200),
    check: (_role, body, w) => {
      const text = String(body);
      expect(text.split('\n')[0]).toMatch(/^id,at,community_id,/);
      expect(text).toContain(w.communityA);
      expect(text).not.toContain(w.communityB);
    } },
  { method: 'GET', route: '/api/v1/audit', url: () => '/api/v1/audit', expect: adminOnly(200) },
  { method: 'GET', route: '/api/v1/audit.csv', url: () => '/api/v1/audit.csv', expect: adminOnly(200) },
];

const MOVED_BEFORE = 111;
const MOVED_AFTER = 222;
/** The reader moved from memberA2's site to memberA's, with one reading on each (set in beforeAll). */
const moved = { id: '' };
const recentRange = () => `from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 3_600_000).toISOString()}`;

async function movedReader(tp: TestPlatform, w: World): Promise<string> {
  const batch = await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token: w.managerA.token, body: { count: 1 } });
  const id = batch.body.deviceIds[0] as string;
  const credentials = await deviceCredentials(tp, w.managerA.token, id);
  const send = async (ts: Date, value: number) => {
    const response = await tp.call('POST', `/api/v1/devices/${id}/readings`, {
      headers: { authorization: sasFor(credentials) }, body: { readings: [{ ts: ts.toISOString(), quantity: 'power.import', value, unit: 'W' }] } });
    if (response.status !== 200) throw new Error(`reading: ${response.status} ${JSON.stringify(response.body)}`);
  };
  await tp.call('PATCH', `/api/v1/devices/${id}`, { token: w.managerA.token, body: { meteringPointId: w.meteringPointA2 } });
  await send(new Date(Date.now() - 600_000), MOVED_BEFORE);
  // memberA's site has its billing meter (provisionedA): the moved reader goes there as a sub-meter.
  const moved = await tp.call('PATCH', `/api/v1/devices/${id}`, { token: w.managerA.token, body: { meteringPointId: w.meteringPointA, role: 'sub-load' } });
  if (moved.status !== 200) throw new Error(`move: ${moved.status} ${JSON.stringify(moved.body)}`);
  await new Promise((r) => setTimeout(r, 5));
  await send(new Date(), MOVED_AFTER);
  return id;
}

const MATRIX_ZP = 'AT0010000000000000001000000000777';
/** A's metering point with a Zählpunkt for EDA messages (registered once per platform). */
const zaehlpunktRegistered = new WeakSet<TestPlatform>();
async function registerZaehlpunktOfA(tp: TestPlatform, w: World): Promise<void> {
  if (!zaehlpunktRegistered.has(tp)) {
    const response = await tp.call('POST', `/api/v1/communities/${w.communityA}/metering-points`, {
      token: w.managerA.token, body: { memberId: w.memberIdA2, name: 'EDA point', gridConnectionId: MATRIX_ZP, role: 'consumer' } });
    if (response.status !== 201) throw new Error(`metering point: ${response.status} ${JSON.stringify(response.body)}`);
    zaehlpunktRegistered.add(tp);
  }
}

/** A small EDA ConsumptionRecord for A's Zählpunkt: one hour of consumption. */
function edaMessage(messageId: string): string {
  return consumptionRecordXml({
    meteringPoint: MATRIX_ZP, messageId,
    energy: [{ startMs: Date.UTC(2025, 4, 31, 22), count: 4, series: [{ code: '1-1:1.9.0 G.01', values: ['0.100', '0.200', '0.300', '0.400'] }] }],
  });
}

/** A draft settlement of A for the month (run again if it exists). */
async function settlementOfA(tp: TestPlatform, w: World, period: string): Promise<{ id: string; statements: { id: string; memberId: string }[] }> {
  const response = await tp.call('POST', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token, body: { period } });
  if (response.status !== 201) throw new Error(`settlement: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** memberA's statement in a closed settlement of A, in the verifiable record with a checkpoint that includes it. */
async function loggedStatementOfA(tp: TestPlatform, w: World): Promise<string> {
  const id = await statementOfA(tp, w);
  await tp.platform.jobs.flush(OUTBOX_JOB);
  await tp.platform.ledger.job.flush();
  return id;
}

/** An address-book entry with a fresh domain. */
const flexParticipant = () => ({
  domain: `${unique('dso')}.example.org`, role: 'DSO', endpoint: 'https://dso.example.org/shapeshifter/api/v3/message', publicKeys: [Buffer.alloc(32, 7).toString('base64')],
});
async function flexIdentityOfA(tp: TestPlatform, w: World): Promise<void> {
  await tp.call('PUT', `/api/v1/communities/${w.communityA}/flex/identity`, { token: w.managerA.token, body: { domain: `a-${w.communityA}.example.org` } });
}
/** A fresh address-book entry of A. */
async function flexParticipantOfA(tp: TestPlatform, w: World): Promise<string> {
  const response = await tp.call('POST', `/api/v1/communities/${w.communityA}/flex/participants`, { token: w.managerA.token, body: flexParticipant() });
  if (response.status !== 201) throw new Error(`participant: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id;
}

/** A's UFTP identity and one DSO of its address book with a congestion point, for contracts (one per world). */
const flexDsos = new WeakMap<World, string>();
async function flexDsoOfA(tp: TestPlatform, w: World): Promise<string> {
  let id = flexDsos.get(w);
  if (!id) {
    await flexIdentityOfA(tp, w);
    const response = await tp.call('POST', `/api/v1/communities/${w.communityA}/flex/participants`, {
      token: w.managerA.token, body: { ...flexParticipant(), congestionPoints: ['ean.matrix-cp'] },
    });
    if (response.status !== 201) throw new Error(`participant: ${response.status} ${JSON.stringify(response.body)}`);
    id = response.body.id as string;
    flexDsos.set(w, id);
  }
  return id;
}
function flexContractTerms(w: World) {
  return {
    participantId: flexDsos.get(w), congestionPoints: ['ean.matrix-cp'], serviceType: 'congestion-management', validFrom: '2027-01-01', validTo: '2027-12-31',
    windows: [{ weekdays: [1, 2, 3, 4, 5], from: '11:00', to: '15:00' }], capacityRemuneration: '2.5', volumeRemuneration: '0.12', penaltyRate: '0.3',
  };
}
/** A fresh contract of A, a draft or activated. */
async function flexContractOfA(tp: TestPlatform, w: World, state: 'draft' | 'active'): Promise<string> {
  await flexDsoOfA(tp, w);
  const response = await tp.call('POST', `/api/v1/communities/${w.communityA}/flex/contracts`, { token: w.managerA.token, body: flexContractTerms(w) });
  if (response.status !== 201) throw new Error(`contract: ${response.status} ${JSON.stringify(response.body)}`);
  if (state === 'active') await tp.call('POST', `/api/v1/flex/contracts/${response.body.id}/activate`, { token: w.managerA.token });
  return response.body.id as string;
}
/** An active contract of A and a smart plug of memberA's (one per world). */
const flexOptIns = new WeakMap<World, string>();
async function flexOptInUrlOfA(tp: TestPlatform, w: World): Promise<string> {
  let url = flexOptIns.get(w);
  if (!url) {
    url = `/api/v1/flex/contracts/${await flexContractOfA(tp, w, 'active')}/devices/${await plugOfA(tp, w, false)}`;
    flexOptIns.set(w, url);
  }
  return url;
}

/** memberA's statement in a closed settlement of A (one per platform). */
const closedStatementOfA = new WeakMap<TestPlatform, string>();
async function statementOfA(tp: TestPlatform, w: World): Promise<string> {
  const known = closedStatementOfA.get(tp);
  if (known) return known;
  const settlement = await settlementOfA(tp, w, '2025-12');
  await tp.call('POST', await confirmedCloseUrl(tp, w.managerA.token, settlement.id), { token: w.managerA.token });
  const id = settlement.statements.find((s) => s.memberId === w.memberIdA)!.id;
  closedStatementOfA.set(tp, id);
  return id;
}

const BILLING_PROFILE = {
  legalName: 'Matrix Community eGen', address: { street: 'Hauptplatz 1', postalCode: '8010', city: 'Graz', country: 'AT' },
  vat: { country: 'AT', regime: 'registered', vatId: 'ATU12345678' }, bank: { iban: 'AT611904300234573201' }, creditorId: 'DE98ZZZ09999999999',
  invoicePrefix: 'MX-', paymentTermDays: 14,
};
const billingDetails = (fullName: string) => ({ fullName, address: { street: 'Gasse 1', postalCode: '8020', city: 'Graz', country: 'AT' }, vat: { regime: 'private' } });
/** A camt.053 statement with no entries: read, matched against nothing, changes nothing. */
/** A bank statement with no transactions, valid against the ISO schema (the import checks it first). */
const EMPTY_CAMT = camt053('02', []);
const SEPA_MANDATE = { mandateId: 'MX-0001', signedOn: '2025-01-02', iban: 'DE89370400440532013000', accountHolder: 'Anna A' };

/** A issues invoices: its profile, and the billing addresses of the members with sites (whose statements every closing invoices). */
const invoicing = new WeakMap<TestPlatform, Promise<void>>();
function invoicingInA(tp: TestPlatform, w: World): Promise<void> {
  let done = invoicing.get(tp);
  if (!done) {
    done = (async () => {
      for (const [member, token] of [[w.memberIdA, w.memberA.token], [w.memberIdA2, w.memberA2.token]] as const) {
        const response = await tp.call('PUT', `/api/v1/members/${member}/billing-details`, { token, body: billingDetails('Matrix member') });
        if (response.status !== 200) throw new Error(`billing details: ${response.status} ${JSON.stringify(response.body)}`);
      }
      const response = await tp.call('PUT', `/api/v1/communities/${w.communityA}/billing-profile`, { token: w.managerA.token, body: BILLING_PROFILE });
      if (response.status !== 200) throw new Error(`billing profile: ${response.status} ${JSON.stringify(response.body)}`);
    })();
    invoicing.set(tp, done);
  }
  return done;
}

/** memberA's invoice of a closed month of A (one per platform). */
const invoicesOfA = new WeakMap<TestPlatform, Promise<{ id: string; settlementId: string }>>();
function invoiceOfA(tp: TestPlatform, w: World): Promise<{ id: string; settlementId: string }> {
  let invoice = invoicesOfA.get(tp);
  if (!invoice) {
    invoice = (async () => {
      await invoicingInA(tp, w);
      const settlement = await settlementOfA(tp, w, '2025-11');
      const closed = await tp.call('POST', await confirmedCloseUrl(tp, w.managerA.token, settlement.id), { token: w.managerA.token });
      if (closed.status !== 200) throw new Error(`close: ${closed.status} ${JSON.stringify(closed.body)}`);
      const invoices = (await tp.call('GET', `/api/v1/settlements/${settlement.id}/invoices`, { token: w.managerA.token })).body as { id: string; memberId: string }[];
      return { id: invoices.find((i) => i.memberId === w.memberIdA)!.id, settlementId: settlement.id };
    })();
    invoicesOfA.set(tp, invoice);
  }
  return invoice;
}

let month = 0;
/** A distinct past month per call (closing one is for good). */
function nextMonth(): string {
  month += 1;
  return new Date(Date.UTC(2020, month, 1)).toISOString().slice(0, 7);
}

/** The status of a streaming GET over real HTTP; the stream itself is dropped at once. */
async function streamStatus(tp: TestPlatform, url: string, token: string | undefined): Promise<number> {
  const controller = new AbortController();
  const response = await fetch(`${tp.platform.httpUrl.replace('localhost', '127.0.0.1')}${url}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: controller.signal,
  });
  controller.abort();
  return response.status;
}

let day = 0;
/** A distinct tariff start date per call (tariffs are unique per community and date). */
function nextDate(): string {
  day += 1;
  return new Date(Date.UTC(2030, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
}

describe.each(storeKinds)('authorisation matrix on %s', (kind) => {
  let tp: TestPlatform;
  let world: World;
  const tokens = {} as Record<Role, string | undefined>;

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    world = await buildWorld(tp);
    await invitationToMemberB(tp, world);
    moved.id = await movedReader(tp, world);
    Object.assign(tokens, {
      anonymous: undefined,
      memberA: world.memberA.token,
      memberA2: world.memberA2.token,
      memberB: world.memberB.token,
      managerA: world.managerA.token,
      managerB: world.managerB.token,
      admin: tp.admin.token,
    });
  });
  afterAll(() => tp?.close());

  it('has a case for every route the API documents', () => {
    const documented = Object.entries((tp.platform.app.swagger() as { paths: Record<string, object> }).paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
    const covered = new Set(cases.map((c) => `${c.method} ${c.route}`));
    expect(documented.filter((route) => !covered.has(route))).toEqual([]);
    expect(documented.length).toBeGreaterThan(30);
  });

  // The consent API with a recipient token (a researcher, the grid operator, an app): its own grant, in scope, while it lasts.
  it('GET /api/v1/consents/:id/series with a recipient token', async () => {
    const grant = await researchGrantOfA(tp, world);
    const another = await researchGrantOfA(tp, world);
    const expiring = await researchGrantOfA(tp, world, 1_000);
    const revoked = await researchGrantOfA(tp, world);
    await tp.call('POST', `/api/v1/consents/${revoked.id}/revoke`, { token: world.memberA.token });
    const status = async (url: string, token: string | undefined) => (await tp.call('GET', url, { token })).status;
    expect(await status(seriesOf(world, grant.id), grant.token)).toBe(200);
    expect(await status(seriesOf(world, grant.id, '15m'), grant.token)).toBe(404);
    expect(await status(seriesOf(world, revoked.id), revoked.token)).toBe(404);
    expect(await status(seriesOf(world, grant.id), another.token)).toBe(404);
    expect(await status(seriesOf(world, another.id), grant.token)).toBe(404);
    // Nobody with a login of their own holds a researcher's grant, not even the member who gave it.
    const byRole = Object.fromEntries(await Promise.all(ROLES.map(async (role) => [role, await status(seriesOf(world, grant.id), tokens[role])])));
    expect(byRole).toEqual({ ...everyone(404), anonymous: 401 });
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await status(seriesOf(world, expiring.id), expiring.token)).toBe(404);
  });

  for (const [index, c] of cases.entries()) {
    it(`#${index + 1} ${c.method} ${c.route}`, async () => {
      const results: Partial<Record<Role, number>> = {};
      for (const role of ROLES) {
        const url = await c.url(world, tp);
        if (c.stream) {
          results[role] = await streamStatus(tp, url, tokens[role]);
          continue;
        }
        const file = c.file?.(world);
        const response = await tp.call(c.method, url, file
          ? { token: tokens[role], rawBody: file.text, headers: { 'content-type': file.contentType } }
          : { token: tokens[role], body: c.body?.(world) });
        results[role] = response.status;
        if (response.status >= 400) {
          expect(response.body, `${role}: error body`).toMatchObject({ error: expect.any(String), message: expect.any(String) });
        } else if (c.check) {
          c.check(role, response.body, world);
        }
      }
      expect(results).toEqual(c.expect);
    });
  }
});
