import { controlConnector } from '../../connectors/index.js';
import { sunspecControl, sunspecRelease, sunspecSetup, type SunSpecControl } from '../domain/devices/sunspec.js';
import { takesValue } from '../domain/local-devices.js';
import { capabilitiesOf, connectorReader, registerLocalDeviceKind, type Outcome } from './registry.js';

registerLocalDeviceKind({
  name: 'modbus-sunspec',
  open(device, path) {
    const setup = sunspecSetup(device, path);
    // The discovered model chain, kept so a command does not walk it again.
    let state: unknown;
    const control = async (commands: readonly SunSpecControl[]): Promise<Outcome> => {
      const written: string[] = [];
      for (const command of commands) {
        const report = await controlConnector('modbus-sunspec', device.config, state, command);
        if (!report.ok) return { ok: false, error: report.error?.message ?? 'not written' };
        state = report.state;
        written.push(...report.written);
      }
      return { ok: true, written };
    };
    return {
      capabilities: capabilitiesOf(device, takesValue),
      carryOut: (command, nowMs) => control([sunspecControl(setup, command.kind, command.value ?? 0, command.expiresAtMs, nowMs)]),
      safe: setup.release ? () => control(sunspecRelease(setup)) : undefined,
      read: connectorReader(device),
    };
  },
});
