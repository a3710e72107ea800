import { Type, type Static } from 'typebox';
import type { ConnectorKind } from '../kind.js';
import { modbusRtuFields, rtuEndpointOf } from '../modbus/endpoint.js';
import { openModbusRtu } from '../modbus/rtu.js';
import { registerKind } from '../registry.js';
import { registerMapKind, RegisterMapState, RegisterWriteCommand, registerMapFields } from './modbus-registers.js';

/**
 * `modbus-rtu`: `modbus-registers` on a serial line — the same register maps and templates, the
 * same read-back writes — for a device behind an RS-485 adapter in the home (a heat pump, a
 * wallbox, an SDM630 on the bus). It opens a serial port of the machine it runs on, so it runs
 * on a device (`gridshare agent`, `gridshare connector test`), never as a community's instance.
 */
const Config = Type.Object({ ...modbusRtuFields, ...registerMapFields }, { additionalProperties: false });

const kind: ConnectorKind<typeof Config, typeof RegisterMapState, typeof RegisterWriteCommand> = {
  name: 'modbus-rtu',
  summary: 'Modbus RTU devices on a serial line (RS-485 adapter) by register map, on the device only (gridshare agent)',
  configSchema: Config,
  runsOn: 'device',
  ...registerMapKind<Static<typeof Config>>((config) => (signal) => openModbusRtu(rtuEndpointOf(config), signal)),
};

registerKind(kind);
