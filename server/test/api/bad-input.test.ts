import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { storeKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, communityBody, type World } from '../support/world.js';
import { snapshot } from '../support/snapshot.js';
import { BODY_LIMIT_BYTES } from '../../src/http/app.js';

describe.each(storeKinds)('bad input on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
  });
  afterAll(() => tp?.close());

  /** Sends a bad request and checks the error and that not one registry row changed. */
  async function refused(method: string, url: string, options: Parameters<TestPlatform['call']>[2], status: number, field?: string) {
    const before = await snapshot(tp.platform.db);
    const response = await tp.call(method, url, options);
    expect(response.status, JSON.stringify(response.body)).toBe(status);
    expect(response.body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    if (field) expect(response.body.field).toBe(field);
    expect(await snapshot(tp.platform.db)).toEqual(before);
    return response.body as { error: string; message: string; field?: string };
  }

  const communities = '/api/v1/communities';

  it('malformed JSON', async () => {
    const body = await refused('POST', communities, { token: w.managerA.token, rawBody: '{"name": "x",', headers: { 'content-type': 'application/json' } }, 400);
    expect(body.message).toMatch(/JSON/);
    await refused('POST', communities, { token: w.managerA.token, rawBody: '{"name": NaN}', headers: { 'content-type': 'application/json' } }, 400);
    await refused('POST', communities, { token: w.managerA.token, rawBody: '', headers: { 'content-type': 'application/json' } }, 400);
  });

  it('oversized bodies are refused before parsing', async () => {
    const huge = JSON.stringify(communityBody('x'.repeat(BODY_LIMIT_BYTES)));
    const body = await refused('POST', communities, { token: w.managerA.token, rawBody: huge, headers: { 'content-type': 'application/json' } }, 413);
    expect(body.error).toBe('payload_too_large');
  });

  it('other content types', async () => {
    const body = await refused('POST', communities, { token: w.managerA.token, rawBody: 'name=x', headers: { 'content-type': 'text/plain' } }, 415);
    expect(body.error).toBe('unsupported_media_type');
  });

  it('wrong types name the field', async () => {
    await refused('POST', communities, { token: w.managerA.token, body: { ...communityBody('x'), name: 42 } }, 400, 'body/name');
    await refused('POST', communities, { token: w.managerA.token, body: { ...communityBody('x'), isPublic: 'yes' } }, 400, 'body/isPublic');
    await refused('POST', communities, { token: w.managerA.token, body: { ...communityBody('x'), location: { latitude: 91, longitude: 0 } } }, 400, 'body/location/latitude');
    await refused('POST', `${communities}/${w.communityA}/metering-points`, {
      token: w.memberA.token, body: { name: 'x', gridConnectionId: 'AT0099999', role: 'consumer', pvCapacityW: '5000' },
    }, 400, 'body/pvCapacityW');
    await refused('POST', `${communities}/${w.communityA}/metering-points`, {
      token: w.memberA.token, body: { name: 'x', gridConnectionId: 'AT0099999', role: 'consumer', pvCapacityW: 1.5 },
    }, 400, 'body/pvCapacityW');
    await refused('POST', `${communities}/${w.communityA}/tariffs`, {
      token: w.managerA.token, body: { name: 'x', gridPrice: 0.3, communityPrice: '0.1', feedInPrice: '0.1', validFrom: '2031-01-01' },
    }, 400, 'body/gridPrice');
    await refused('POST', `${communities}/${w.communityA}/tariffs`, {
      token: w.managerA.token, body: { name: 'x', gridPrice: '-0.3', communityPrice: '0.1', feedInPrice: '0.1', validFrom: '2031-01-01' },
    }, 400, 'body/gridPrice');
  });

  it('unknown fields and missing fields name the field', async () => {
    await refused('POST', communities, { token: w.managerA.token, body: { ...communityBody('x'), owner: 'me' } }, 400, 'body/owner');
    await refused('PATCH', `${communities}/${w.communityA}`, { token: w.managerA.token, body: { isAdmin: true } }, 400, 'body/isAdmin');
    await refused('POST', communities, { token: w.managerA.token, body: { name: 'x', currency: 'EUR' } }, 400, 'body/timeZone');
    await refused('POST', '/api/v1/auth/signup', { body: { email: 'a@b.org', password: 'long-enough-pw', displayName: 'x', isAdmin: true } }, 400, 'body/isAdmin');
  });

  it('values out of their domain', async () => {
    await refused('POST', communities, { token: w.managerA.token, body: communityBody('x', { timeZone: 'Mars/Olympus' }) }, 400, 'body/timeZone');
    await refused('POST', communities, { token: w.managerA.token, body: communityBody('x', { currency: 'euro' }) }, 400, 'body/currency');
    await refused('POST', communities, { token: w.managerA.token, body: communityBody('x', { allocationRule: 'first-come' }) }, 400, 'body/allocationRule');
    await refused('POST', communities, { token: w.managerA.token, body: communityBody('') }, 400, 'body/name');
    await refused('POST', '/api/v1/auth/signup', { body: { email: 'not-an-email', password: 'long-enough-pw', displayName: 'x' } }, 400, 'body/email');
    await refused('POST', '/api/v1/auth/signup', { body: { email: 'short@example.org', password: 'short', displayName: 'x' } }, 400, 'body/password');
    await refused('GET', `${communities}?limit=100000`, {}, 400, 'querystring/limit');
    await refused('GET', `${communities}?postcode=%25`, {}, 400, 'querystring/postcode');
  });

  it('unknown and malformed ids', async () => {
    await refused('GET', `${communities}/${randomUUID()}`, { token: w.managerA.token }, 404);
    await refused('PATCH', `/api/v1/members/${randomUUID()}`, { token: w.managerA.token, body: { displayName: 'x' } }, 404);
    await refused('DELETE', `/api/v1/devices/no-such-device`, { token: w.managerA.token }, 404);
    await refused('GET', `${communities}/not-a-uuid`, { token: w.managerA.token }, 400, 'params/id');
    await refused('GET', '/api/v1/nothing-here', {}, 404);
  });

  it('SQL-looking strings are data, never SQL', async () => {
    const evil = "Robert'); DROP TABLE communities; --";
    const created = await tp.call('POST', communities, { token: w.managerA.token, body: communityBody(evil, { description: "' OR '1'='1" }) });
    expect(created.status).toBe(201);
    expect(created.body.name).toBe(evil);
    expect((await tp.call('GET', `${communities}/${created.body.id}`)).body.name).toBe(evil);
    const search = await tp.call('GET', `${communities}?q=${encodeURIComponent("' OR 1=1 --")}`);
    expect(search.status).toBe(200);
    expect(search.body).toEqual([]);
    const tables = await tp.platform.db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'communities'");
    expect(tables).toHaveLength(1);
  });
});
