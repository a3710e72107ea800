import { Type, type Static } from 'typebox';
import { Host, Port } from '../schema.js';
import type { ModbusEndpoint } from './client.js';

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
