import { Type } from 'typebox';
import type { Db } from '../platform/store/db.js';
import type { Quotas } from '../quotas/index.js';
import type { EventPublisher } from '../platform/events/index.js';
import { errors, IdParams, type Api } from '../platform/http/api.js';
import * as S from './schemas.js';
import * as communities from './communities.js';
import * as members from './members.js';
import * as invitations from './invitations.js';
import * as meteringPoints from './metering-points.js';
import * as devices from './devices.js';
import * as tariffs from './tariffs.js';

const NoContent = { 204: Type.Null() };

export interface RegistryHooks {
  db: Db;
  quotas: Quotas;
  deviceChanged: (deviceId: string) => void;
  /** Where `community.changed`, `membership.changed` and `site.changed` go. */
  events: EventPublisher;
}

export async function registryRoutes(app: Api, { db, quotas, deviceChanged, events }: RegistryHooks): Promise<void> {
  // Communities (listing and search live in discovery/)
  app.post('/api/v1/communities', {
    schema: {
      tags: ['communities'],
      summary: 'Create a community; the creator becomes its manager (within the quota communitiesPerUser)',
      body: S.CommunityCreate,
      response: { 201: S.Community, ...errors(400, 401, 403) },
    },
  }, async (request, reply) => reply.status(201).send(await communities.foundCommunity(db, quotas, request.principal, request.body)));

  app.get('/api/v1/communities/:id', {
    schema: { tags: ['communities'], summary: 'One community (public ones for everyone)', params: IdParams, response: { 200: S.Community, ...errors(404) } },
  }, async (request) => communities.getCommunity(db, request.principal, request.params.id));

  app.patch('/api/v1/communities/:id', {
    schema: { tags: ['communities'], summary: 'Change settings (managers)', params: IdParams, body: S.CommunityPatch, response: { 200: S.Community, ...errors(400, 401, 403, 404) } },
  }, async (request) => {
    return communities.updateCommunity(db, events, request.principal, request.params.id, request.body);
  });

  app.delete('/api/v1/communities/:id', {
    schema: { tags: ['communities'], summary: 'Delete a community and all its records (platform admins)', params: IdParams, response: { ...NoContent, ...errors(401, 403, 404) } },
  }, async (request, reply) => {
    await communities.deleteCommunity(db, request.principal, request.params.id);
    return reply.status(204).send(null);
  });

  // Members and joining
  app.get('/api/v1/communities/:id/members', {
    schema: {
      tags: ['members'],
      summary: 'Members (managers: all; members: only their own record)',
      params: IdParams,
      querystring: Type.Object({ state: Type.Optional(S.MemberState) }, { additionalProperties: false }),
      response: { 200: Type.Array(S.Member), ...errors(401, 404) },
    },
  }, async (request) => members.listMembers(db, request.principal, request.params.id, request.query.state));

  // Invitations: a person joins only by accepting; the manager never learns whether an address has an account.
  app.post('/api/v1/communities/:id/invitations', {
    schema: {
      tags: ['members'],
      summary: 'Invite a person by email (managers); the same answer whether or not the address has an account',
      params: IdParams,
      body: S.InvitationCreate,
      response: { 201: S.Invitation, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (request, reply) => reply.status(201).send(await invitations.invite(db, request.principal, request.params.id, request.body)));

  app.get('/api/v1/communities/:id/invitations', {
    schema: {
      tags: ['members'],
      summary: 'Invitations of a community (managers)',
      params: IdParams,
      querystring: Type.Object({ state: Type.Optional(S.InvitationState) }, { additionalProperties: false }),
      response: { 200: Type.Array(S.Invitation), ...errors(401, 403, 404) },
    },
  }, async (request) => invitations.listInvitations(db, request.principal, request.params.id, request.query.state));

  app.delete('/api/v1/invitations/:id', {
    schema: { tags: ['members'], summary: 'Revoke an open invitation (managers)', params: IdParams, response: { ...NoContent, ...errors(401, 403, 404, 409) } },
  }, async (request, reply) => {
    await invitations.revokeInvitation(db, request.principal, request.params.id);
    return reply.status(204).send(null);
  });

  app.get('/api/v1/me/invitations', {
    schema: { tags: ['members'], summary: 'Open invitations to the logged-in user\'s email, also those made before they signed up', response: { 200: Type.Array(S.ReceivedInvitation), ...errors(401) } },
  }, async (request) => invitations.receivedInvitations(db, request.principal));

  app.post('/api/v1/invitations/:id/accept', {
    schema: { tags: ['members'], summary: 'Accept an invitation to you: you become an active member', params: IdParams, response: { 200: S.Member, ...errors(401, 404) } },
  }, async (request) => invitations.acceptInvitation(db, request.principal, request.params.id));

  app.post('/api/v1/invitations/:id/decline', {
    schema: { tags: ['members'], summary: 'Decline an invitation to you', params: IdParams, response: { ...NoContent, ...errors(401, 404) } },
  }, async (request, reply) => {
    await invitations.declineInvitation(db, request.principal, request.params.id);
    return reply.status(204).send(null);
  });

  app.post('/api/v1/communities/:id/join-requests', {
    schema: { tags: ['members'], summary: 'Ask to join a public community', params: IdParams, body: S.JoinRequest, response: { 201: S.Member, ...errors(400, 401, 404, 409) } },
  }, async (request, reply) => reply.status(201).send(await members.requestToJoin(db, request.principal, request.params.id, request.body)));

  app.get('/api/v1/members/:id', {
    schema: { tags: ['members'], summary: 'One member record', params: IdParams, response: { 200: S.Member, ...errors(401, 404) } },
  }, async (request) => members.getMember(db, request.principal, request.params.id));

  app.patch('/api/v1/members/:id', {
    schema: { tags: ['members'], summary: 'Change display name (self), role or the start of the member\'s part in the sharing (managers)', params: IdParams, body: S.MemberPatch, response: { 200: S.Member, ...errors(400, 401, 403, 404, 409) } },
  }, async (request) => members.updateMember(db, events, request.principal, request.params.id, request.body));

  for (const decision of ['approve', 'reject'] as const) {
    app.post(`/api/v1/members/:id/${decision}`, {
      schema: { tags: ['members'], summary: `${decision === 'approve' ? 'Approve' : 'Reject'} a join request (managers)`, params: IdParams, response: { 200: S.Member, ...errors(401, 403, 404, 409) } },
    }, async (request) => members.decideJoinRequest(db, request.principal, request.params.id, decision));
  }

  app.post('/api/v1/members/:id/leave', {
    schema: { tags: ['members'], summary: 'Leave the community (self) or remove a member (managers)', params: IdParams, response: { 200: S.Member, ...errors(401, 404, 409) } },
  }, async (request) => members.leaveCommunity(db, request.principal, request.params.id));

  // Metering points
  app.get('/api/v1/communities/:id/metering-points', {
    schema: { tags: ['metering points'], summary: 'Sites (managers: all; members: their own)', params: IdParams, response: { 200: Type.Array(S.MeteringPoint), ...errors(401, 404) } },
  }, async (request) => meteringPoints.listMeteringPoints(db, request.principal, request.params.id));

  app.post('/api/v1/communities/:id/metering-points', {
    schema: { tags: ['metering points'], summary: 'Register a site (own, or any member\'s for managers)', params: IdParams, body: S.MeteringPointCreate, response: { 201: S.MeteringPoint, ...errors(400, 401, 404, 409) } },
  }, async (request, reply) => reply.status(201).send(await meteringPoints.createMeteringPoint(db, request.principal, request.params.id, request.body)));

  app.get('/api/v1/metering-points/:id', {
    schema: { tags: ['metering points'], summary: 'One site', params: IdParams, response: { 200: S.MeteringPoint, ...errors(401, 404) } },
  }, async (request) => meteringPoints.getMeteringPoint(db, request.principal, request.params.id));

  app.patch('/api/v1/metering-points/:id', {
    schema: { tags: ['metering points'], summary: 'Change a site (owner or managers)', params: IdParams, body: S.MeteringPointPatch, response: { 200: S.MeteringPoint, ...errors(400, 401, 404, 409) } },
  }, async (request) => {
    const before = await meteringPoints.getMeteringPoint(db, request.principal, request.params.id);
    const point = await meteringPoints.updateMeteringPoint(db, request.principal, request.params.id, request.body);
    const site = { communityId: point.communityId, meteringPointId: point.id, deviceId: null };
    if (request.body.communityBattery !== undefined) await events.publish(db, 'site.changed', { ...site, change: 'community-battery' });
    if (point.effectiveConnectionCapacityW !== before.effectiveConnectionCapacityW) await events.publish(db, 'site.changed', { ...site, change: 'limit' });
    return point;
  });

  app.delete('/api/v1/metering-points/:id', {
    schema: { tags: ['metering points'], summary: 'Remove a site (managers)', params: IdParams, response: { ...NoContent, ...errors(401, 403, 404) } },
  }, async (request, reply) => {
    await meteringPoints.deleteMeteringPoint(db, request.principal, request.params.id);
    return reply.status(204).send(null);
  });

  // Devices
  app.get('/api/v1/communities/:id/devices', {
    schema: { tags: ['devices'], summary: 'Devices (managers: all; members: those on their sites)', params: IdParams, response: { 200: Type.Array(S.Device), ...errors(401, 404) } },
  }, async (request) => devices.listDevices(db, request.principal, request.params.id));

  app.post('/api/v1/communities/:id/devices', {
    schema: {
      tags: ['devices'], summary: 'Register one device, bound to a site in a role where given (managers; within the quota devicesPerCommunity)',
      params: IdParams, body: S.DeviceCreate, response: { 201: S.Device, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (request, reply) => reply.status(201).send(await devices.createDevice(db, quotas, request.principal, request.params.id, request.body)));

  const DeviceParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) });
  app.get('/api/v1/devices/:id', {
    schema: { tags: ['devices'], summary: 'One device', params: DeviceParams, response: { 200: S.Device, ...errors(401, 404) } },
  }, async (request) => devices.getDevice(db, request.principal, request.params.id));

  app.patch('/api/v1/devices/:id', {
    schema: {
      tags: ['devices'],
      summary: 'Rename, rebind (in a role on its site; a second billing meter on a site is a 409), disable or enable a device (managers)',
      params: DeviceParams, body: S.DevicePatch, response: { 200: S.Device, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (request) => {
    const { device, roleChangedAt } = await devices.updateDevice(db, request.principal, request.params.id, request.body);
    deviceChanged(device.id);
    if (roleChangedAt) {
      await events.publish(db, 'site.changed', { communityId: device.communityId, meteringPointId: roleChangedAt, change: 'device-role', deviceId: device.id });
    }
    return device;
  });

  app.delete('/api/v1/devices/:id', {
    schema: { tags: ['devices'], summary: 'Delete a device (managers)', params: DeviceParams, response: { ...NoContent, ...errors(401, 403, 404) } },
  }, async (request, reply) => {
    await devices.deleteDevice(db, request.principal, request.params.id);
    deviceChanged(request.params.id);
    return reply.status(204).send(null);
  });

  // Tariffs
  app.get('/api/v1/communities/:id/tariffs', {
    schema: { tags: ['tariffs'], summary: 'Tariffs of the community (members)', params: IdParams, response: { 200: Type.Array(S.Tariff), ...errors(401, 404) } },
  }, async (request) => tariffs.listTariffs(db, request.principal, request.params.id));

  app.post('/api/v1/communities/:id/tariffs', {
    schema: { tags: ['tariffs'], summary: 'Add a tariff from a date (managers)', params: IdParams, body: S.TariffCreate, response: { 201: S.Tariff, ...errors(400, 401, 403, 404, 409) } },
  }, async (request, reply) => reply.status(201).send(await tariffs.createTariff(db, request.principal, request.params.id, request.body)));

  app.get('/api/v1/tariffs/:id', {
    schema: { tags: ['tariffs'], summary: 'One tariff (members)', params: IdParams, response: { 200: S.Tariff, ...errors(401, 404) } },
  }, async (request) => tariffs.getTariff(db, request.principal, request.params.id));

  app.patch('/api/v1/tariffs/:id', {
    schema: { tags: ['tariffs'], summary: 'Change a tariff (managers)', params: IdParams, body: S.TariffPatch, response: { 200: S.Tariff, ...errors(400, 401, 403, 404, 409) } },
  }, async (request) => tariffs.updateTariff(db, request.principal, request.params.id, request.body));

  app.delete('/api/v1/tariffs/:id', {
    schema: { tags: ['tariffs'], summary: 'Delete a tariff (managers)', params: IdParams, response: { ...NoContent, ...errors(401, 403, 404) } },
  }, async (request, reply) => {
    await tariffs.deleteTariff(db, request.principal, request.params.id);
    return reply.status(204).send(null);
  });
}
