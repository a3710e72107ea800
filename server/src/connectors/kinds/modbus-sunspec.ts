import { Type, type Static } from 'typebox';
import { planReads, registersFrom, MAX_REGISTERS_PER_READ, type RegisterRange } from '../domain/reads.js';
import { chainStep, controlModel, decodeModel, isSunSpecMarker, MAX_MODELS, modelDef, modelRole, planControl, sunspecReadings, SUNSPEC_BASE_ADDRESSES, unconfirmedWrites, type DecodedModel, type ModelLocation, type SunSpecCommand, type SunSpecLayout } from '../domain/sunspec/index.js';
import { ConnectorError, type ConnectorKind, type RunContext } from '../kind.js';
import { ILLEGAL_DATA_ADDRESS, ModbusException, openModbus, type ModbusSession } from '../modbus/client.js';
import { endpointOf, modbusEndpointFields } from '../modbus/endpoint.js';
import { registerKind } from '../registry.js';

/**
 * `modbus-sunspec`: inverters, meters and batteries that describe themselves with SunSpec
 * models over Modbus TCP. The first run discovers the model chain and keeps it in the state;
 * later runs read only the models Gridshare maps, in as few requests as possible, and discover
 * again when the device's layout changed (a firmware update). Writes power limits and battery
 * setpoints (see domain/sunspec/controls.ts), verified by reading them back.
 */
const Config = Type.Object({
  ...modbusEndpointFields,
  baseAddress: Type.Optional(Type.Integer({ minimum: 0, maximum: 65533, description: 'Where the SunS marker is, when not at 40000, 0 or 50000' })),
  invertMeter: Type.Boolean({ default: false, description: 'The meter is mounted the other way round (its import is the site\'s export)' }),
}, { additionalProperties: false });
type Config = Static<typeof Config>;

const Location = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 65534 }), address: Type.Integer({ minimum: 0, maximum: 65535 }), length: Type.Integer({ minimum: 0, maximum: 65535 }) });
const Layout = Type.Object({
  base: Type.Integer({ minimum: 0, maximum: 65535 }),
  models: Type.Array(Location, { maxItems: MAX_MODELS }),
  complete: Type.Boolean(),
  endNote: Type.Optional(Type.String()),
});
const State = Type.Object({
  layout: Type.Optional(Layout),
  identity: Type.Optional(Type.Record(Type.String(), Type.String())),
});
type State = Static<typeof State>;

const Command = Type.Union([
  Type.Object({
    type: Type.Literal('power-limit'),
    percent: Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()], { description: 'Active power limit in % of WMax; null lifts the limit' }),
    revertAfterS: Type.Optional(Type.Integer({ minimum: 1, maximum: 65534 })),
  }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal('battery'),
    chargePercent: Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()]),
    dischargePercent: Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()]),
    gridCharging: Type.Optional(Type.Boolean()),
    revertAfterS: Type.Optional(Type.Integer({ minimum: 1, maximum: 65534 })),
  }, { additionalProperties: false }),
]);

/** Models whose points become readings. */
const READ_ROLES = new Set(['inverter', 'meter', 'storage', 'battery']);

interface Found {
  readonly layout: SunSpecLayout;
  readonly identity: Record<string, string>;
}

/** The layout as the state keeps it (plain, mutable JSON). */
const stored = (found: Found): State => ({ layout: { ...found.layout, models: [...found.layout.models] }, identity: found.identity });

async function discover(session: ModbusSession, config: Config): Promise<Found> {
  const bases = config.baseAddress === undefined ? SUNSPEC_BASE_ADDRESSES : [config.baseAddress];
  let refusal: ModbusException | undefined;
  for (const base of bases) {
    let marker: number[];
    try {
      marker = await session.readHolding(base, 2);
    } catch (error) {
      if (!(error instanceof ModbusException)) throw error;
      refusal = error;
      continue;
    }
    if (!isSunSpecMarker(marker)) continue;
    const layout = await walkChain(session, base);
    return { layout, identity: await readIdentity(session, layout) };
  }
  const answered = refusal ? ` (last answer: ${refusal.message})` : '';
  throw new ConnectorError('protocol', `no SunSpec marker "SunS" at register ${bases.join(', ')} of unit ${config.unitId}: the device does not speak SunSpec there (check the unit id, or use modbus-registers)${answered}`);
}

async function walkChain(session: ModbusSession, base: number): Promise<SunSpecLayout> {
  const models: ModelLocation[] = [];
  let address = base + 2;
  for (let i = 0; i < MAX_MODELS; i++) {
    let header: number[];
    try {
      header = await session.readHolding(address, 2);
    } catch (error) {
      if (!(error instanceof ModbusException)) throw error;
      return ended(base, models, `the model chain ends early: the header at ${address} cannot be read (${error.message})`);
    }
    const step = chainStep(header, address);
    if (step.kind === 'end') return { base, models, complete: true };
    if (step.kind === 'broken') return ended(base, models, `the model chain ends early: ${step.reason}`);
    models.push(step.location);
    address = step.next;
  }
  return ended(base, models, `the model chain has more than ${MAX_MODELS} models; the rest is ignored`);
}

