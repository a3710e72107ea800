import type { Db } from '../platform/store/db.js';
import type { Quotas } from '../quotas/index.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { Api } from '../platform/http/api.js';
import { registryRoutes as contract } from '@gridshare/contract/registry';
import * as communities from './communities.js';
import * as members from './members.js';
import * as invitations from './invitations.js';
import * as meteringPoints from './metering-points.js';
import * as devices from './devices.js';
import * as tariffs from './tariffs.js';

export interface RegistryHooks {
  db: Db;
  quotas: Quotas;
  deviceChanged: (deviceId: string) => void;
  /** Where `community.changed`, `membership.changed` and `site.changed` go. */
  events: EventPublisher;
}

export async function registryRoutes(app: Api, { db, quotas, deviceChanged, events }: RegistryHooks): Promise<void> {
  // Communities (listing and search live in discovery/)
  app.post(contract.createCommunity.path, { schema: contract.createCommunity.schema }, async (request, reply) => reply.status(201).send(await communities.foundCommunity(db, events, quotas, request.principal, request.body)));

  app.get(contract.getCommunity.path, { schema: contract.getCommunity.schema }, async (request) => communities.getCommunity(db, request.principal, request.params.id));

  app.patch(contract.updateCommunity.path, { schema: contract.updateCommunity.schema }, async (request) => {
    return communities.updateCommunity(db, events, request.principal, request.params.id, request.body);
  });

  app.delete(contract.deleteCommunity.path, { schema: contract.deleteCommunity.schema }, async (request, reply) => {
    await communities.deleteCommunity(db, events, request.principal, request.params.id);
    return reply.status(204).send(null);
  });

  // Members and joining
  app.get(contract.listMembers.path, { schema: contract.listMembers.schema }, async (request) => members.listMembers(db, request.principal, request.params.id, request.query.state));

  // Invitations: a person joins only by accepting; the manager never learns whether an address has an account.
  app.post(contract.createInvitation.path, { schema: contract.createInvitation.schema }, async (request, reply) => reply.status(201).send(await invitations.invite(db, events, request.principal, request.params.id, request.body)));

  app.get(contract.listInvitations.path, { schema: contract.listInvitations.schema }, async (request) => invitations.listInvitations(db, request.principal, request.params.id, request.query.state));

  app.delete(contract.revokeInvitation.path, { schema: contract.revokeInvitation.schema }, async (request, reply) => {
    await invitations.revokeInvitation(db, events, request.principal, request.params.id);
    return reply.status(204).send(null);
  });

  app.get(contract.receivedInvitations.path, { schema: contract.receivedInvitations.schema }, async (request) => invitations.receivedInvitations(db, request.principal));

  app.post(contract.acceptInvitation.path, { schema: contract.acceptInvitation.schema }, async (request) => invitations.acceptInvitation(db, events, request.principal, request.params.id));

  app.post(contract.declineInvitation.path, { schema: contract.declineInvitation.schema }, async (request, reply) => {
    await invitations.declineInvitation(db, events, request.principal, request.params.id);
    return reply.status(204).send(null);
  });

  app.post(contract.requestToJoin.path, { schema: contract.requestToJoin.schema }, async (request, reply) => reply.status(201).send(await members.requestToJoin(db, events, request.principal, request.params.id, request.body)));

  app.get(contract.getMember.path, { schema: contract.getMember.schema }, async (request) => members.getMember(db, request.principal, request.params.id));

  app.patch(contract.updateMember.path, { schema: contract.updateMember.schema }, async (request) => members.updateMember(db, events, request.principal, request.params.id, request.body));

  for (const [decision, route] of [['approve', contract.approveMember], ['reject', contract.rejectMember]] as const) {
    app.post(route.path, { schema: route.schema }, async (request) => members.decideJoinRequest(db, events, request.principal, request.params.id, decision));
  }

  app.post(contract.leaveCommunity.path, { schema: contract.leaveCommunity.schema }, async (request) => members.leaveCommunity(db, events, request.principal, request.params.id));

  // Metering points
  app.get(contract.listMeteringPoints.path, { schema: contract.listMeteringPoints.schema }, async (request) => meteringPoints.listMeteringPoints(db, request.principal, request.params.id));

  app.post(contract.createMeteringPoint.path, { schema: contract.createMeteringPoint.schema }, async (request, reply) => reply.status(201).send(await meteringPoints.createMeteringPoint(db, events, request.principal, request.params.id, request.body)));

  app.get(contract.getMeteringPoint.path, { schema: contract.getMeteringPoint.schema }, async (request) => meteringPoints.getMeteringPoint(db, request.principal, request.params.id));

  app.patch(contract.updateMeteringPoint.path, { schema: contract.updateMeteringPoint.schema }, async (request) => {
    const before = await meteringPoints.getMeteringPoint(db, request.principal, request.params.id);
    const point = await meteringPoints.updateMeteringPoint(db, events, request.principal, request.params.id, request.body);
    const site = { communityId: point.communityId, meteringPointId: point.id, deviceId: null };
    if (request.body.communityBattery !== undefined) await events.publish(db, 'site.changed', { ...site, change: 'community-battery' });
    if (point.effectiveConnectionCapacityW !== before.effectiveConnectionCapacityW) await events.publish(db, 'site.changed', { ...site, change: 'limit' });
    return point;
  });

  app.delete(contract.deleteMeteringPoint.path, { schema: contract.deleteMeteringPoint.schema }, async (request, reply) => {
    await meteringPoints.deleteMeteringPoint(db, events, request.principal, request.params.id);
    return reply.status(204).send(null);
  });

  // Devices
  app.get(contract.listDevices.path, { schema: contract.listDevices.schema }, async (request) => devices.listDevices(db, request.principal, request.params.id));

  app.post(contract.createDevice.path, { schema: contract.createDevice.schema }, async (request, reply) => reply.status(201).send(await devices.createDevice(db, events, quotas, request.principal, request.params.id, request.body)));

  app.get(contract.getDevice.path, { schema: contract.getDevice.schema }, async (request) => devices.getDevice(db, request.principal, request.params.id));

  app.patch(contract.updateDevice.path, { schema: contract.updateDevice.schema }, async (request) => {
    const { device, roleChangedAt } = await devices.updateDevice(db, events, request.principal, request.params.id, request.body);
    deviceChanged(device.id);
    if (roleChangedAt) {
      await events.publish(db, 'site.changed', { communityId: device.communityId, meteringPointId: roleChangedAt, change: 'device-role', deviceId: device.id });
    }
    return device;
  });

  app.put(contract.setDeviceSpecs.path, { schema: contract.setDeviceSpecs.schema }, async (request) => {
    const device = await devices.updateDeviceSpecs(db, events, request.principal, request.params.id, request.body.specs);
    deviceChanged(device.id);
    return device;
  });

  app.delete(contract.deleteDevice.path, { schema: contract.deleteDevice.schema }, async (request, reply) => {
    await devices.deleteDevice(db, events, request.principal, request.params.id);
    deviceChanged(request.params.id);
    return reply.status(204).send(null);
  });

  // Tariffs
  app.get(contract.listTariffs.path, { schema: contract.listTariffs.schema }, async (request) => tariffs.listTariffs(db, request.principal, request.params.id));

  app.post(contract.createTariff.path, { schema: contract.createTariff.schema }, async (request, reply) => reply.status(201).send(await tariffs.addTariff(db, events, request.principal, request.params.id, request.body)));

  app.get(contract.getTariff.path, { schema: contract.getTariff.schema }, async (request) => tariffs.getTariff(db, request.principal, request.params.id));

  app.patch(contract.updateTariff.path, { schema: contract.updateTariff.schema }, async (request) => tariffs.updateTariff(db, events, request.principal, request.params.id, request.body));

  app.delete(contract.deleteTariff.path, { schema: contract.deleteTariff.schema }, async (request, reply) => {
    await tariffs.deleteTariff(db, events, request.principal, request.params.id);
    return reply.status(204).send(null);
  });
}
