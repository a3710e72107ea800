import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { checkBroker } from '../../src/broker-security/index.js';
import { DynsecClient } from '../../src/broker-security/dynsec-client.js';
import { serviceRole } from '../../src/broker-security/domain/dynsec-plan.js';
import { mosquittoMissing, startMosquitto, type TestMosquitto } from '../support/mosquitto.js';

if (mosquittoMissing) console.warn(`skipping the broker check tests: ${mosquittoMissing}`);

/** Gridshare's account on a test broker, as the reconcile at start makes it. */
async function serviceUrl(broker: TestMosquitto): Promise<string> {
  const account = { username: `svc-${randomBytes(4).toString('hex')}`, password: randomBytes(12).toString('hex') };
  const dynsec = await DynsecClient.connect(broker.url, broker.admin);
  const role = serviceRole();
  await dynsec.run([{ command: 'createRole', rolename: role.rolename, acls: role.acls }, { command: 'createClient', ...account, roles: [{ rolename: role.rolename }] }]);
  await dynsec.close();
  return `mqtt://${account.username}:${account.password}@127.0.0.1:${broker.port}`;
}

const sizing = { messagesPerSecond: 40, outageSeconds: 5, sessions: 2 };

describe.skipIf(mosquittoMissing !== undefined)('the broker check at start', () => {
  let recommended: TestMosquitto;
  let careless: TestMosquitto;

  beforeAll(async () => {
    recommended = await startMosquitto();
    // Mosquitto's defaults where they hurt: anonymous clients in, and a queue too short for the outage.
    careless = await startMosquitto({ allow_anonymous: 'true', max_queued_messages: '60' });
  });
  afterAll(async () => {
    await recommended?.close();
    await careless?.close();
  });

  it('finds nothing wrong with the recommended configuration', async () => {
    expect(await checkBroker({ url: await serviceUrl(recommended), sizing, quietMs: 1_500 })).toEqual([]);
  });

  it('warns about anonymous clients and a queue that would drop readings, with the size it needs', async () => {
    const warnings = await checkBroker({ url: await serviceUrl(careless), sizing, quietMs: 1_500 });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/anonymous/);
    // 40/s × 5 s over 2 sessions: 100 per session, of which the broker keeps its 60.
    expect(warnings[1]).toMatch(/kept 60 of 100 messages.*max_queued_messages to at least 100/);
  });

  it('says so when Gridshare\'s account may not probe', async () => {
    const warnings = await checkBroker({ url: `mqtt://${recommended.admin.username}:${recommended.admin.password}@127.0.0.1:${recommended.port}`, sizing, quietMs: 1_500 });
    expect(warnings).toEqual([expect.stringMatching(/could not be probed/)]);
  });
});