function ended(base: number, models: readonly ModelLocation[], endNote: string): SunSpecLayout {
  if (models.length === 0) throw new ConnectorError('protocol', `SunSpec marker at ${base} but no model follows: ${endNote}`);
  return { base, models, complete: false, endNote };
}

async function readIdentity(session: ModbusSession, layout: SunSpecLayout): Promise<Record<string, string>> {
  const common = layout.models.find((m) => m.id === 1);
  if (!common) return {};
  const def = modelDef(1)!;
  const decoded = decodeModel(def, await session.readHolding(common.address, Math.min(common.length, def.length)));
  const identity: Record<string, string> = {};
  for (const [key, point] of [['manufacturer', 'Mn'], ['model', 'Md'], ['version', 'Vr'], ['serial', 'SN']] as const) {
    const text = decoded.text(point);
    if (text !== undefined) identity[key] = text;
  }
  return identity;
}

/** Reads the given models (bodies up to what Gridshare knows of each) in as few requests as possible. */
async function readModels(session: ModbusSession, locations: readonly ModelLocation[]): Promise<DecodedModel[]> {
  const ranges: RegisterRange[] = locations.map((m) => ({ address: m.address, count: Math.min(m.length, modelDef(m.id)!.length) }));
  // Every register of a SunSpec chain is readable, so reads may span the models in between.
  const plan = planReads(ranges, MAX_REGISTERS_PER_READ);
  const blocks = new Map<number, number[]>();
  for (const block of plan) blocks.set(block.address, await session.readHolding(block.address, block.count));
  return locations.map((m, i) => decodeModel(modelDef(m.id)!, registersFrom(blocks, plan, ranges[i]!.address, ranges[i]!.count)!));
}

const readable = (layout: SunSpecLayout): ModelLocation[] => layout.models.filter((m) => READ_ROLES.has(modelRole(m.id) ?? '') && modelDef(m.id) !== undefined);

async function withSession<T>(config: Config, context: RunContext, work: (session: ModbusSession) => Promise<T>): Promise<T> {
  const session = await openModbus(endpointOf(config), context.signal);
  try {
    return await work(session);
  } finally {
    session.close();
  }
}

async function poll(session: ModbusSession, config: Config, state: State, context: RunContext) {
  let found: Found | undefined = state.layout ? { layout: state.layout, identity: state.identity ?? {} } : undefined;
  let rediscovered = false;
  if (!found) {
    found = await discover(session, config);
    rediscovered = true;
  }
  let decoded: DecodedModel[];
  try {
    decoded = await readModels(session, readable(found.layout));
  } catch (error) {
    // A layout that no longer fits (firmware update, another device on the address) is found again once.
    if (rediscovered || !(error instanceof ModbusException && error.exceptionCode === ILLEGAL_DATA_ADDRESS)) throw error;
    found = await discover(session, config);
    decoded = await readModels(session, readable(found.layout));
  }
  const mapped = sunspecReadings(decoded, context.now(), { invertMeter: config.invertMeter });
  const { layout, identity } = found;
  const details: Record<string, string> = { ...identity, models: layout.models.map((m) => m.id).join(', '), base: String(layout.base) };
  if (layout.endNote) details['chain'] = layout.endNote;
  if (mapped.absent.length > 0) details['notImplemented'] = mapped.absent.join(', ');
  return { readings: mapped.readings, state: stored(found), details };
}

const kind: ConnectorKind<typeof Config, typeof State, typeof Command> = {
  name: 'modbus-sunspec',
  summary: 'SunSpec inverters, meters and batteries over Modbus TCP (reads; writes power limits and battery setpoints)',
  configSchema: Config,
  stateSchema: State,
  commandSchema: Command,
  initialState: {},
  defaultTimeoutMs: 20_000,
  configProblems: () => [],
  async test(config, context, limit) {
    const result = await withSession(config, context, (session) => poll(session, config, {}, context));
    if (result.readings.length === 0) throw new ConnectorError('protocol', `the device has SunSpec models ${result.details.models} but none Gridshare reads (inverter 101–103/111–113, meter 201–204, storage 124/802)`);
    return { readings: result.readings.slice(0, limit), problems: [], details: result.details };
  },
  async run(config, state, context) {
    const result = await withSession(config, context, (session) => poll(session, config, state, context));
    return { readings: result.readings, state: result.state, problems: [], details: result.details };
  },
  async control(config, state, command, context) {
    return withSession(config, context, async (session) => {
      const found: Found = state.layout ? { layout: state.layout, identity: state.identity ?? {} } : await discover(session, config);
      const location = controlModel(command as SunSpecCommand, found.layout.models);
      const def = modelDef(location.id)!;
      const count = Math.min(location.length, def.length);
      const current = decodeModel(def, await session.readHolding(location.address, count));
      const plan = planControl(command as SunSpecCommand, location, current);
      for (const write of plan.writes) await session.writeRegisters(write.address, write.values);
      const unconfirmed = unconfirmedWrites(plan, await session.readHolding(location.address, count));
      if (unconfirmed.length > 0) {
        throw new ConnectorError('source', `the device accepted the write but does not hold ${unconfirmed.join(', ')} (read-only, out of its range, or under local control?)`);
      }
      return { state: stored(found), written: plan.writes.map((w) => `${w.point} = ${w.values.join(' ')}`) };
    });
  },
};

registerKind(kind);
