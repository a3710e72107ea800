import { createServer, type Server, type Socket } from 'node:net';
import jsmodbus from 'jsmodbus';
import { SerialPort } from 'serialport';
import {
  encodePoint, encodeString, END_OF_CHAIN, modelDef, notImplementedRegisters, SUNS_MARKER,
} from '../../../src/connectors/domain/sunspec/index.js';

/**
 * A Modbus TCP device on a loopback port (or an RTU device on a serial line), for tests and the benchmark: a real jsmodbus server
 * answering from a sparse register map the way devices do (a read touching an unmapped register
 * is exception 2), answering only its own unit id, and recording every write.
 */
export type Registers = Map<number, number>;

export interface DeviceOptions {
  readonly holding?: Registers | undefined;
  readonly input?: Registers | undefined;
  /** The unit id it answers (default 1). */
  readonly unitId?: number | undefined;
  /** Requests for another unit: no answer (a device) or exception 11 (a gateway). */
  readonly otherUnits?: 'silent' | 'gateway-exception' | undefined;
  /** Accept connections and never answer anything: a hung device. */
  readonly silent?: boolean | undefined;
  readonly port?: number | undefined;
  /** Registers that take a write without an error and keep their old value (a device under local control). */
  readonly ignoresWritesTo?: ReadonlySet<number> | undefined;
}

export interface RecordedWrite {
  readonly address: number;
  readonly values: readonly number[];
}

export interface ModbusDevice {
  readonly port: number;
  readonly holding: Registers;
  readonly input: Registers;
  readonly writes: RecordedWrite[];
  /** Requests answered (reads and writes). */
  requests: number;
  close(): Promise<void>;
}

const { ModbusTCPServer, ModbusRTUServer } = jsmodbus;
const TcpResponse = jsmodbus.ModbusTCPResponse;
const RtuResponse = jsmodbus.ModbusRTUResponse;
const { ExceptionResponseBody, ReadHoldingRegistersResponseBody, ReadInputRegistersResponseBody, WriteMultipleRegistersResponseBody, WriteSingleRegisterResponseBody } = jsmodbus.responses;

const ILLEGAL_DATA_ADDRESS = 2;
const GATEWAY_TARGET_FAILED = 11;

interface ServerRequest {
  readonly unitId: number;
  readonly body: { readonly fc: FunctionCode; readonly start: number; readonly count: number; readonly address: number; readonly value: number; readonly valuesAsArray: readonly number[] };
}
type FunctionCode = 1 | 2 | 3 | 4 | 5 | 6 | 15 | 16 | 43;
type Reply = (payload: Buffer) => void;

