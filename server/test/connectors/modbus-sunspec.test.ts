import { afterEach, describe, expect, it } from 'vitest';
import { controlConnector, runConnector, testConnector, type TargetReading } from '../../src/connectors/index.js';
import { SITE_MODELS, startModbusDevice, sunspecRegisters, type ModbusDevice, type ModelImage } from './support/modbus-device.js';

const devices: ModbusDevice[] = [];
async function device(...args: Parameters<typeof startModbusDevice>): Promise<ModbusDevice> {
  const d = await startModbusDevice(...args);
  devices.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.close()));
});

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const now = () => NOW;
const value = (readings: readonly TargetReading[], target: string, quantity: string) => readings.find((r) => r.target === target && r.quantity === quantity)?.value;
const byName = (readings: readonly TargetReading[]) => Object.fromEntries(readings.map((r) => [`${r.target}/${r.quantity}`, r.value]));

describe('modbus-sunspec against a SunSpec device on loopback', () => {
  it('discovers the model chain and reads inverter, meter and battery with their scale factors', async () => {
    const site = await device({ holding: sunspecRegisters(SITE_MODELS) });
    const config = { host: '127.0.0.1', port: site.port };
    const report = await runConnector('modbus-sunspec', config, undefined, { now });
    expect(report.error).toBeUndefined();
    expect(report.outcome).toBe('ok');
    const r = report.readings;
    expect(byName(r)).toMatchObject({
      'inverter/pv.power': 5000, 'inverter/pv.energy': 12_345_600, 'inverter/voltage.l1': 230.1, 'inverter/current.l2': 7.23,
      'inverter/frequency': 50.01, 'inverter/power.factor': 0.995, 'inverter/power.reactive': -120,
      'meter/power.export': 2000, 'meter/power.import': 0, 'meter/power.export.l3': 666, 'meter/energy.import': 9_876_500, 'meter/energy.export': 4_567_800,
      'battery/battery.soc': 56.7, 'battery/battery.power.charge': 1500, 'battery/battery.power.discharge': 0,
    });
    expect(r.every((x) => x.ts === '2026-06-01T12:00:00Z')).toBe(true);
    expect(report.details).toMatchObject({ manufacturer: 'Gridshare Test', model: 'Hybrid 5', serial: 'SN-0042', models: '1, 103, 120, 123, 124, 203, 802', base: '40000' });
    // The discovered layout is kept: the next run reads only the four mapped models (no marker,
    // no headers); 103, 124, 203 and 802 lie too far apart to share a 125-register read.
    expect(report.state).toMatchObject({ layout: { base: 40000, complete: true } });
    const before = site.requests;
    const second = await runConnector('modbus-sunspec', config, report.state, { now });
    expect(second.readings).toEqual(report.readings);
    expect(site.requests - before).toBe(4);
  });

  it('writes an inverter power limit through model 123, verified by the device\'s own registers', async () => {
    const site = await device({ holding: sunspecRegisters(SITE_MODELS) });
    const config = { host: '127.0.0.1', port: site.port };
    const report = await controlConnector('modbus-sunspec', config, undefined, { type: 'power-limit', percent: 60, revertAfterS: 900 }, { now });
    expect(report.error).toBeUndefined();
    expect(report.ok).toBe(true);
    // Model 123's body starts after the marker (2), model 1 (2 + 66), 103 (2 + 50), 120 (2 + 26), its own header (2).
    const body123 = 40000 + 2 + 68 + 52 + 28 + 2;
    expect(site.writes).toEqual([
      { address: body123 + 5, values: [900] },
      { address: body123 + 3, values: [60] },
      { address: body123 + 7, values: [1] },
    ]);
    expect(site.holding.get(body123 + 3)).toBe(60);
    expect(report.written).toContain('123/WMaxLimPct = 60');
    const lifted = await controlConnector('modbus-sunspec', config, report.state, { type: 'power-limit', percent: null }, { now });
    expect(lifted.ok).toBe(true);
    expect(site.holding.get(body123 + 7)).toBe(0);
  });
});

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const d = await startModbusDevice();
  await d.close();
  return d.port;
}

const withModel = (id: number, points: Record<string, number | string>) => SITE_MODELS.map((m) => (m.id === id ? { ...m, points: { ...m.points, ...points } } : m));

