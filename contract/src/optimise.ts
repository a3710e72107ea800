/** The community's energy plan (MILP, re-planned every 15 minutes), members' device control settings and appliance start requests (server/src/optimise). */
import { Type, type Static } from 'typebox';
import { DeviceId, DeviceParams, errors, IdParams, IsoDateTime, NoContent, nullable, Uuid } from './common.js';
import { route } from './route.js';

const Clock = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'local time, HH:MM' });
const Weight = Type.Number({ minimum: 0, maximum: 1_000_000 });

export const ObjectiveWeights = Type.Object({
  cost: Weight,
  co2PerKg: Type.Number({ minimum: 0, maximum: 1_000_000, description: 'money-equivalent per kg CO2' }),
  importPerKwh: Type.Number({ minimum: 0, maximum: 1_000_000, description: 'penalty per kWh imported by the community (autarky)' }),
  exportPerKwh: Type.Number({ minimum: 0, maximum: 1_000_000, description: 'penalty per kWh exported by the community (self-consumption)' }),
  peakPerKw: Type.Number({ minimum: 0, maximum: 1_000_000, description: 'price per kW of the highest community import of the horizon' }),
}, { additionalProperties: false, description: 'the objective: a weighted sum, money-equivalent; at least one weight above 0' });

export const PlanTrigger = Type.Enum(['schedule', 'forecast', 'override', 'settings', 'request', 'manual', 'device-state'], {
  description: 'device-state: a battery\'s or EV\'s state of charge departed from the plan by more than 10 % of its capacity, or a tank by more than 3 K',
});
export const PlanStatus = Type.Enum(['optimal', 'time-limit', 'rounded-relaxation', 'infeasible', 'unbounded', 'failed']);

const Money = Type.String({ description: 'exact decimal in the community\'s currency, may be negative' });

export const PlanSummary = Type.Object({
  id: Uuid,
  communityId: Uuid,
  decidedAt: IsoDateTime,
  trigger: PlanTrigger,
  horizonStart: IsoDateTime,
  horizonEnd: IsoDateTime,
  stepMinutes: Type.Integer(),
  status: PlanStatus,
  message: Type.String(),
  objective: nullable(Type.Number()),
  bound: nullable(Type.Number()),
  relativeGap: nullable(Type.Number()),
  absoluteGap: nullable(Type.Number()),
  timeS: Type.Number(),
  size: Type.Object({ columns: Type.Integer(), rows: Type.Integer(), nonzeros: Type.Integer(), integers: Type.Integer() }),
  warmStart: Type.Boolean(),
  weights: ObjectiveWeights,
  currency: Type.String(),
  /** null when the solver found no plan. */
  saving: nullable(Type.Object({ cost: Money, co2Grams: Type.Integer(), importWh: Type.Integer(), planCost: Money, baselineCost: Money })),
  problems: Type.Array(Type.String(), { description: 'why there is no plan (infeasible: which constraint of which asset at what time)' }),
  commands: Type.Integer({ description: 'commands this plan sent to controllable devices' }),
});

export const PlannedAsset = Type.Object({
  deviceId: nullable(DeviceId),
  name: Type.String({ description: 'the device\'s name, or what the asset is (consumption, PV)' }),
  type: Type.Enum(['load', 'producer', 'storage', 'ev', 'appliance', 'heat-pump']),
  meteringPointId: nullable(Uuid),
  memberId: nullable(Uuid),
  powerW: Type.Array(Type.Number(), { description: 'mean power per step, + drawn from the site, − supplied' }),
  baselinePowerW: Type.Array(Type.Number(), { description: 'the same without a plan' }),
  socWh: Type.Optional(Type.Array(nullable(Type.Number()))),
  initialSoc: Type.Optional(Type.Object({
    soc: Type.Number({ minimum: 0, maximum: 1, description: 'share of the capacity at the horizon\'s start' }),
    source: Type.Enum(['measured', 'previous-plan', 'default'], {
      description: 'measured: the battery\'s own report (battery.soc, at most 30 minutes old); previous-plan: where the last plan left it; default: assumed half full',
    }),
    measuredAt: nullable(IsoDateTime),
  }, { description: 'a battery\'s: where the plan starts it from; an EV\'s: its state of charge at connection in the horizon\'s first session (measured: ev.soc; default 30 %)' })),
  initialTemperature: Type.Optional(Type.Object({
    temperatureC: Type.Number(),
    source: Type.Enum(['measured', 'previous-plan', 'default'], {
      description: 'measured: the heat pump\'s own report (heat-pump.tank-temperature, at most 30 minutes old); previous-plan: where the last plan left the tank; default: the middle of the comfort band',
    }),
    measuredAt: nullable(IsoDateTime),
  }, { description: 'a heat pump\'s: the tank temperature the plan starts from (a measurement outside the comfort band starts the plan at the nearer bound)' })),
  temperatureC: Type.Optional(Type.Array(Type.Number())),
  starts: Type.Optional(Type.Array(IsoDateTime)),
  curtailedWh: Type.Optional(Type.Integer()),
  technical: Type.Optional(Type.Record(Type.String(), Type.Enum(['device', 'site', 'member-limit', 'default']), {
    description: 'a device\'s technical values in the plan (capacityWh, maxChargeW, cop, …) and where each came from: the device\'s technical data, '
      + 'its site\'s record, its member\'s control limit (narrower than the data, or standing in for it), or the default',
  })),
});

