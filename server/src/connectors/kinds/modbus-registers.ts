import { Type, type Static } from 'typebox';
import type { RegisterRange } from '../domain/reads.js';
import type { Problem } from '../domain/readings.js';
import { encodeRegisters, planRegisterReads, registerCount, registerReadings, REGISTER_TEMPLATES, REGISTER_TYPES, resolveRegisterMap, type RegisterBlocks, type RegisterFunction, type RegisterOverride, type RegisterPoint } from '../domain/registers/index.js';
import { ConnectorError, type ConnectorKind, type RunContext } from '../kind.js';
import { ModbusException, openModbus, type ModbusSession } from '../modbus/client.js';
import { endpointOf, modbusEndpointFields } from '../modbus/endpoint.js';
import { registerKind } from '../registry.js';
import { QuantitySchema, TargetName } from '../schema.js';

/**
 * `modbus-registers`: a Modbus TCP device described by a register map, a built-in template
 * (Eastron SDM630, a generic three-phase meter) with the device's own overrides, or a map of
 * its own. Registers are read in as few requests as the map allows; a block the device refuses
 * is read point by point, so one wrong address costs one point, not the device.
 */
const Endianness = Type.Enum(['big', 'little']);
const Register = Type.Object({
  quantity: QuantitySchema,
  target: Type.Optional(TargetName),
  address: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: '0-based protocol address' })),
  function: Type.Optional(Type.Enum(['holding', 'input'], { description: 'holding (function 3) or input (function 4) registers' })),
  type: Type.Optional(Type.Enum(REGISTER_TYPES as [string, ...string[]])),
  wordOrder: Type.Optional(Endianness),
  byteOrder: Type.Optional(Endianness),
  scale: Type.Optional(Type.Number({ description: 'Multiplier from the raw value to the unit (0.1, 0.01, 1000 …)' })),
  unit: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  negativeQuantity: Type.Optional(QuantitySchema),
  notImplemented: Type.Optional(Type.Integer({ minimum: 0, description: 'Raw value the device sends for "no value" (e.g. 32768, 65535)' })),
  disabled: Type.Optional(Type.Boolean({ description: 'Leave this template point out' })),
}, { additionalProperties: false });

/** The register map's fields, shared with `modbus-rtu` (the same map on a serial line). */
export const registerMapFields = {
  template: Type.Optional(Type.Enum([...REGISTER_TEMPLATES.keys()] as [string, ...string[]])),
  target: Type.String({ ...TargetName, default: 'meter' }),
  registers: Type.Array(Register, { default: [], maxItems: 500, description: 'Overrides of template points (matched by quantity and target) and points of its own' }),
  maxGap: Type.Optional(Type.Integer({ minimum: 0, maximum: 124, description: 'Registers one read may bridge (default: the template\'s, else 0)' })),
};
const MapConfig = Type.Object(registerMapFields);
type MapConfig = Static<typeof MapConfig>;

const Config = Type.Object({ ...modbusEndpointFields, ...registerMapFields }, { additionalProperties: false });

export const RegisterMapState = Type.Object({});

/**
 * Values written to holding registers in order (a mode register first, then its set-point), each
 * read back: a device that keeps its old value (under local control) is an error, not a success.
 */
const RegisterWrite = Type.Object({
  address: Type.Integer({ minimum: 0, maximum: 65535, description: '0-based holding register address' }),
  type: Type.Enum(REGISTER_TYPES as [string, ...string[]]),
  wordOrder: Type.Optional(Endianness),
  byteOrder: Type.Optional(Endianness),
  value: Type.Number({ description: 'the raw value, before any scale' }),
}, { additionalProperties: false });
export const RegisterWriteCommand = Type.Object({
  type: Type.Literal('write'),
  writes: Type.Array(RegisterWrite, { minItems: 1, maxItems: 16 }),
}, { additionalProperties: false });
type Command = Static<typeof RegisterWriteCommand>;

/** Opens a session to the configured device (Modbus TCP, or RTU on a serial line). */
type Open = (signal: AbortSignal) => Promise<ModbusSession>;

function encodedWrite(write: Command['writes'][number]): number[] {
  const encoding = { type: write.type as RegisterPoint['type'], wordOrder: write.wordOrder ?? 'big', byteOrder: write.byteOrder ?? 'big' } as const;
  const bounds = writableRange(encoding.type);
  if (!Number.isFinite(write.value) || (bounds && (!Number.isInteger(write.value) || write.value < bounds[0] || write.value > bounds[1]))) {
    throw new ConnectorError('config', `register ${write.address}: ${write.value} does not fit a ${write.type}`);
  }
  return encodeRegisters(write.value, encoding);
}

