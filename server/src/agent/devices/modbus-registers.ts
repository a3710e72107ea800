import { controlConnector } from '../../connectors/index.js';
import { registerSetup, setpointWrites, type FixedWrite } from '../domain/devices/modbus-registers.js';
import { capabilitiesOf, connectorReader, registerLocalDeviceKind, type Outcome } from './registry.js';

/** Writes through the connectors' `modbus-registers` (each write read back). */
async function write(config: Readonly<Record<string, unknown>>, writes: readonly FixedWrite[]): Promise<Outcome> {
  const report = await controlConnector('modbus-registers', config, undefined, { type: 'write', writes });
  return report.ok ? { ok: true, written: report.written } : { ok: false, error: report.error?.message ?? 'not written' };
}

registerLocalDeviceKind({
  name: 'modbus-registers',
  open(device, path) {
    const setup = registerSetup(device, path);
    return {
      capabilities: capabilitiesOf(device, (kind) => setup.setpoints[kind]?.register !== undefined),
      carryOut: (command) => write(device.config, setpointWrites(setup.setpoints[command.kind]!, command.value).writes),
      safe: setup.safeState.length > 0 ? () => write(device.config, setup.safeState) : undefined,
      read: connectorReader(device),
    };
  },
});
