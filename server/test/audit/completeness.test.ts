import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '@gridshare/contract';
import { platformStoreKinds } from '../support/stores.js';
import { signUp, startTestPlatform, unique, type TestPlatform, type TestUser } from '../support/platform.js';
import { buildWorld, communityBody, type World } from '../support/world.js';
import { consumptionRecordXml } from '../sharing/eda/support/messages.js';
import { formatVerifierKey, SIGNATURE_TYPE } from '../../src/ledger/domain/index.js';
import { ed25519PublicKey } from '../../src/ledger/domain/crypto.js';
import { generateSigningKey } from '../../src/flex/index.js';

/**
 * "Every change made by a person" is on the trail. Each route that changes something either
 * records an audit kind or says here why it is no person's change of settings; a new route with
 * neither fails the first test. The others make each change the older audit tests did not cover
 * and read its entry: who, the action, and that no secret reached it.
 */
const AUDITED: Record<string, string> = {
  'PUT /api/v1/communities/:id/allocation-shares': 'share',
  'PUT /api/v1/communities/:id/allocation-coefficients': 'coefficients',
  'PUT /api/v1/communities/:id/co2-intensity': 'co2-intensity',
  'POST /api/v1/auth/password-reset/confirm': 'account',
  'POST /api/v1/auth/verify-email': 'account',
  'PATCH /api/v1/me': 'account',
  'POST /api/v1/me/password': 'account',
  'POST /api/v1/me/tokens': 'account',
  'PUT /api/v1/me/notification-preferences': 'account',
  'DELETE /api/v1/me/tokens/:id': 'account',
  'POST /api/v1/admin/communities': 'community',
  'POST /api/v1/admin/communities/:id/suspend': 'community',
  'POST /api/v1/admin/communities/:id/resume': 'community',
  'POST /api/v1/admin/users/:id/lock': 'account',
  'POST /api/v1/admin/users/:id/unlock': 'account',
  'PUT /api/v1/admin/users/:id/admin': 'account',
  'POST /api/v1/admin/jobs/:name/pause': 'job',
  'POST /api/v1/admin/jobs/:name/resume': 'job',
  'POST /api/v1/communities/:id/connectors': 'connector',
  'PATCH /api/v1/connectors/:id': 'connector',
  'DELETE /api/v1/connectors/:id': 'connector',
  'PATCH /api/v1/quotas': 'quota',
  'PATCH /api/v1/users/:id/quotas': 'quota',
  'PATCH /api/v1/communities/:id/quotas': 'quota',
  'POST /api/v1/secrets/rotate': 'key',
  'PUT /api/v1/communities/:id/weather-source': 'weather-source',
  'POST /api/v1/devices/:id/manual-commands': 'command',
  'POST /api/v1/settlements/:id/close': 'settlement',
  'POST /api/v1/settlements/:id/recompute': 'settlement',
  'POST /api/v1/communities': 'community',
  'PATCH /api/v1/communities/:id': 'community',
  'DELETE /api/v1/communities/:id': 'community',
  'POST /api/v1/communities/:id/invitations': 'invitation',
  'DELETE /api/v1/invitations/:id': 'invitation',
  'POST /api/v1/invitations/:id/accept': 'member',
  'POST /api/v1/invitations/:id/decline': 'invitation',
  'POST /api/v1/communities/:id/join-requests': 'member',
  'PATCH /api/v1/members/:id': 'member',
  'POST /api/v1/members/:id/approve': 'member',
  'POST /api/v1/members/:id/reject': 'member',
  'POST /api/v1/members/:id/leave': 'member',
  'POST /api/v1/communities/:id/metering-points': 'metering-point',
  'PATCH /api/v1/metering-points/:id': 'metering-point',
  'DELETE /api/v1/metering-points/:id': 'metering-point',
  'POST /api/v1/communities/:id/devices': 'device',
  'PATCH /api/v1/devices/:id': 'device',
  'PUT /api/v1/devices/:id/specs': 'device',
  'DELETE /api/v1/devices/:id': 'device',
  'POST /api/v1/communities/:id/tariffs': 'tariff',
  'PATCH /api/v1/tariffs/:id': 'tariff',
  'DELETE /api/v1/tariffs/:id': 'tariff',
  'PUT /api/v1/communities/:id/plan-objective': 'plan-objective',
  'PUT /api/v1/devices/:id/control': 'device-control',
  'POST /api/v1/devices/:id/appliance-requests': 'appliance-request',
  'DELETE /api/v1/appliance-requests/:id': 'appliance-request',
  'POST /api/v1/communities/:id/device-batches': 'device-batch',
  'PATCH /api/v1/device-batches/:id': 'device-batch',
  'POST /api/v1/device-batches/:id/rollback': 'device-batch',
  'POST /api/v1/devices/:id/keys/:slot/rotate': 'key',
  'POST /api/v1/claims': 'device',
  'PUT /api/v1/members/:id/market/agent-limits': 'agent-limits',
  'PUT /api/v1/communities/:id/market/settings': 'market',
  'POST /api/v1/communities/:id/market/top-ups': 'wallet',
  'POST /api/v1/members/:id/market/disputes': 'wallet',
  'POST /api/v1/communities/:id/market/disputes/:disputeId/resolution': 'wallet',
  'POST /api/v1/communities/:id/market/payouts/:payoutId/decision': 'wallet',
  'POST /api/v1/members/:id/consents': 'consent',
  'POST /api/v1/consents/:id/revoke': 'consent',
  'POST /api/v1/consents/:id/recipient-token': 'consent',
  'POST /api/v1/members/:id/data-offers': 'consent',
  'POST /api/v1/data-offers/:id/withdraw': 'consent',
  'POST /api/v1/data-offers/:id/accept': 'consent',
  'POST /api/v1/members/:id/erasure': 'erasure',
  'PUT /api/v1/communities/:id/retention': 'retention',
  'PUT /api/v1/communities/:id/masking-rules': 'masking',
  'PUT /api/v1/devices/:id/meter-keys': 'key',
  'POST /api/v1/ledger/witnesses': 'key',
  'DELETE /api/v1/ledger/witnesses/:name': 'key',
  'POST /api/v1/communities/:id/operator-imports': 'operator-import',
  'PUT /api/v1/communities/:id/flex/identity': 'flex',
  'POST /api/v1/communities/:id/flex/participants': 'flex',
  'PUT /api/v1/flex/participants/:id': 'flex',
  'DELETE /api/v1/flex/participants/:id': 'flex',
  'POST /api/v1/communities/:id/flex/contracts': 'flex',
  'PUT /api/v1/flex/contracts/:id': 'flex',
  'POST /api/v1/flex/contracts/:id/activate': 'flex',
  'POST /api/v1/flex/contracts/:id/end': 'flex',
  'PUT /api/v1/flex/participants/:id/portfolio': 'flex',
  'PUT /api/v1/communities/:id/billing-profile': 'billing-profile',
  'PUT /api/v1/members/:id/billing-details': 'billing-details',
  'PUT /api/v1/members/:id/sepa-mandate': 'sepa-mandate',
  'DELETE /api/v1/members/:id/sepa-mandate': 'sepa-mandate',
  'PUT /api/v1/invoices/:id/payment': 'payment',
  'POST /api/v1/settlements/:id/bank-statements': 'payment',
};

