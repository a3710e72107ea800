/**
 * The benchmark's devices: N SunSpec devices (inverter, meter, storage, battery) on loopback
 * ports, in this process, apart from the poller. Started by bench/connectors.ts over IPC:
 * it answers with the ports, and closes everything on 'stop'.
 */
import { SITE_MODELS, startModbusDevice, sunspecRegisters, type ModbusDevice } from '../../server/test/connectors/support/modbus-device.js';

const count = Number(process.argv[2]) || 1000;
const image = sunspecRegisters(SITE_MODELS);
const devices: ModbusDevice[] = [];
for (let i = 0; i < count; i++) devices.push(await startModbusDevice({ holding: new Map(image) }));
process.send?.({ ports: devices.map((d) => d.port) });
process.on('message', (message: unknown) => {
  if (message === 'stop') {
    const requests = devices.reduce((sum, d) => sum + d.requests, 0);
    void Promise.all(devices.map((d) => d.close())).then(() => {
      process.send?.({ requests }, () => process.exit(0));
    });
  }
});
