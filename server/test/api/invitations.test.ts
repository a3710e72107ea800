import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { sessionCookie, signUp, startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';

describe.each(platformStoreKinds)('invitations on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
  });
  afterAll(() => tp?.close());

  const inviteToB = (email: string, role?: 'member' | 'manager', token = w.managerB.token) =>
    tp.call('POST', `/api/v1/communities/${w.communityB}/invitations`, { token, body: role ? { email, role } : { email } });
  const received = async (token: string) => (await tp.call('GET', '/api/v1/me/invitations', { token })).body as { id: string; community: { id: string; name: string }; role: string }[];

  it('answers the same whether or not the address has an account, and names no account', async () => {
    const known = await inviteToB(w.outsider.email);
    const unknown = await inviteToB(`${unique('nobody')}@example.org`);
    expect(known.status).toBe(201);
    expect(unknown.status).toBe(201);
    expect(Object.keys(known.body).sort()).toEqual(Object.keys(unknown.body).sort());
    const comparable = (body: Record<string, unknown>) => ({ ...body, id: 'x', email: 'x', createdAt: 'x' });
    expect(comparable(known.body)).toEqual(comparable(unknown.body));
    expect(JSON.stringify(known.body)).not.toContain(w.outsider.id);
    expect(known.headers['content-length']).toBeDefined();
    // The old way of adding an account without its owner's consent is gone.
    const old = await tp.call('POST', `/api/v1/communities/${w.communityB}/members`, { token: w.managerB.token, body: { email: w.outsider.email } });
    expect(old.status).toBe(404);
    // Nothing happened to the outsider's memberships.
    expect((await tp.call('GET', '/api/v1/me', { token: w.outsider.token })).body.memberships).toEqual([]);
  });

  it('shows the invitation to its addressee only, who accepts and then sees the private community', async () => {
    const person = await signUp(tp, 'invitee');
    const invitation = (await inviteToB(person.email.toUpperCase(), 'manager')).body;
    expect((await tp.call('GET', `/api/v1/communities/${w.communityB}`, { token: person.token })).status).toBe(404);
    const mine = await received(person.token);
    expect(mine).toEqual([{ id: invitation.id, role: 'manager', createdAt: invitation.createdAt, community: expect.objectContaining({ id: w.communityB }) }]);
    expect((await received(w.memberA.token)).map((i) => i.id)).not.toContain(invitation.id);
    // Anyone else trying to accept or decline it learns nothing.
    for (const token of [w.memberA.token, w.managerB.token, tp.admin.token]) {
      expect((await tp.call('POST', `/api/v1/invitations/${invitation.id}/accept`, { token })).status).toBe(404);
      expect((await tp.call('POST', `/api/v1/invitations/${invitation.id}/decline`, { token })).status).toBe(404);
    }
    const accepted = await tp.call('POST', `/api/v1/invitations/${invitation.id}/accept`, { token: person.token });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ communityId: w.communityB, userId: person.id, role: 'manager', state: 'active', displayName: 'invitee' });
    expect((await tp.call('GET', `/api/v1/communities/${w.communityB}`, { token: person.token })).status).toBe(200);
    expect(await received(person.token)).toEqual([]);
    expect((await tp.call('POST', `/api/v1/invitations/${invitation.id}/accept`, { token: person.token })).status).toBe(404);
    const listed = await tp.call('GET', `/api/v1/communities/${w.communityB}/invitations?state=accepted`, { token: w.managerB.token });
    expect(listed.body.map((i: { id: string }) => i.id)).toContain(invitation.id);
    // An active member is not invited again.
    expect((await inviteToB(person.email)).status).toBe(409);
  });

  it('keeps an invitation to a new address until someone signs up with it', async () => {
    const email = `${unique('later')}@example.org`;
    const invitation = (await inviteToB(email)).body;
    const signup = await tp.call('POST', '/api/v1/auth/signup', { body: { email: email.toUpperCase(), password: 'a-long-enough-password', displayName: 'Later' } });
    expect(signup.status).toBe(201);
    const cookie = sessionCookie(signup);
    const mine = await tp.call('GET', '/api/v1/me/invitations', { cookie });
    expect(mine.body.map((i: { id: string }) => i.id)).toEqual([invitation.id]);
    expect((await tp.call('POST', `/api/v1/invitations/${invitation.id}/accept`, { cookie })).body).toMatchObject({ role: 'member', state: 'active' });
  });

  it('declines, revokes, and updates a repeated invitation instead of adding another', async () => {
    const person = await signUp(tp, 'decider');
    const first = (await inviteToB(person.email)).body;
    const again = (await inviteToB(person.email, 'manager')).body;
    expect(again.id).toBe(first.id);
    expect(again.role).toBe('manager');
    expect((await tp.call('POST', `/api/v1/invitations/${first.id}/decline`, { token: person.token })).status).toBe(204);
    expect(await received(person.token)).toEqual([]);
    expect((await tp.call('POST', `/api/v1/invitations/${first.id}/accept`, { token: person.token })).status).toBe(404);
    expect((await tp.call('GET', '/api/v1/me', { token: person.token })).body.memberships).toEqual([]);

    const second = (await inviteToB(person.email)).body;
    expect(second.id).not.toBe(first.id);
    expect((await tp.call('DELETE', `/api/v1/invitations/${second.id}`, { token: w.memberB.token })).status).toBe(403);
    expect((await tp.call('DELETE', `/api/v1/invitations/${second.id}`, { token: w.managerA.token })).status).toBe(404);
    expect((await tp.call('DELETE', `/api/v1/invitations/${second.id}`, { token: w.managerB.token })).status).toBe(204);
    expect((await tp.call('DELETE', `/api/v1/invitations/${second.id}`, { token: w.managerB.token })).status).toBe(409);
    expect(await received(person.token)).toEqual([]);
    expect((await tp.call('POST', `/api/v1/invitations/${second.id}/accept`, { token: person.token })).status).toBe(404);
    const states = (await tp.call('GET', `/api/v1/communities/${w.communityB}/invitations`, { token: w.managerB.token })).body
      .filter((i: { email: string }) => i.email === person.email).map((i: { state: string }) => i.state);
    expect(states.sort()).toEqual(['declined', 'revoked']);
  });

  it('refuses bad input and callers who are not the community\'s managers', async () => {
    for (const body of [{ email: 'not an email' }, { email: `${unique('x')}@example.org`, role: 'owner' }, { email: 'a@b.org', userId: w.outsider.id }, {}]) {
      const response = await tp.call('POST', `/api/v1/communities/${w.communityB}/invitations`, { token: w.managerB.token, body });
      expect(response.status).toBe(400);
      expect(response.body.field).toMatch(/^body/);
    }
    expect((await inviteToB(`${unique('x')}@example.org`, 'member', w.memberB.token)).status).toBe(403);
    expect((await inviteToB(`${unique('x')}@example.org`, 'member', w.managerA.token)).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/communities/${w.communityB}/invitations`, { token: w.memberB.token })).status).toBe(403);
    expect((await tp.call('GET', '/api/v1/me/invitations')).status).toBe(401);
    expect((await tp.call('POST', `/api/v1/invitations/${crypto.randomUUID()}/accept`, { token: w.outsider.token })).status).toBe(404);
  });
});