/** Routes that change no settings: signing in, devices' own traffic, runs and trades that have records of their own. */
const NOT_A_SETTINGS_CHANGE: Record<string, string> = {
  'POST /api/v1/auth/signup': 'creates the account itself; the trail starts with what the account does',
  'POST /api/v1/auth/login': 'a sign-in, not a change (failed attempts are rate-limited and logged)',
  'POST /api/v1/auth/password-reset': 'asks for a link; the reset itself is recorded when the link is used',
  'POST /api/v1/me/verification-email': 'asks for a new link; the verification is recorded when the link is used',
  'POST /api/v1/auth/logout': 'ends the caller\'s own session',
  'POST /api/v1/me/notifications/:id/read': 'marks one of the caller\'s own notifications read',
  'POST /api/v1/me/notifications/read-all': 'marks the caller\'s own notifications read',
  'POST /api/v1/deliveries/:id/resend': 'sends a failed email again; the delivery log records every attempt',
  'POST /api/v1/settlements/:id/statement-emails': 'sends the month\'s statements by email; the delivery log records each one',
  'POST /api/v1/communities/:id/connectors/test': 'a dry run: nothing is stored',
  'POST /api/v1/connectors/:id/run': 'runs the connector now; its run is kept in the connector\'s run history',
  'POST /api/v1/connectors/:id/commands': 'a device command through the connector, kept with the connector\'s runs',
  'POST /api/v1/devices/:id/commands/ack': 'a device acknowledging its command (the command keeps its state)',
  'POST /api/v1/devices/:id/readings': 'a device\'s readings',
  'POST /api/v1/devices/:id/frames/:format': 'a device\'s meter frames',
  'POST /api/v1/devices/:id/meter-exchanges': 'a device reporting its meter was exchanged (kept with the readings)',
  'POST /api/v1/communities/:id/settlements': 'a draft settlement, recomputed at will; closing it is the decision',
  'POST /api/v1/communities/:id/plan/replan': 'plans now; the plan is stored with its inputs',
  'POST /api/v1/members/:id/market/orders': 'an order; trades are in the verifiable record',
  'DELETE /api/v1/market-orders/:id': 'withdraws an open order before its gate',
  'POST /api/v1/broker/authenticate': 'the broker asking whether a device may connect',
  'POST /api/v1/broker/authorize': 'the broker asking whether a device may publish or subscribe',
  'POST /api/v1/members/:id/export-jobs': 'asks for the member\'s own export; the export is in their access log',
  'POST /api/v1/communities/:id/export-jobs': 'asks for a masked export; each member in it has the read in their access log',
  'POST /api/v1/ledger/checkpoint': 'signs a checkpoint now; checkpoints are the verifiable record\'s own',
  'POST /shapeshifter/api/v3/message': 'a grid operator\'s UFTP message; every message is stored and in the verifiable record',
  'PUT /api/v1/flex/contracts/:id/devices/:deviceId': 'a member\'s own flexibility opt-in: managers see participation only as counts, so it stays off their trail',
  'DELETE /api/v1/flex/contracts/:id/devices/:deviceId': 'a member\'s own flexibility opt-out: kept off the managers\' trail as the opt-in',
  'POST /api/v1/flex/activation-requests/:id/answer': 'a member\'s own answer to a manual activation request: managers see only counts, as with the opt-in',
  'POST /api/v1/communities/:id/flex/offers/:messageId/revoke': 'sends a FlexOfferRevocation: a UFTP message, stored and in the verifiable record',
  'POST /api/v1/communities/:id/flex/offers': 'sends an unsolicited FlexOffer: a UFTP message, stored and in the verifiable record',
};