/** The integers a register type holds (floats take any finite value). */
function writableRange(type: RegisterPoint['type']): readonly [number, number] | undefined {
  switch (type) {
    case 'int16': return [-0x8000, 0x7fff];
    case 'uint16': return [0, 0xffff];
    case 'int32': return [-0x80000000, 0x7fffffff];
    case 'uint32': return [0, 0xffffffff];
    case 'int64': return [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
    case 'uint64': return [0, Number.MAX_SAFE_INTEGER];
    default: return undefined;
  }
}

function resolved(config: MapConfig) {
  const template = config.template === undefined ? undefined : REGISTER_TEMPLATES.get(config.template);
  const map = resolveRegisterMap(template, config.registers as RegisterOverride[], config.target);
  return { ...map, maxGap: config.maxGap ?? template?.maxGap ?? 0 };
}

async function readBlocks(session: ModbusSession, fn: RegisterFunction, plan: readonly RegisterRange[], points: readonly RegisterPoint[], problems: Problem[]): Promise<Map<number, number[]>> {
  const read = (address: number, count: number) => (fn === 'holding' ? session.readHolding(address, count) : session.readInput(address, count));
  const blocks = new Map<number, number[]>();
  for (const block of plan) {
    try {
      blocks.set(block.address, await read(block.address, block.count));
    } catch (error) {
      if (!(error instanceof ModbusException)) throw error;
      // Read what can be read of the block point by point, filling a copy the decoder can use.
      const regs = new Array<number>(block.count).fill(0);
      let anyRead = false;
      for (const point of points.filter((p) => p.function === fn && p.address >= block.address && p.address < block.address + block.count)) {
        try {
          const values = await read(point.address, registerCount(point.type));
          values.forEach((v, i) => (regs[point.address - block.address + i] = v));
          anyRead = true;
        } catch (pointError) {
          if (!(pointError instanceof ModbusException)) throw pointError;
          problems.push({ where: `${point.target}/${point.quantity}`, message: `${fn} register ${point.address}: ${pointError.message}` });
        }
      }
      if (anyRead) blocks.set(block.address, regs);
    }
  }
  return blocks;
}

async function poll(config: MapConfig, open: Open, context: RunContext) {
  const { points, maxGap } = resolved(config);
  const plan = planRegisterReads(points, maxGap);
  const problems: Problem[] = [];
  const session = await open(context.signal);
  let blocks: RegisterBlocks;
  try {
    blocks = { holding: await readBlocks(session, 'holding', plan.holding, points, problems), input: await readBlocks(session, 'input', plan.input, points, problems) };
  } finally {
    session.close();
  }
  // A point whose read failed is a problem already, not also "not implemented".
  const failed = new Set(problems.map((p) => p.where));
  const mapped = registerReadings(points, plan, blocks, context.now());
  const absent = mapped.absent.filter((a) => !failed.has(a));
  if (mapped.readings.length === 0 && problems.length > 0) throw new ConnectorError('source', `no register could be read: ${problems[0]!.message}`);
  const details: Record<string, string> = { reads: String(plan.holding.length + plan.input.length) };
  if (absent.length > 0) details['notImplemented'] = absent.join(', ');
  return { readings: mapped.readings, problems, details };
}

/** The checks, reads and writes of a register-map kind, over the session `open` gives. */
export function registerMapKind<C extends MapConfig>(open: (config: C) => Open) {
  return {
    stateSchema: RegisterMapState,
    initialState: {},
    defaultTimeoutMs: 20_000,
    commandSchema: RegisterWriteCommand,
    configProblems: (config: C) => [...resolved(config).problems],
    async test(config: C, context: RunContext, limit: number) {
      const result = await poll(config, open(config), context);
      return { readings: result.readings.slice(0, limit), problems: result.problems, details: result.details };
    },
    async run(config: C, state: Static<typeof RegisterMapState>, context: RunContext) {
      return { ...(await poll(config, open(config), context)), state };
    },
    async control(config: C, state: Static<typeof RegisterMapState>, command: Command, context: RunContext) {
      const encoded = command.writes.map((write) => ({ address: write.address, regs: encodedWrite(write), value: write.value }));
      const session = await open(config)(context.signal);
      try {
        for (const write of encoded) {
          await session.writeRegisters(write.address, write.regs);
          const back = await session.readHolding(write.address, write.regs.length);
          if (back.some((v, i) => v !== write.regs[i])) throw new ConnectorError('source', `register ${write.address} kept ${back.join(' ')} after writing ${write.regs.join(' ')}: is the device under local control?`);
        }
      } finally {
        session.close();
      }
      return { state, written: encoded.map((w) => `${w.address} = ${w.value}`) };
    },
  };
}

const kind: ConnectorKind<typeof Config, typeof RegisterMapState, typeof RegisterWriteCommand> = {
  name: 'modbus-registers',
  summary: 'Modbus TCP meters and devices by register map (templates: Eastron SDM630, generic three-phase)',
  configSchema: Config,
  ...registerMapKind<Static<typeof Config>>((config) => (signal) => openModbus(endpointOf(config), signal)),
};

registerKind(kind);
