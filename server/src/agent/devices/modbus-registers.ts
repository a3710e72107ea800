import { controlConnector } from '../../connectors/index.js';
import { registerSetup, setpointWrites, type FixedWrite } from '../domain/devices/modbus-registers.js';
import { capabilitiesOf, connectorReader, registerLocalDeviceKind, type Outcome } from './registry.js';

/** A register-map device, over Modbus TCP (`modbus-registers`) or a serial line (`modbus-rtu`), through the connector kind of its name. */
for (const name of ['modbus-registers', 'modbus-rtu'] as const) {
  /** Writes through the connector's write command (each write read back). */
  const write = async (config: Readonly<Record<string, unknown>>, writes: readonly FixedWrite[]): Promise<Outcome> => {
    const report = await controlConnector(name, config, undefined, { type: 'write', writes });
    return report.ok ? { ok: true, written: report.written } : { ok: false, error: report.error?.message ?? 'not written' };
  };
  registerLocalDeviceKind({
    name,
    open(device, path) {
      const setup = registerSetup(device, path);
      const safe = setup.safeState.length > 0 ? () => write(device.config, setup.safeState) : undefined;
      return {
        capabilities: capabilitiesOf(device, (kind) => setup.setpoints[kind]?.register !== undefined),
        carryOut: (command) => write(device.config, setpointWrites(setup.setpoints[command.kind]!, command.value).writes),
        safe,
        revertAtExpiry: (kind) => (setup.setpoints[kind]?.revertAtExpiry ? safe : undefined),
        read: connectorReader(device),
      };
    },
  });
}