describe('every route that changes something has its place on the trail', () => {
  it('is audited or says why it is no person\'s change of settings', () => {
    const changing = Object.values(api).filter((route) => route.method !== 'GET').map((route) => `${route.method} ${route.path}`);
    const undecided = changing.filter((key) => !(key in AUDITED) && !(key in NOT_A_SETTINGS_CHANGE));
    expect(undecided, 'add each to AUDITED (with a recordChange call) or to NOT_A_SETTINGS_CHANGE with the reason').toEqual([]);
    const stale = [...Object.keys(AUDITED), ...Object.keys(NOT_A_SETTINGS_CHANGE)].filter((key) => !changing.includes(key));
    expect(stale, 'routes that no longer exist').toEqual([]);
  });
});

interface Entry {
  communityId: string | null; kind: string; resourceId: string; action: string;
  actor: { userId: string | null; role: string }; subjectMemberId: string | null;
  diff: { path: string; before: string | null; after: string | null }[];
}

describe.each(platformStoreKinds)('the trail of accounts, administration, keys and members\' settings (%s)', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let adminId: string;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    adminId = (await tp.call('GET', '/api/v1/me', { token: tp.admin.token })).body.user.id;
  }, 120_000);
  afterAll(async () => tp?.close());

  const change = async (method: string, url: string, token: string, body?: unknown) => {
    const response = await tp.call(method, url, { token, body });
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const installationTrail = async (auditKind: string): Promise<Entry[]> =>
    (await change('GET', `/api/v1/audit?kind=${auditKind}&limit=500`, tp.admin.token)).entries;
  const communityTrail = async (auditKind: string, communityId = w.communityA): Promise<Entry[]> =>
    (await change('GET', `/api/v1/communities/${communityId}/audit?kind=${auditKind}&limit=500`, tp.admin.token)).entries;
  const newest = (entries: Entry[], resourceId: string, action: string) => {
    const entry = entries.find((e) => e.resourceId === resourceId && e.action === action);
    expect(entry, `${action} of ${resourceId}`).toBeDefined();
    return entry!;
  };
  const line = (entry: Entry, path: string) => entry.diff.find((l) => l.path === path);
  const asAdmin = { userId: expect.any(String), role: 'admin' };

  it('records accounts locked, unlocked, made admin and back by an admin, installation-wide', async () => {
    const user: TestUser = await signUp(tp, unique('locked'));
    await change('POST', `/api/v1/admin/users/${user.id}/lock`, tp.admin.token);
    await change('POST', `/api/v1/admin/users/${user.id}/unlock`, tp.admin.token);
    await change('PUT', `/api/v1/admin/users/${user.id}/admin`, tp.admin.token, { isAdmin: true });
    await change('PUT', `/api/v1/admin/users/${user.id}/admin`, tp.admin.token, { isAdmin: false });
    const entries = await installationTrail('account');
    const locked = newest(entries, user.id, 'lock');
    expect(locked).toMatchObject({ communityId: null, actor: { userId: adminId, role: 'admin' } });
    expect(line(locked, 'locked')).toEqual({ path: 'locked', before: 'false', after: 'true' });
    expect(line(newest(entries, user.id, 'unlock'), 'locked')).toEqual({ path: 'locked', before: 'true', after: 'false' });
    expect(line(newest(entries, user.id, 'make-admin'), 'admin')).toEqual({ path: 'admin', before: 'false', after: 'true' });
    expect(line(newest(entries, user.id, 'revoke-admin'), 'admin')).toEqual({ path: 'admin', before: 'true', after: 'false' });
    // Locking oneself is refused, and leaves nothing.
    const before = entries.length;
    expect((await tp.call('POST', `/api/v1/admin/users/${adminId}/lock`, { token: tp.admin.token })).status).toBe(409);
    expect((await installationTrail('account')).length).toBe(before);
  });

  it('records a password change and API tokens made and revoked by their owner, never a secret', async () => {
    const user = await signUp(tp, unique('owner'));
    const token = await change('POST', '/api/v1/me/tokens', user.token, { name: 'script' });
    await change('DELETE', `/api/v1/me/tokens/${token.id}`, user.token);
    // A wrong current password changes nothing and records nothing.
    const count = (await installationTrail('account')).filter((e) => e.resourceId === user.id).length;
    expect((await tp.call('POST', '/api/v1/me/password', { token: user.token, body: { currentPassword: 'wrong-password-1', newPassword: 'another-password-1' } })).status).toBe(403);
    expect((await installationTrail('account')).filter((e) => e.resourceId === user.id).length).toBe(count);
    // Changed with an API token: that token (the test user's own) ends with it.
    await change('POST', '/api/v1/me/password', user.token, { currentPassword: user.password, newPassword: 'a-new-password-for-audit' });
    const entries = await installationTrail('account');
    const created = newest(entries, user.id, 'create-api-token');
    expect(created.actor).toEqual({ userId: user.id, role: 'user' });
    expect(line(created, `apiAccess.${token.id}.name`)).toMatchObject({ before: null, after: '"script"' });
    expect(newest(entries, user.id, 'revoke-api-token').diff.some((l) => l.path === `apiAccess.${token.id}.name` && l.after === null)).toBe(true);
    const changed = newest(entries, user.id, 'change-password');
    expect(changed.actor).toEqual({ userId: user.id, role: 'user' });
    expect(line(changed, 'revokedApiAccess')).toMatchObject({ after: '1' });
    expect(JSON.stringify(entries)).not.toContain(token.token);
    expect(JSON.stringify(entries)).not.toContain('a-new-password-for-audit');
  });

  it('records communities founded, created by an admin, suspended, resumed and deleted', async () => {
    const founded = await change('POST', '/api/v1/communities', w.managerA.token, communityBody(unique('Founded ')));
    // The founder is not yet a member when founding: they act as a user.
    expect(newest(await communityTrail('community', founded.id), founded.id, 'create').actor).toEqual({ userId: w.managerA.id, role: 'user' });
    const made = await change('POST', '/api/v1/admin/communities', tp.admin.token, { ...communityBody(unique('Made ')), managerEmail: w.managerB.email });
    const created = newest(await communityTrail('community', made.id), made.id, 'create');
    expect(created.actor).toMatchObject(asAdmin);
    expect(line(created, 'managerUserId')).toMatchObject({ after: JSON.stringify(w.managerB.id) });
    await change('POST', `/api/v1/admin/communities/${made.id}/suspend`, tp.admin.token, { reason: 'unpaid hosting' });
    await change('POST', `/api/v1/admin/communities/${made.id}/resume`, tp.admin.token);
    const trail = await communityTrail('community', made.id);
    expect(line(newest(trail, made.id, 'suspend'), 'suspension.reason')).toEqual({ path: 'suspension.reason', before: null, after: '"unpaid hosting"' });
    expect(line(newest(trail, made.id, 'resume'), 'suspension.reason')).toEqual({ path: 'suspension.reason', before: '"unpaid hosting"', after: null });
    await change('DELETE', `/api/v1/communities/${founded.id}`, tp.admin.token);
    // The trail outlives the community it tells about: admins read it in the installation's trail.
    expect(newest(await installationTrail('community'), founded.id, 'delete')).toMatchObject({ communityId: founded.id, actor: asAdmin });
  });

  it('records jobs paused and resumed by an admin', async () => {
    await change('POST', '/api/v1/admin/jobs/forecast/pause', tp.admin.token);
    await change('POST', '/api/v1/admin/jobs/forecast/resume', tp.admin.token);
    const entries = await installationTrail('job');
    expect(line(newest(entries, 'forecast', 'pause'), 'paused')).toEqual({ path: 'paused', before: 'false', after: 'true' });
    expect(line(newest(entries, 'forecast', 'resume'), 'paused')).toEqual({ path: 'paused', before: 'true', after: 'false' });
  });

  it('records key rotations: the master key, a device key and a meter\'s keys, never a key', async () => {
    const rotated = await change('POST', `/api/v1/devices/${w.provisionedA}/keys/secondary/rotate`, w.managerA.token);
    await change('PUT', `/api/v1/devices/${w.provisionedA}/meter-keys`, w.managerA.token, { encryptionKey: '36C66639E48A8CA4D6BC8B282A793BBB' });
    const keys = await communityTrail('key');
    expect(line(newest(keys, w.provisionedA, 'rotate-device-key'), 'slot')).toMatchObject({ after: '"secondary"' });
    expect(newest(keys, w.provisionedA, 'set-meter-keys').actor).toEqual({ userId: w.managerA.id, role: 'manager' });
    const rotation = await change('POST', '/api/v1/secrets/rotate', tp.admin.token);
    const master = newest(await installationTrail('key'), 'master-key', 'rotate-master-key');
    expect(line(master, 'activeKeyId')).toMatchObject({ after: JSON.stringify(rotation.activeKeyId) });
    const witnessKey = formatVerifierKey('audit.witness/1', SIGNATURE_TYPE.cosignatureV1, ed25519PublicKey(new Uint8Array(32).fill(9)));
    await change('POST', '/api/v1/ledger/witnesses', tp.admin.token, { verifierKey: witnessKey, url: 'http://127.0.0.1:9/witness' });
    await change('DELETE', `/api/v1/ledger/witnesses/${encodeURIComponent('audit.witness/1')}`, tp.admin.token);
    const witnesses = await installationTrail('key');
    expect(line(newest(witnesses, 'audit.witness/1', 'add-witness'), 'url')).toMatchObject({ before: null, after: '"http://127.0.0.1:9/witness"' });
    expect(newest(witnesses, 'audit.witness/1', 'remove-witness').actor).toMatchObject(asAdmin);
    const text = JSON.stringify([...keys, master]);
    expect(text).not.toContain(rotated.connectionString.split('SharedAccessKey=')[1]);
    expect(text).not.toContain('36C66639E48A8CA4D6BC8B282A793BBB');
  });

  it('records coefficient uploads by their fingerprint, CO2 intensity and the weather source without its query', async () => {
    const file = `member_id,timestamp,coefficient\n${w.memberIdA},2026-01-01T00:00:00Z,0.5\n`;
    const upload = await tp.call('PUT', `/api/v1/communities/${w.communityA}/allocation-coefficients?resolution=15`, {
      token: w.managerA.token, rawBody: file, headers: { 'content-type': 'text/csv' },
    });
    expect(upload.status).toBe(200);
    const coefficients = newest(await communityTrail('coefficients'), `${upload.body.from}/${upload.body.to}`, 'upload');
    expect(line(coefficients, 'coefficients')).toMatchObject({ after: '1' });
    expect(line(coefficients, 'sha256')?.after).toMatch(/^"[0-9a-f]{64}"$/);
    await change('PUT', `/api/v1/communities/${w.communityA}/co2-intensity`, w.managerA.token, { gramsPerKWh: 187 });
    expect(line(newest(await communityTrail('co2-intensity'), w.communityA, 'set'), 'gramsPerKWh')).toMatchObject({ after: '187' });
    await change('PUT', `/api/v1/communities/${w.communityA}/weather-source`, w.managerA.token, { url: 'https://weather.example.org/v1/forecast?apikey=hidden-weather-key' });
    const weather = newest(await communityTrail('weather-source'), w.communityA, 'set');
    expect(line(weather, 'source')).toMatchObject({ after: '"https://weather.example.org/v1/forecast"' });
    expect(JSON.stringify(weather)).not.toContain('hidden-weather-key');
  });

  it('records a member\'s device control, appliance requests, manual commands and trading limits as the member\'s', async () => {
    const plug = await change('POST', `/api/v1/communities/${w.communityA}/devices`, w.managerA.token,
      { kind: 'smart-plug', name: unique('Plug '), meteringPointId: w.meteringPointA, role: 'sub-load' });
    await change('PUT', `/api/v1/devices/${plug.id}/control`, w.memberA.token, { controllable: true });
    const member = { userId: w.memberA.id, role: 'member' };
    const control = newest(await communityTrail('device-control'), plug.id, 'set');
    expect(control.actor).toEqual(member);
    expect(line(control, 'controllable')).toEqual({ path: 'controllable', before: 'false', after: 'true' });
    const readyBy = new Date(Date.now() + 6 * 3_600_000).toISOString();
    const request = await change('POST', `/api/v1/devices/${plug.id}/appliance-requests`, w.memberA.token, { readyBy });
    await change('DELETE', `/api/v1/appliance-requests/${request.id}`, w.memberA.token);
    const requests = await communityTrail('appliance-request');
    expect(newest(requests, request.id, 'create').actor).toEqual(member);
    expect(line(newest(requests, request.id, 'withdraw'), 'readyBy')).toMatchObject({ before: JSON.stringify(request.readyBy), after: null });
    const command = await change('POST', `/api/v1/devices/${plug.id}/manual-commands`, w.memberA.token, { kind: 'appliance-start' });
    expect(line(newest(await communityTrail('command'), command.id, 'issue'), 'deviceId')).toMatchObject({ after: JSON.stringify(plug.id) });
    await change('PUT', `/api/v1/members/${w.memberIdA}/market/agent-limits`, w.memberA.token,
      { enabled: true, minSellPrice: '0.0900', maxBuyPrice: null, sellShare: '0.5', buyShare: '1', meteringPointIds: [] });
    const limits = newest(await communityTrail('agent-limits'), w.memberIdA, 'set');
    expect(limits).toMatchObject({ actor: member, subjectMemberId: w.memberIdA });
    expect(line(limits, 'minSellPrice')).toMatchObject({ after: '"0.0900"' });
    await change('PUT', `/api/v1/communities/${w.communityA}/plan-objective`, w.managerA.token, { cost: 1, co2PerKg: 0.2, importPerKwh: 0, exportPerKwh: 0, peakPerKw: 0 });
    expect(line(newest(await communityTrail('plan-objective'), w.communityA, 'set'), 'co2PerKg')).toMatchObject({ after: '0.2' });
  });

  it('records grid operator data uploaded by a manager, and a connector whose secret alone was replaced', async () => {
    const gridConnectionId = `AT0010000000000000001000${String(Date.now()).slice(-9)}`.slice(0, 33);
    await change('POST', `/api/v1/communities/${w.communityA}/metering-points`, w.managerA.token, { memberId: w.memberIdA2, name: 'EDA audit', gridConnectionId, role: 'consumer' });
    const xml = consumptionRecordXml({
      meteringPoint: gridConnectionId, messageId: unique('AUDITMSG'),
      energy: [{ startMs: Date.UTC(2025, 4, 31, 22), count: 4, series: [{ code: '1-1:1.9.0 G.01', values: ['0.100', '0.200', '0.300', '0.400'] }] }],
    });
    const imported = await tp.call('POST', `/api/v1/communities/${w.communityA}/operator-imports`, { token: w.managerA.token, rawBody: xml, headers: { 'content-type': 'application/xml' } });
    expect(imported.status).toBe(201);
    expect(newest(await communityTrail('operator-import'), imported.body.id, 'upload').actor).toEqual({ userId: w.managerA.id, role: 'manager' });

    const config = (token: string) => ({
      auth: { type: 'bearer', token }, steps: [{ url: 'http://127.0.0.1:9/readings' }],
      mapping: { timestamp: '$.t', values: [{ field: '$.v', target: 'meter', quantity: 'power.import', unit: 'W' }] },
    });
    const connector = await change('POST', `/api/v1/communities/${w.communityA}/connectors`, w.managerA.token,
      { kind: 'http-json', name: unique('Audit secret '), config: config('first-secret-value'), bindings: [{ target: 'meter', deviceId: w.deviceA }], enabled: false });
    await change('PATCH', `/api/v1/connectors/${connector.id}`, w.managerA.token, { config: config('second-secret-value') });
    const updated = newest(await communityTrail('connector'), connector.id, 'update');
    expect(line(updated, 'replacedConfidentialFields')).toMatchObject({ after: '["/auth/token"]' });
    expect(JSON.stringify(updated)).not.toContain('second-secret-value');
  });

  it('records the flexibility settings: the identity without its signing key, the address book, contracts and a member\'s device opt-in kept off it', async () => {
    const manager = { userId: w.managerA.id, role: 'manager' };
    const domain = unique('agr-').toLowerCase() + '.example.org';
    await change('PUT', `/api/v1/communities/${w.communityA}/flex/identity`, w.managerA.token, { domain, timeZone: 'Europe/Vienna' });
    await change('PUT', `/api/v1/communities/${w.communityA}/flex/identity`, w.managerA.token, { domain, timeZone: 'Europe/Berlin' });
    const identities = (await communityTrail('flex')).filter((e) => e.resourceId === w.communityA && e.action === 'set-identity');
    expect(identities).toHaveLength(2);
    const [changed, created] = identities;
    expect(created!.actor).toEqual(manager);
    expect(line(created!, 'domain')).toEqual({ path: 'domain', before: null, after: JSON.stringify(domain) });
    expect(line(changed!, 'timeZone')).toEqual({ path: 'timeZone', before: '"Europe/Vienna"', after: '"Europe/Berlin"' });
    // The signing key is sealed in flex's table and never leaves it; not even sealed does it reach the trail.
    const [sealed] = await tp.platform.db.query<{ signing_key: string }>('SELECT signing_key FROM flex_identities WHERE community_id = $1', [w.communityA]);
    for (const entry of identities) {
      expect(entry.diff.map((l) => l.path).some((path) => /signing|secret|private/i.test(path))).toBe(false);
      expect(JSON.stringify(entry)).not.toContain(sealed!.signing_key);
    }

    const congestionPoint = 'ea1.2026-01.org.example.audit:cp-1';
    const entry = (role: string, barred = false) => ({
      domain: 'dso.audit.example.org', role, endpoint: 'https://dso.audit.example.org/shapeshifter/api/v3/message',
      publicKeys: [Buffer.from(generateSigningKey().publicKey).toString('base64')], barred, congestionPoints: role === 'DSO' ? [congestionPoint] : [],
    });
    const dso = await change('POST', `/api/v1/communities/${w.communityA}/flex/participants`, w.managerA.token, entry('DSO'));
    const cro = await change('POST', `/api/v1/communities/${w.communityA}/flex/participants`, w.managerA.token, entry('CRO'));
    await change('PUT', `/api/v1/flex/participants/${cro.id}`, w.managerA.token, entry('CRO', true));
    await change('DELETE', `/api/v1/flex/participants/${cro.id}`, w.managerA.token);
    const book = await communityTrail('flex');
    expect(line(newest(book, dso.id, 'add-participant'), 'endpoint')).toMatchObject({ before: null, after: JSON.stringify(entry('DSO').endpoint) });
    expect(line(newest(book, cro.id, 'update-participant'), 'barred')).toEqual({ path: 'barred', before: 'false', after: 'true' });
    expect(newest(book, cro.id, 'remove-participant')).toMatchObject({ actor: manager, diff: expect.arrayContaining([{ path: 'domain', before: '"dso.audit.example.org"', after: null }]) });

    const terms = {
      participantId: dso.id, congestionPoints: [congestionPoint], serviceType: 'congestion-management', validFrom: '2026-01-01', validTo: '2026-12-31',
      windows: [{ weekdays: [1, 2, 3, 4, 5], from: '10:00', to: '16:00' }], capacityRemuneration: '0', volumeRemuneration: '0.10', penaltyRate: '0.30',
    };
    const contract = await change('POST', `/api/v1/communities/${w.communityA}/flex/contracts`, w.managerA.token, terms);
    await change('PUT', `/api/v1/flex/contracts/${contract.id}`, w.managerA.token, { ...terms, volumeRemuneration: '0.12' });
    await change('POST', `/api/v1/flex/contracts/${contract.id}/activate`, w.managerA.token);
    // A participant a contract names stays in the book: the refused removal leaves no entry.
    expect((await tp.call('DELETE', `/api/v1/flex/participants/${dso.id}`, { token: w.managerA.token })).status).toBe(409);

    const plug = await change('POST', `/api/v1/communities/${w.communityA}/devices`, w.managerA.token,
      { kind: 'smart-plug', name: unique('Flex plug '), meteringPointId: w.meteringPointA, role: 'sub-load' });
    await change('PUT', `/api/v1/flex/contracts/${contract.id}/devices/${plug.id}`, w.memberA.token, { maxPowerW: 2_000 });
    await change('PUT', `/api/v1/flex/contracts/${contract.id}/devices/${plug.id}`, w.memberA.token, { maxPowerW: 1_500 });
    await change('DELETE', `/api/v1/flex/contracts/${contract.id}/devices/${plug.id}`, w.memberA.token);
    await change('POST', `/api/v1/flex/contracts/${contract.id}/end`, w.managerA.token);

    const trail = await communityTrail('flex');
    expect(newest(trail, contract.id, 'create-contract').actor).toEqual(manager);
    expect(line(newest(trail, contract.id, 'update-contract'), 'volumeRemuneration')).toEqual({ path: 'volumeRemuneration', before: '"0.1"', after: '"0.12"' });
    expect(line(newest(trail, contract.id, 'activate-contract'), 'state')).toEqual({ path: 'state', before: '"draft"', after: '"active"' });
    expect(line(newest(trail, contract.id, 'end-contract'), 'state')).toEqual({ path: 'state', before: '"active"', after: '"ended"' });
    expect(trail.filter((e) => e.resourceId === dso.id).map((e) => e.action)).toEqual(['add-participant']);
    // Which devices and members take part is never the managers' to see: not on their trail either.
    expect(JSON.stringify(trail)).not.toContain(plug.id);
    expect(trail.some((e) => e.actor.userId === w.memberA.id)).toBe(false);
  });
});
