import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { checkCosignatures, openCheckpoint, verifierFromKey } from '../../src/ledger/domain/index.js';
import { TestWitness } from './support/witness.js';

interface WitnessView { name: string; cosignedSize: number; verifiedSize: number | null; lastError: string | null; lastAttemptAt: string | null }

/**
 * Witnesses (c2sp.org/tlog-witness) over real HTTP: each new checkpoint is sent with a
 * consistency proof from the size the witness cosigned last; the cosignatures that verify under
 * the witness's configured key are served with the checkpoint (c2sp.org/tlog-cosignature).
 */
describe.each(platformStoreKinds)('witnesses cosigning the log on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let logKey: string;
  let honest: TestWitness;
  let month = 3;
  const witnesses: TestWitness[] = [];
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    logKey = (await tp.call('GET', '/api/v1/ledger/key')).body.verifierKey;
    honest = await TestWitness.start('witness.example/w1', logKey);
    witnesses.push(honest);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(witnesses.map((witness) => witness.close()));
    await tp?.close();
  });

  const admin = (method: string, url: string, body?: unknown) => tp.call(method, url, { token: tp.admin.token, body });
  const views = async (): Promise<WitnessView[]> => (await admin('GET', '/api/v1/ledger/witnesses')).body;
  /** A money-relevant change (a new tariff) grows the log; the ledger job appends, signs and asks the witnesses. */
  const grow = async () => {
    const tariff = await tp.call('POST', `/api/v1/communities/${w.communityA}/tariffs`, {
      token: w.managerA.token, body: { name: `Witnessed ${month}`, gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', validFrom: `2028-${String(month++).padStart(2, '0')}-01` },
    });
    expect(tariff.status).toBe(201);
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
  };
  const served = async () => {
    const note = (await tp.call('GET', '/api/v1/ledger/checkpoint')).raw.body as string;
    return { note, size: openCheckpoint(note, verifierFromKey(logKey)).checkpoint.size };
  };

  it('refuses witnesses from anyone but a platform admin, and keys or URLs that are not a witness\'s', async () => {
    const body = { verifierKey: honest.verifierKey, url: honest.url };
    expect((await tp.call('POST', '/api/v1/ledger/witnesses', { token: w.managerA.token, body })).status).toBe(403);
    expect((await tp.call('GET', '/api/v1/ledger/witnesses', { token: w.memberA.token })).status).toBe(403);
    const logsOwnKey = await admin('POST', '/api/v1/ledger/witnesses', { verifierKey: logKey, url: honest.url });
    expect(logsOwnKey.status).toBe(400);
    expect(logsOwnKey.body.message).toMatch(/cosignature\/v1 key \(type 0x04\)/);
    for (const url of ['ftp://witness.example', 'http://user:secret@witness.example', 'not a url', 'http://witness.example/?x=1']) {
      const refused = await admin('POST', '/api/v1/ledger/witnesses', { verifierKey: honest.verifierKey, url });
      expect(refused.status, url).toBe(400);
      expect(refused.body.field).toBe('body/url');
    }
    expect((await admin('POST', '/api/v1/ledger/witnesses', { verifierKey: 'witness+00000000+AAAA', url: honest.url })).status).toBe(400);
    expect(await views()).toEqual([]);
  });

  it('gets each new checkpoint cosigned, with a consistency proof from the size the witness cosigned last', async () => {
    const added = await admin('POST', '/api/v1/ledger/witnesses', { verifierKey: honest.verifierKey, url: `${honest.url}/` });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ name: 'witness.example/w1', url: honest.url, cosignedSize: 0, verifiedSize: null, lastError: null });

    // Adding a witness is itself logged: the checkpoint that takes that entry is the first the
    // witness is asked for, whether the background job or this flush signs it.
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
    const first = await served();
    const [check] = checkCosignatures(first.note, [verifierFromKey(honest.verifierKey)], Math.floor(Date.now() / 1000));
    expect(check).toMatchObject({ witness: 'witness.example/w1', status: 'verified' });
    expect(honest.requests.at(-1)).toEqual({ old: 0, proof: 0, size: first.size, status: 200 });
    expect(await views()).toMatchObject([{ name: 'witness.example/w1', cosignedSize: first.size, lastError: null }]);

    await grow();
    const second = await served();
    expect(second.size).toBeGreaterThan(first.size);
    expect(honest.requests.at(-1)).toMatchObject({ old: first.size, size: second.size, status: 200 });
    expect(honest.requests.at(-1)!.proof).toBeGreaterThan(0);
    expect(checkCosignatures(second.note, [verifierFromKey(honest.verifierKey)], Math.floor(Date.now() / 1000))[0]!.status).toBe('verified');
  });

  it('starts again from the size a witness says it knows (409), once', async () => {
    honest.forget();
    await grow();
    const { size } = await served();
    expect(honest.requests.slice(-2).map((r) => [r.old > 0, r.status])).toEqual([[true, 409], [false, 200]]);
    expect(await views()).toMatchObject([{ cosignedSize: size, lastError: null }]);
  });

  it('keeps no cosignature that does not verify under the witness\'s key, and a witness that is down holds up nothing', async () => {
    const impostor = await TestWitness.start('witness.example/impostor', logKey, { signWith: new Uint8Array(randomBytes(32)) });
    witnesses.push(impostor);
    const down = await TestWitness.start('witness.example/down', logKey);
    await down.close();
    for (const witness of [impostor, down]) {
      expect((await admin('POST', '/api/v1/ledger/witnesses', { verifierKey: witness.verifierKey, url: witness.url })).status).toBe(200);
    }
    await grow();
    const { note, size } = await served();
    const checks = checkCosignatures(note, [impostor, down, honest].map((x) => verifierFromKey(x.verifierKey)), Math.floor(Date.now() / 1000));
    expect(checks.map((c) => [c.witness, c.status])).toEqual([
      ['witness.example/impostor', 'absent'], ['witness.example/down', 'absent'], ['witness.example/w1', 'verified'],
    ]);
    const byName = Object.fromEntries((await views()).map((v) => [v.name, v]));
    // The impostor recorded the checkpoint (so its size moves on) but gave no cosignature the log believes.
    expect(byName['witness.example/impostor']).toMatchObject({ verifiedSize: null, lastError: expect.stringMatching(/verifies under its key/) });
    expect(byName['witness.example/down']).toMatchObject({ cosignedSize: 0, verifiedSize: null, lastError: expect.stringMatching(/cannot reach/) });
    expect(byName['witness.example/w1']).toMatchObject({ cosignedSize: size, verifiedSize: size, lastError: null });

    expect((await admin('DELETE', `/api/v1/ledger/witnesses/${encodeURIComponent('witness.example/down')}`)).status).toBe(204);
    expect((await admin('DELETE', `/api/v1/ledger/witnesses/${encodeURIComponent('witness.example/down')}`)).status).toBe(404);
    expect((await views()).map((v) => v.name)).toEqual(['witness.example/impostor', 'witness.example/w1']);
  });
});