export const LimitExcess = Type.Object({
  meteringPointId: nullable(Uuid),
  name: Type.String({ description: 'the site, or "community" for the community\'s connection to the public grid' }),
  at: IsoDateTime,
  importW: Type.Integer({ description: 'import beyond the limit, W' }),
  exportW: Type.Integer({ description: 'export beyond the limit, W' }),
}, { description: 'a step at which the plan could not keep a connection\'s limit (fixed load or PV beyond it)' });

export const PlanCommandView = Type.Object({
  deviceId: DeviceId,
  kind: Type.Enum(['battery-power', 'ev-charge-power', 'heat-pump-power', 'heat-pump-block', 'appliance-start', 'pv-limit']),
  value: nullable(Type.Number()),
  validFrom: IsoDateTime,
  expiresAt: IsoDateTime,
});

export const CommunityPlan = Type.Object({
  plan: PlanSummary,
  assets: Type.Array(PlannedAsset),
  commandList: Type.Array(PlanCommandView),
  communityImportW: Type.Array(Type.Number(), { description: 'the community\'s net import from the public grid per step (W), with the plan' }),
  baselineImportW: Type.Array(Type.Number(), { description: 'the same without a plan' }),
  limitExcess: Type.Array(LimitExcess),
});
export const LatestPlan = Type.Object({ plan: nullable(CommunityPlan) });

export const MyPlan = Type.Object({
  memberId: Uuid,
  timeZone: Type.String(),
  plan: nullable(PlanSummary),
  saving: nullable(Type.Object({
    baselineCost: Money, planCost: Money, direct: Money, communityShare: Money,
    sharing: nullable(Type.Object({
      rule: Type.String({ description: 'the community\'s sharing rule (allocation rule), or baseline-import' }),
      basis: Type.Enum(['community-energy', 'baseline-import'], {
        description: 'community-energy: the saving at the community\'s connection is shared in proportion to the community energy the rule gives each member under the plan; '
          + 'baseline-import: in proportion to their import without a plan (when the rule shares no energy under the plan)',
      }),
      key: nullable(Type.String({ description: 'the member\'s share under the rule\'s key at the horizon\'s start (rules with a key)' })),
      weightWh: Type.Integer({ minimum: 0, description: 'the member\'s weight: Wh of community energy under the plan, or of baseline import' }),
    }, { description: 'how the community share was found (null for plans from before it was recorded)' })),
    total: Money,
  })),
  because: Type.Array(Type.String(), { description: 'what the plan does differently for this member\'s assets' }),
  assets: Type.Array(PlannedAsset),
  commandList: Type.Array(PlanCommandView),
  limitExcess: Type.Array(LimitExcess, { description: 'at this member\'s sites' }),
});

export const DeviceLimits = Type.Object({
  reserveSoc: Type.Optional(Type.Number({ minimum: 0, maximum: 0.9, description: 'battery: share of capacity kept for backup' })),
  capacityWh: Type.Optional(Type.Integer({ minimum: 100, maximum: 10_000_000, description: 'battery or EV: usable capacity' })),
  maxPowerW: Type.Optional(Type.Integer({ minimum: 100, maximum: 1_000_000, description: 'battery, EV charger, heat pump: highest power' })),
  readyBy: Type.Optional(Clock),
  pluggedInFrom: Type.Optional(Clock),
  minChargeWh: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'EV: energy to add by readyBy' })),
  comfortMinC: Type.Optional(Type.Number({ minimum: 5, maximum: 90 })),
  comfortMaxC: Type.Optional(Type.Number({ minimum: 5, maximum: 90 })),
  windowStart: Type.Optional(Clock),
  windowEnd: Type.Optional(Clock),
  runPowerW: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 100_000 }), { minItems: 1, maxItems: 32, description: 'appliance: W per quarter hour of one run' })),
}, { additionalProperties: false, description: 'limits the plan keeps; which apply depends on the device\'s kind' });

export const ApplianceRequest = Type.Object({
  id: Uuid,
  deviceId: DeviceId,
  earliestStart: IsoDateTime,
  readyBy: IsoDateTime,
  createdAt: IsoDateTime,
  startsAt: nullable(IsoDateTime),
});

