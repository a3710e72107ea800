import { Type, type Static } from 'typebox';
import { Host, Port } from '../schema.js';
import type { ModbusEndpoint } from './client.js';
import type { ModbusRtuEndpoint } from './rtu.js';

/** The configuration fields of a Modbus TCP device, shared by the Modbus kinds. */
export const modbusEndpointFields = {
  host: Host,
  port: Port(502),
  unitId: Type.Integer({ minimum: 0, maximum: 255, default: 1, description: 'Modbus unit id (slave id); 1 for most devices, 126 for SMA, 240 for a Fronius meter' }),
  connectTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 3_000 }),
  requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 2_000 }),
};

const EndpointConfig = Type.Object(modbusEndpointFields);

export function endpointOf(config: Static<typeof EndpointConfig>): ModbusEndpoint {
  return { host: config.host, port: config.port, unitId: config.unitId, connectTimeoutMs: config.connectTimeoutMs, requestTimeoutMs: config.requestTimeoutMs };
}

/** The configuration fields of a Modbus RTU device on a serial line (an RS-485 adapter). */
export const modbusRtuFields = {
  path: Type.String({ minLength: 1, maxLength: 200, pattern: '^(/\\S+|COM\\d+)$', description: 'The serial port (/dev/ttyUSB0, a udev link, COM3)' }),
  baudRate: Type.Enum([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200], { default: 9600 }),
  parity: Type.Enum(['none', 'even', 'odd'], { default: 'even', description: 'even is the Modbus default (8E1); many devices use none with 2 stop bits or 1' }),
  dataBits: Type.Enum([7, 8], { default: 8 }),
  stopBits: Type.Enum([1, 2], { default: 1 }),
  unitId: Type.Integer({ minimum: 1, maximum: 247, default: 1, description: 'Modbus slave address on the bus' }),
  requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 1_000 }),
};

const RtuConfig = Type.Object(modbusRtuFields);

export function rtuEndpointOf(config: Static<typeof RtuConfig>): ModbusRtuEndpoint {
  return { path: config.path, baudRate: config.baudRate, parity: config.parity, dataBits: config.dataBits, stopBits: config.stopBits, unitId: config.unitId, requestTimeoutMs: config.requestTimeoutMs };
}