export async function startModbusDevice(options: DeviceOptions = {}): Promise<ModbusDevice> {
  const holding = options.holding ?? new Map();
  const input = options.input ?? new Map();
  const sockets = new Set<Socket>();
  const server: Server = createServer();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  const device: ModbusDevice = {
    port: 0,
    holding,
    input,
    writes: [],
    requests: 0,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  if (!options.silent) serve(new ModbusTCPServer(server, { holding: undefined, input: undefined }), device, options, TcpResponse.fromRequest as ResponseOf);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  return Object.assign(device, { port: typeof address === 'object' && address ? address.port : 0 });
}

/**
 * The same device on a serial line, Modbus RTU (jsmodbus's RTU server on the far end of a
 * pseudo-terminal pair): answers only its unit id (another unit's request gets no answer, as on
 * an RS-485 bus), records every write.
 */
export async function startModbusRtuDevice(path: string, options: Pick<DeviceOptions, 'holding' | 'input' | 'unitId' | 'ignoresWritesTo'> = {}): Promise<ModbusDevice> {
  const port = new SerialPort({ path, baudRate: 9600, parity: 'even', dataBits: 8, stopBits: 1, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  const device: ModbusDevice = {
    port: 0,
    holding: options.holding ?? new Map(),
    input: options.input ?? new Map(),
    writes: [],
    requests: 0,
    close: () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
  serve(new ModbusRTUServer(port, { holding: undefined, input: undefined }), device, { ...options, otherUnits: 'silent' }, RtuResponse.fromRequest as ResponseOf);
  return device;
}

type ResponseOf = (request: never, body: never) => { createPayload(): Buffer };

/** Answers a jsmodbus server's requests (TCP or RTU) from the device's registers; no register buffers, so every request comes here. */
function serve(modbus: { on(event: string, handler: never): unknown }, device: ModbusDevice, options: DeviceOptions, respondAs: ResponseOf): void {
  const unitId = options.unitId ?? 1;
  const { holding, input } = device;
  const respond = (request: ServerRequest, body: { byteCount: number; createPayload(): Buffer }) => respondAs(request as never, body as never);
  const answer = (request: ServerRequest, reply: Reply, body: { byteCount: number; createPayload(): Buffer }): void => {
    device.requests++;
    reply(respond(request, body).createPayload());
  };
  const forUs = (request: ServerRequest, reply: Reply): boolean => {
    if (request.unitId === unitId) return true;
    if (options.otherUnits === 'gateway-exception') answer(request, reply, new ExceptionResponseBody(request.body.fc, GATEWAY_TARGET_FAILED));
    return false;
  };
  const read = (registers: Registers, Body: typeof ReadHoldingRegistersResponseBody | typeof ReadInputRegistersResponseBody) => (request: ServerRequest, reply: Reply) => {
    if (!forUs(request, reply)) return;
    const { start, count } = request.body;
    const payload = Buffer.alloc(count * 2);
    for (let i = 0; i < count; i++) {
      const value = registers.get(start + i);
      if (value === undefined) return answer(request, reply, new ExceptionResponseBody(request.body.fc, ILLEGAL_DATA_ADDRESS));
      payload.writeUInt16BE(value, i * 2);
    }
    answer(request, reply, new Body(payload.length, payload));
  };
  const write = (request: ServerRequest, reply: Reply, address: number, values: readonly number[], body: { byteCount: number; createPayload(): Buffer }) => {
    if (!forUs(request, reply)) return;
    if (values.some((_, i) => !holding.has(address + i))) return answer(request, reply, new ExceptionResponseBody(request.body.fc, ILLEGAL_DATA_ADDRESS));
    values.forEach((v, i) => {
      if (!options.ignoresWritesTo?.has(address + i)) holding.set(address + i, v);
    });
    device.writes.push({ address, values: [...values] });
    answer(request, reply, body);
  };
  modbus.on('readHoldingRegisters', read(holding, ReadHoldingRegistersResponseBody) as never);
  modbus.on('readInputRegisters', read(input, ReadInputRegistersResponseBody) as never);
  modbus.on('writeMultipleRegisters', ((request: ServerRequest, reply: Reply) => {
    write(request, reply, request.body.address, request.body.valuesAsArray, WriteMultipleRegistersResponseBody.fromRequest(request.body as never));
  }) as never);
  modbus.on('writeSingleRegister', ((request: ServerRequest, reply: Reply) => {
    write(request, reply, request.body.address, [request.body.value], WriteSingleRegisterResponseBody.fromRequest(request.body as never));
  }) as never);
}

/** One model of a simulated SunSpec device: raw register values by point name (the rest not implemented). */
export interface ModelImage {
  readonly id: number;
  readonly points?: Readonly<Record<string, number | string>> | undefined;
  /** The L to announce (default: the model's full length). */
  readonly length?: number | undefined;
}

/**
 * A SunSpec register map: the marker at `base`, the models in order, and the end marker (or
 * not, for a chain that ends early).
 */
export function sunspecRegisters(models: readonly ModelImage[], options: { base?: number; endMarker?: boolean } = {}): Registers {
  const registers: Registers = new Map();
  const put = (address: number, values: readonly number[]): void => values.forEach((v, i) => registers.set(address + i, v));
  let address = options.base ?? 40000;
  put(address, SUNS_MARKER);
  address += 2;
  for (const image of models) {
    const def = modelDef(image.id);
    if (!def) throw new Error(`no definition of model ${image.id}`);
    const length = image.length ?? def.length;
    put(address, [image.id, length]);
    const body = address + 2;
    for (let i = 0; i < length; i++) registers.set(body + i, 0);
    for (const point of def.points.values()) {
      if (point.offset + point.size > length) continue;
      const value = image.points?.[point.name];
      const regs = value === undefined ? notImplementedRegisters(point)
        : typeof value === 'string' ? encodeString(value, point.size)
          : encodePoint(point.type as Exclude<typeof point.type, 'string'>, value);
      put(body + point.offset, regs);
    }
    address = body + length;
  }
  if (options.endMarker !== false) put(address, [END_OF_CHAIN, 0]);
  return registers;
}

/**
 * A site as the tests know it: a three-phase inverter (5 kW AC, 12,345.6 kWh), its controls,
 * a three-phase meter exporting 2 kW, storage at 56.7 % and a battery model charging at 1.5 kW.
 */
export const SITE_MODELS: readonly ModelImage[] = [
  { id: 1, points: { Mn: 'Gridshare Test', Md: 'Hybrid 5', SN: 'SN-0042', Vr: '1.2.3', DA: 1 } },
  {
    id: 103,
    points: {
      A: 2170, AphA: 724, AphB: 723, AphC: 723, A_SF: -2, PhVphA: 2301, PhVphB: 2299, PhVphC: 2305, V_SF: -1,
      W: 5000, W_SF: 0, Hz: 5001, Hz_SF: -2, VAr: -120, VAr_SF: 0, PF: 995, PF_SF: -1, WH: 1234560, WH_SF: 1, St: 4,
    },
  },
  { id: 120, points: { DERTyp: 4, WRtg: 5000, WRtg_SF: 0 } },
  { id: 123, points: { Conn: 1, WMaxLimPct: 100, WMaxLimPct_SF: 0, WMaxLim_Ena: 0, WMaxLimPct_RvrtTms: 0, OutPFSet_SF: -3, VArPct_SF: 0 } },
  {
    id: 124,
    points: { WChaMax: 3000, WChaMax_SF: 0, StorCtl_Mod: 0, ChaState: 567, ChaState_SF: -1, ChaSt: 4, InWRte: 100, OutWRte: 100, InOutWRte_SF: 0, InOutWRte_RvrtTms: 0, ChaGriSet: 0, WChaDisChaGra_SF: 0 },
  },
  {
    id: 203,
    points: {
      AphA: 29, AphB: 29, AphC: 29, A_SF: -1, PhVphA: 2301, PhVphB: 2299, PhVphC: 2305, V_SF: -1, Hz: 5001, Hz_SF: -2,
      W: -2000, WphA: -667, WphB: -667, WphC: -666, W_SF: 0, TotWhExp: 4567800, TotWhImp: 9876500, TotWh_SF: 0, PF: -98, PF_SF: -2,
    },
  },
  { id: 802, points: { SoC: 567, SoC_SF: -1, W: -1500, W_SF: 0, ChaSt: 4, V: 512, V_SF: -1, AHRtg: 100, WHRtg: 10000, AHRtg_SF: 0, WHRtg_SF: 0, WChaRteMax: 3000, WDisChaRteMax: 3000, WChaDisChaMax_SF: 0, CellV_SF: -3, A_SF: -1, AMax_SF: 0 } },
];
