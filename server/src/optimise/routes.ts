import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import type { EventBus } from '../platform/events/index.js';
import { optimiseRoutes as contract } from '@gridshare/contract/optimise';
import { requireCommunityManager } from '../registry/index.js';
import { ConflictError } from '../kernel/errors.js';
import type { OptimiseJob } from './job.js';
import type { PlanService } from './service.js';
import {
  communityPlan, createApplianceRequest, getDeviceControl, getObjective, memberPlan, planOfId, planSummary, putDeviceControl, putObjective, withdrawApplianceRequest,
} from './views.js';

export async function optimiseRoutes(app: Api, { db, events, service, job }: { db: Db; events: EventBus; service: PlanService; job: OptimiseJob }): Promise<void> {
  const now = () => service.settings.now();

  app.get(contract.communityPlan.path, { schema: contract.communityPlan.schema },
    async (request) => communityPlan(db, request.principal, request.params.id));

  app.get(contract.plan.path, { schema: contract.plan.schema }, async (request) => planOfId(db, request.principal, request.params.id));

  app.post(contract.replan.path, { schema: contract.replan.schema }, async (request) => {
    await requireCommunityManager(db, request.principal, request.params.id);
    const plan = await service.plan(request.params.id, 'manual');
    if (!plan) throw new ConflictError('the community has no metering points to plan');
    return planSummary(plan);
  });

  app.get(contract.planObjective.path, { schema: contract.planObjective.schema },
    async (request) => getObjective(db, request.principal, request.params.id));

  app.put(contract.putPlanObjective.path, { schema: contract.putPlanObjective.schema }, async (request) => {
    const weights = await events.transaction(db, (tx, publish) => putObjective(tx, publish, request.principal, request.params.id, request.body));
    job.replan(request.params.id, 'settings');
    return weights;
  });

  app.get(contract.memberPlan.path, { schema: contract.memberPlan.schema }, async (request) => memberPlan(db, request.principal, request.params.id));

  app.get(contract.deviceControl.path, { schema: contract.deviceControl.schema },
    async (request) => getDeviceControl(db, request.principal, request.params.id));

  app.put(contract.putDeviceControl.path, { schema: contract.putDeviceControl.schema }, async (request) => {
    // The settings and an override from the app commit together with `device.override`, which control also hears.
    const changed = await events.transaction(db, async (tx, publish) => {
      const result = await putDeviceControl(tx, publish, now(), request.principal, request.params.id, request.body);
      if (result.override) {
        await publish('device.override', { communityId: result.communityId, deviceId: request.params.id, untilMs: result.override.untilMs, source: 'app' });
      }
      return result;
    });
    if (!changed.override) job.replan(changed.communityId, 'settings');
    return changed.control;
  });

  app.post(contract.createApplianceRequest.path, { schema: contract.createApplianceRequest.schema }, async (request, reply) => {
    const created = await events.transaction(db, (tx, publish) => createApplianceRequest(tx, publish, now(), request.principal, request.params.id, request.body));
    job.replan(created.communityId, 'request');
    return reply.status(201).send(created.request);
  });

  app.delete(contract.deleteApplianceRequest.path, { schema: contract.deleteApplianceRequest.schema }, async (request, reply) => {
    const communityId = await events.transaction(db, (tx, publish) => withdrawApplianceRequest(tx, publish, request.principal, request.params.id));
    job.replan(communityId, 'request');
    return reply.status(204).send(null);
  });
}
