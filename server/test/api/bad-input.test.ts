import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, communityBody, type World } from '../support/world.js';
import { snapshot } from '../support/snapshot.js';
import { BODY_LIMIT_BYTES } from '../../src/platform/http/app.js';

describe.each(platformStoreKinds)('bad input on %s', (kind) => {
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

  it('a NUL character in any string of a body, query or path is a 400 naming the field', async () => {
    const nul = 'a\u0000b';
    await refused('POST', '/api/v1/auth/signup', { body: { email: 'nul@example.org', password: 'long-enough-pw', displayName: nul } }, 400, 'body/displayName');
    await refused('PATCH', `/api/v1/members/${w.memberIdA}`, { token: w.managerA.token, body: { displayName: nul } }, 400, 'body/displayName');
    await refused('POST', `${communities}/${w.communityA}/metering-points`, {
      token: w.memberA.token, body: { name: nul, gridConnectionId: 'AT0099999', role: 'consumer' },
    }, 400, 'body/name');
    await refused('PATCH', `/api/v1/metering-points/${w.meteringPointA}`, { token: w.memberA.token, body: { address: `Main Street 1${nul}` } }, 400, 'body/address');
    await refused('POST', communities, { token: w.managerA.token, body: communityBody('x', { description: nul }) }, 400, 'body/description');
    await refused('PATCH', `${communities}/${w.communityA}`, { token: w.managerA.token, body: { description: nul } }, 400, 'body/description');
    await refused('GET', `${communities}?q=a%00b`, {}, 400, 'querystring/q');
    await refused('POST', `${communities}/${w.communityA}/tariffs`, {
      token: w.managerA.token, body: { name: nul, gridPrice: '0.3', communityPrice: '0.1', feedInPrice: '0.1', validFrom: '2031-01-01' },
    }, 400, 'body/name');
    await refused('POST', '/api/v1/me/tokens', { token: w.memberA.token, body: { name: nul } }, 400, 'body/name');
    await refused('POST', `${communities}/${w.communityB}/join-requests`, { token: w.outsider.token, body: { message: `hello${nul}` } }, 400, 'body/message');
    await refused('GET', `/api/v1/devices/a%00b/state`, { token: w.managerA.token }, 400, 'params/id');
  });

  it('dates outside 2000-01-01..2100-01-01 are a 400 naming the field, wherever they come in', async () => {
    const tariff = (validFrom: string) => ({ name: 'x', gridPrice: '0.3', communityPrice: '0.1', feedInPrice: '0.1', validFrom });
    for (const validFrom of ['0000-01-01', '0001-01-01', '1999-12-31', '2100-01-02', '9999-12-31']) {
      const body = await refused('POST', `${communities}/${w.communityA}/tariffs`, { token: w.managerA.token, body: tariff(validFrom) }, 400, 'body/validFrom');
      expect(body.message).toContain('2000-01-01');
    }
    await refused('GET', `/api/v1/devices/${w.deviceA}/readings?from=0000-01-01T00:00:00Z&to=9999-12-31T00:00:00Z`, { token: w.managerA.token }, 400, 'querystring/from');
    await refused('GET', `/api/v1/devices/${w.deviceA}/readings?from=2026-01-01T00:00:00Z&to=9999-12-31T00:00:00Z`, { token: w.managerA.token }, 400, 'querystring/to');
    await refused('GET', `/api/v1/metering-points/${w.meteringPointA}/intervals?from=0001-01-01T00:00:00Z&to=0001-01-02T00:00:00Z`, { token: w.memberA.token }, 400, 'querystring/from');
    await refused('PATCH', `/api/v1/members/${w.memberIdA}`, { token: w.managerA.token, body: { activeFrom: '0000-01-01T00:00:00Z' } }, 400, 'body/activeFrom');
    await refused('PUT', `${communities}/${w.communityA}/allocation-shares`, { token: w.managerA.token, body: { validFrom: '9999-12-31T23:45:00Z', shares: [] } }, 400, 'body/validFrom');
    await refused('POST', `${communities}/${w.communityA}/settlements`, { token: w.managerA.token, body: { period: '0000-01' } }, 400, 'body/period');
    const csv = (when: string) => `member_id,hour_of_year_or_timestamp,coefficient\n${w.memberIdA},${when},0.5\n`;
    for (const when of ['9999-12-31T23:45:00Z', '0000-01-01T00:00:00Z']) {
      const body = await refused('PUT', `${communities}/${w.communityA}/allocation-coefficients?resolution=15`, {
        token: w.managerA.token, rawBody: csv(when), headers: { 'content-type': 'text/csv' },
      }, 400);
      expect(body.message).toContain('line 2');
    }
    expect((await tp.platform.db.query('SELECT 1 FROM allocation_coefficients WHERE community_id = $1', [w.communityA]))).toHaveLength(0);
    // The bounds themselves are in.
    expect((await tp.call('GET', `/api/v1/devices/${w.deviceA}/readings?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z`, { token: w.managerA.token })).status).toBe(200);
  });

  it('a body of null, in another charset or with bytes that are not UTF-8 is refused, not read leniently', async () => {
    const json = { 'content-type': 'application/json' };
    const nullBody = await refused('POST', communities, { token: w.managerA.token, rawBody: 'null', headers: json }, 400, 'body');
    expect(nullBody.message).toMatch(/object/);
    await refused('POST', `${communities}/${w.communityA}/device-batches`, { token: w.managerA.token, rawBody: 'null', headers: json }, 400, 'body');
    const utf8 = JSON.stringify(communityBody('Labelled UTF-16'));
    const labelled = await refused('POST', communities, { token: w.managerA.token, rawBody: utf8, headers: { 'content-type': 'application/json; charset=utf-16' } }, 415);
    expect(labelled.message).toMatch(/UTF-8/);
    await refused('POST', communities, {
      token: w.managerA.token, rawBody: Buffer.from(utf8, 'utf16le'), headers: { 'content-type': 'application/json; charset=UTF-16LE' },
    }, 415);
    const invalid = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('","timeZone":"Europe/Vienna","currency":"EUR"}')]);
    await refused('POST', communities, { token: w.managerA.token, rawBody: invalid, headers: json }, 400, 'body');
    await refused('PUT', `${communities}/${w.communityA}/allocation-coefficients?resolution=15`, {
      token: w.managerA.token, rawBody: Buffer.from([0x6d, 0xff, 0x0a]), headers: { 'content-type': 'text/csv' },
    }, 400, 'body');
    // UTF-8, said or not, is read as before.
    const accepted = await tp.call('POST', communities, { token: w.managerA.token, rawBody: JSON.stringify(communityBody('Café')), headers: { 'content-type': 'application/json; charset=UTF-8' } });
    expect(accepted.status).toBe(201);
    expect(accepted.body.name).toBe('Café');
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