describe('modbus-sunspec on bad devices and bad input', () => {
  it('says so when nothing listens at the address', async () => {
    const report = await testConnector('modbus-sunspec', { host: '127.0.0.1', port: await closedPort() }, { now });
    expect(report.ok).toBe(false);
    expect(report.error?.code).toBe('unreachable');
    expect(report.error?.message).toMatch(/refused the connection/);
  });

  it('gives up on a device that accepts the connection and never answers', async () => {
    const hung = await device({ silent: true });
    const started = Date.now();
    const report = await runConnector('modbus-sunspec', { host: '127.0.0.1', port: hung.port, requestTimeoutMs: 300 }, undefined, { now });
    expect(report.outcome).toBe('failed');
    expect(report.error?.code).toBe('timeout');
    expect(report.error?.message).toMatch(/did not answer .* within 300 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('names the unit id when the device does not answer for it, or a gateway says so', async () => {
    const silent = await device({ holding: sunspecRegisters(SITE_MODELS), unitId: 1 });
    const noAnswer = await runConnector('modbus-sunspec', { host: '127.0.0.1', port: silent.port, unitId: 7, requestTimeoutMs: 300 }, undefined, { now });
    expect(noAnswer.error).toMatchObject({ code: 'timeout', message: expect.stringMatching(/unit 7 .*is the unit id right\?/) });
    const gateway = await device({ holding: sunspecRegisters(SITE_MODELS), unitId: 1, otherUnits: 'gateway-exception' });
    const refused = await runConnector('modbus-sunspec', { host: '127.0.0.1', port: gateway.port, unitId: 7 }, undefined, { now });
    expect(refused.error).toMatchObject({ code: 'protocol', message: expect.stringMatching(/no SunSpec marker.*exception 11 \(gateway target device failed to respond \(is the unit id right\?\)\)/) });
  });

  it('refuses a device without the SunS marker', async () => {
    const plain = await device({ holding: new Map(Array.from({ length: 200 }, (_, i) => [i, 0] as const)) });
    const report = await testConnector('modbus-sunspec', { host: '127.0.0.1', port: plain.port }, { now });
    expect(report.error).toMatchObject({ code: 'protocol', message: expect.stringMatching(/no SunSpec marker "SunS" at register 40000, 0, 50000/) });
  });

  it('uses the models of a chain that ends early, and says where it ended', async () => {
    const cut = await device({ holding: sunspecRegisters(SITE_MODELS.filter((m) => [1, 103, 203].includes(m.id)), { endMarker: false }) });
    const report = await runConnector('modbus-sunspec', { host: '127.0.0.1', port: cut.port }, undefined, { now });
    expect(report.outcome).toBe('ok');
    expect(value(report.readings, 'inverter', 'pv.power')).toBe(5000);
    expect(value(report.readings, 'meter', 'power.export')).toBe(2000);
    expect(report.details['chain']).toMatch(/ends early: the header at \d+ cannot be read \(.*illegal data address\)/);
    expect(report.state).toMatchObject({ layout: { complete: false } });
  });

  it('leaves out a point the device does not implement (0x8000), rather than reading it as zero', async () => {
    const site = await device({ holding: sunspecRegisters(withModel(103, { W: 0x8000 - 0x10000 })) });
    const report = await runConnector('modbus-sunspec', { host: '127.0.0.1', port: site.port }, undefined, { now });
    expect(report.outcome).toBe('ok');
    expect(value(report.readings, 'inverter', 'pv.power')).toBeUndefined();
    expect(value(report.readings, 'inverter', 'pv.energy')).toBe(12_345_600);
    expect(report.details['notImplemented']).toContain('inverter/W');
    // A scale factor that is not implemented takes its points with it.
    const noSf = await device({ holding: sunspecRegisters(withModel(203, { W_SF: 0x8000 - 0x10000 })) });
    const second = await runConnector('modbus-sunspec', { host: '127.0.0.1', port: noSf.port }, undefined, { now });
    expect(value(second.readings, 'meter', 'power.export')).toBeUndefined();
    expect(value(second.readings, 'meter', 'power.export.l1')).toBeUndefined();
    expect(value(second.readings, 'meter', 'energy.export')).toBe(4_567_800);
  });

  it('reads float inverters (113) and writes the limit through model 704 where the device has it', async () => {
    const models: ModelImage[] = [
      { id: 1, points: { Mn: 'Float Co', Md: 'F1', SN: '9' } },
      { id: 113, points: { W: 3210.5, WH: 98765.4, PhVphA: 229.9, Hz: 49.98, PF: 99.1 } },
      { id: 704, points: { WMaxLimPctEna: 0, WMaxLimPct: 1000, WMaxLimPct_SF: -1, WMaxLimPctRvrt: 1000, WMaxLimPctEnaRvrt: 0, WMaxLimPctRvrtTms: 0 } },
    ];
    const site = await device({ holding: sunspecRegisters(models) });
    const config = { host: '127.0.0.1', port: site.port };
    const report = await runConnector('modbus-sunspec', config, undefined, { now });
    expect(value(report.readings, 'inverter', 'pv.power')).toBe(3210.5);
    expect(value(report.readings, 'inverter', 'pv.energy')).toBe(98765.4);
    expect(value(report.readings, 'inverter', 'voltage.l1')).toBe(229.9);
    expect(value(report.readings, 'inverter', 'power.factor')).toBe(0.991);
    const control = await controlConnector('modbus-sunspec', config, report.state, { type: 'power-limit', percent: 42.5, revertAfterS: 60 }, { now });
    expect(control.error).toBeUndefined();
    const body704 = 40000 + 2 + 68 + 62 + 2;
    expect(site.holding.get(body704 + 13)).toBe(425);
    expect(site.holding.get(body704 + 12)).toBe(1);
    expect([site.holding.get(body704 + 16), site.holding.get(body704 + 17)]).toEqual([0, 60]);
    expect(site.writes.at(-1)).toEqual({ address: body704 + 12, values: [1] });
  });

  it('writes battery limits to model 124 and refuses what the device cannot take', async () => {
    const site = await device({ holding: sunspecRegisters(SITE_MODELS) });
    const config = { host: '127.0.0.1', port: site.port };
    const ok = await controlConnector('modbus-sunspec', config, undefined, { type: 'battery', chargePercent: 50, dischargePercent: null, gridCharging: false }, { now });
    expect(ok.error).toBeUndefined();
    const body124 = 40000 + 2 + 68 + 52 + 28 + 26 + 2;
    expect(site.holding.get(body124 + 11)).toBe(50);
    expect(site.holding.get(body124 + 3)).toBe(1);
    expect(site.holding.get(body124 + 15)).toBe(0);
    const outOfRange = await controlConnector('modbus-sunspec', config, ok.state, { type: 'battery', chargePercent: 150, dischargePercent: null }, { now });
    expect(outOfRange.error).toMatchObject({ code: 'config', message: expect.stringMatching(/chargePercent/) });
    const noStorage = await device({ holding: sunspecRegisters(SITE_MODELS.filter((m) => m.id !== 124)) });
    const refused = await controlConnector('modbus-sunspec', { host: '127.0.0.1', port: noStorage.port }, undefined, { type: 'battery', chargePercent: 10, dischargePercent: 10 }, { now });
    expect(refused.error).toMatchObject({ code: 'config', message: expect.stringMatching(/no SunSpec model 124/) });
  });

  it('reports a write the device answered but did not keep', async () => {
    const body123 = 40000 + 2 + 68 + 52 + 28 + 2;
    const stubborn = await device({ holding: sunspecRegisters(SITE_MODELS), ignoresWritesTo: new Set([body123 + 3]) });
    const report = await controlConnector('modbus-sunspec', { host: '127.0.0.1', port: stubborn.port }, undefined, { type: 'power-limit', percent: 30 }, { now });
    expect(report.ok).toBe(false);
    expect(report.error).toMatchObject({ code: 'source', message: expect.stringMatching(/does not hold 123\/WMaxLimPct/) });
  });

  it('refuses a configuration that cannot work before connecting', async () => {
    const report = await runConnector('modbus-sunspec', { host: '127.0.0.1', port: 70000, unitId: 300, colour: 'red' }, undefined, { now });
    expect(report.error?.code).toBe('config');
    expect(report.error?.message).toMatch(/port: must be <= 65535/);
    expect(report.error?.message).toMatch(/unitId: must be <= 255/);
    expect(report.error?.message).toMatch(/unknown field "colour"/);
  });
});