export const DeviceControl = Type.Object({
  deviceId: DeviceId,
  communityId: Uuid,
  name: Type.String(),
  kind: Type.String(),
  meteringPointId: nullable(Uuid),
  supported: Type.Boolean({ description: 'whether a plan can control devices of this kind' }),
  controllable: Type.Boolean({ description: 'the member lets the community\'s plan control it' }),
  limits: DeviceLimits,
  overrideUntil: nullable(IsoDateTime),
  overrideSource: nullable(Type.Enum(['device', 'app'])),
  requests: Type.Array(ApplianceRequest),
});
const DeviceControlPut = Type.Object({
  controllable: Type.Optional(Type.Boolean()),
  limits: Type.Optional(DeviceLimits),
  overrideUntil: Type.Optional(nullable(IsoDateTime)),
}, { additionalProperties: false });
const ApplianceRequestCreate = Type.Object({
  readyBy: IsoDateTime,
  earliestStart: Type.Optional(IsoDateTime),
}, { additionalProperties: false });

export type ObjectiveWeights = Static<typeof ObjectiveWeights>;
export type PlanSummary = Static<typeof PlanSummary>;
export type PlannedAsset = Static<typeof PlannedAsset>;
export type PlanCommandView = Static<typeof PlanCommandView>;
export type CommunityPlan = Static<typeof CommunityPlan>;
export type LimitExcess = Static<typeof LimitExcess>;
export type MyPlan = Static<typeof MyPlan>;
export type DeviceLimits = Static<typeof DeviceLimits>;
export type DeviceControl = Static<typeof DeviceControl>;
export type ApplianceRequest = Static<typeof ApplianceRequest>;
export type PlanTrigger = Static<typeof PlanTrigger>;

export const optimiseRoutes = {
  communityPlan: route('GET', '/api/v1/communities/:id/plan', {
    tags: ['optimise'], summary: 'The community\'s latest plan: status, gap, time, savings, asset schedules and the commands sent (managers)',
    params: IdParams, response: { 200: LatestPlan, ...errors(401, 403, 404) },
  }),
  plan: route('GET', '/api/v1/plans/:id', {
    tags: ['optimise'], summary: 'One stored plan by id (managers of its community)',
    params: IdParams, response: { 200: CommunityPlan, ...errors(401, 403, 404) },
  }),
  replan: route('POST', '/api/v1/communities/:id/plan/replan', {
    tags: ['optimise'], summary: 'Plan the community again now from the latest state and forecasts (managers)',
    params: IdParams, response: { 200: PlanSummary, ...errors(401, 403, 404, 409) },
  }),
  planObjective: route('GET', '/api/v1/communities/:id/plan-objective', {
    tags: ['optimise'], summary: 'The objective weights the community\'s plans use (managers)',
    params: IdParams, response: { 200: ObjectiveWeights, ...errors(401, 403, 404) },
  }),
  putPlanObjective: route('PUT', '/api/v1/communities/:id/plan-objective', {
    tags: ['optimise'], summary: 'Set the objective weights of the community\'s plans (managers); the next plan uses them',
    params: IdParams, body: ObjectiveWeights, response: { 200: ObjectiveWeights, ...errors(400, 401, 403, 404) },
  }),
  memberPlan: route('GET', '/api/v1/members/:id/plan', {
    tags: ['optimise'], summary: 'My plan: what my battery, EV, heat pump and appliances will do and why, and the saving against not optimising',
    params: IdParams, response: { 200: MyPlan, ...errors(401, 404) },
  }),
  deviceControl: route('GET', '/api/v1/devices/:id/control', {
    tags: ['optimise'], summary: 'Whether the community may control this device, within which limits, a manual override and appliance start requests (its member, managers)',
    params: DeviceParams, response: { 200: DeviceControl, ...errors(401, 404) },
  }),
  putDeviceControl: route('PUT', '/api/v1/devices/:id/control', {
    tags: ['optimise'], summary: 'Allow or forbid control of my device, set its limits or a manual override (its member only)',
    params: DeviceParams, body: DeviceControlPut, response: { 200: DeviceControl, ...errors(400, 401, 403, 404) },
  }),
  createApplianceRequest: route('POST', '/api/v1/devices/:id/appliance-requests', {
    tags: ['optimise'], summary: 'Ask the plan to run my appliance once, done by `readyBy` (its member only)',
    params: DeviceParams, body: ApplianceRequestCreate, response: { 201: ApplianceRequest, ...errors(400, 401, 403, 404) },
  }),
  deleteApplianceRequest: route('DELETE', '/api/v1/appliance-requests/:id', {
    tags: ['optimise'], summary: 'Withdraw an appliance start request (its member only)',
    params: IdParams, response: { ...NoContent, ...errors(401, 403, 404) },
  }),
};
