import { afterEach, describe, expect, it } from 'vitest';
import { runConnector, testConnector, type TargetReading } from '../../src/connectors/index.js';
import { encodeRegisters, type RegisterEncoding } from '../../src/connectors/domain/registers/index.js';
import { startModbusDevice, type ModbusDevice, type Registers } from './support/modbus-device.js';

const devices: ModbusDevice[] = [];
afterEach(async () => {
  await Promise.all(devices.splice(0).map((d) => d.close()));
});
const now = () => Date.UTC(2026, 5, 1, 12, 0, 0);
const value = (readings: readonly TargetReading[], quantity: string, target = 'meter') => readings.find((r) => r.target === target && r.quantity === quantity)?.value;

const FLOAT: RegisterEncoding = { type: 'float32', wordOrder: 'big', byteOrder: 'big' };
function put(registers: Registers, address: number, value: number, encoding: RegisterEncoding = FLOAT): void {
  encodeRegisters(value, encoding).forEach((v, i) => registers.set(address + i, v));
}

/** An SDM630 as the manual describes it: float32 input registers, every register up to 0x4F answering. */
function sdm630(): Registers {
  const input: Registers = new Map(Array.from({ length: 0x50 }, (_, i) => [i, 0] as const));
  [231.2, 229.8, 230.4].forEach((v, i) => put(input, 2 * i, v));
  [5.12, 4.98, 6.01].forEach((v, i) => put(input, 6 + 2 * i, v));
  [1180.5, -300, 1385.25].forEach((v, i) => put(input, 0x0c + 2 * i, v));
  put(input, 0x34, 2265.75);
  put(input, 0x3c, -150.5);
  put(input, 0x3e, 0.97);
  put(input, 0x46, 49.99);
  put(input, 0x48, 12345.67);
  put(input, 0x4a, 234.5);
  put(input, 0x4c, 10.25);
  put(input, 0x4e, 3.5);
  put(input, 0xe0, 0.42);
  return input;
}

async function device(options: Parameters<typeof startModbusDevice>[0]): Promise<ModbusDevice> {
  const d = await startModbusDevice(options);
  devices.push(d);
  return d;
}

describe('modbus-registers against a meter on loopback', () => {
  it('reads an Eastron SDM630 by its template, in two reads, with energy in Wh exactly', async () => {
    const meter = await device({ input: sdm630() });
    const report = await runConnector('modbus-registers', { host: '127.0.0.1', port: meter.port, template: 'eastron-sdm630' }, undefined, { now });
    expect(report.error).toBeUndefined();
    expect(Object.fromEntries(report.readings.map((r) => [r.quantity, r.value]))).toEqual({
      'voltage.l1': 231.2, 'voltage.l2': 229.8, 'voltage.l3': 230.4, 'current.l1': 5.12, 'current.l2': 4.98, 'current.l3': 6.01,
      'power.import.l1': 1180.5, 'power.export.l1': 0, 'power.import.l2': 0, 'power.export.l2': 300, 'power.import.l3': 1385.25, 'power.export.l3': 0,
      'power.import': 2265.75, 'power.export': 0, 'power.reactive': -150.5, 'power.factor': 0.97, 'frequency': 49.99,
      // 12345.67 kWh in a float32 is 12345.669921875; read as the meter meant it: 12,345,670 Wh.
      'energy.import': 12_345_670, 'energy.export': 234_500, 'energy.reactive.import': 10_250, 'energy.reactive.export': 3_500, 'current.neutral': 0.42,
    });
    expect(report.details['reads']).toBe('2');
    expect(meter.requests).toBe(2);
  });

  it('applies device-local overrides: another address and word order, a disabled point, a point of its own', async () => {
    const input = sdm630();
    // This unit's firmware puts the import total at 0x156 with swapped words.
    put(input, 0x156, 777.5, { type: 'float32', wordOrder: 'little', byteOrder: 'big' });
    const holding: Registers = new Map([[100, 0], [101, 0]]);
    put(holding, 100, 123_456, { type: 'uint32', wordOrder: 'little', byteOrder: 'little' });
    const meter = await device({ input, holding });
    const config = {
      host: '127.0.0.1', port: meter.port, template: 'eastron-sdm630', target: 'house',
      registers: [
        { quantity: 'energy.import', address: 0x156, wordOrder: 'little' },
        { quantity: 'current.neutral', disabled: true },
        { quantity: 'heat.energy', address: 100, function: 'holding', type: 'uint32', wordOrder: 'little', byteOrder: 'little', scale: 0.1, unit: 'kWh' },
      ],
    };
    const report = await runConnector('modbus-registers', config, undefined, { now });
    expect(report.error).toBeUndefined();
    expect(value(report.readings, 'energy.import', 'house')).toBe(777_500);
    expect(value(report.readings, 'current.neutral', 'house')).toBeUndefined();
    // 123456 × 0.1 kWh = 12345.6 kWh = 12,345,600 Wh, shifted exactly.
    expect(value(report.readings, 'heat.energy', 'house')).toBe(12_345_600);
  });

  it('leaves out a register that returns its "no value" (0x8000) and keeps reading when one address is refused', async () => {
    const holding: Registers = new Map([[0, 0x8000], [1, 2301], [2, 2299]]);
    const meter = await device({ holding });
    const point = (quantity: string, address: number) => ({ quantity, address, function: 'holding', type: 'int16', wordOrder: 'big', byteOrder: 'big', scale: 0.1, unit: 'V', notImplemented: 0x8000 });
    const report = await runConnector('modbus-registers', {
      host: '127.0.0.1', port: meter.port, maxGap: 10,
      registers: [point('voltage.l1', 0), point('voltage.l2', 1), point('voltage.l3', 2), point('frequency', 5)].map((p, i) => (i === 3 ? { ...p, unit: 'Hz' } : p)),
    }, undefined, { now });
    expect(report.outcome).toBe('partial');
    expect(value(report.readings, 'voltage.l1')).toBeUndefined();
    expect(value(report.readings, 'voltage.l2')).toBe(230.1);
    expect(value(report.readings, 'voltage.l3')).toBe(229.9);
    expect(report.details['notImplemented']).toBe('meter/voltage.l1');
    expect(report.problems).toEqual([{ where: 'meter/frequency', message: expect.stringMatching(/holding register 5: .*exception 2 \(illegal data address\)/) }]);
  });

  it('refuses a map that cannot work, naming the register', async () => {
    const report = await testConnector('modbus-registers', {
      host: '127.0.0.1', port: 1502,
      registers: [{ quantity: 'voltage.l1', address: 3, function: 'holding', type: 'int16', wordOrder: 'big', byteOrder: 'big', scale: 1, unit: 'kWh' }, { quantity: 'frequency', address: 9 }],
    }, { now });
    expect(report.error?.code).toBe('config');
    expect(report.error?.message).toMatch(/meter\/voltage.l1: voltage.l1 cannot be given in kWh \(use V, kV\)/);
    expect(report.error?.message).toMatch(/registers\/1: frequency is not in the template; give function, type/);
    const empty = await testConnector('modbus-registers', { host: '127.0.0.1', port: 1502 }, { now });
    expect(empty.error?.message).toMatch(/register map is empty/);
  });
});
