import type { RegisterTemplate, TemplatePoint } from './map.js';

/**
 * Built-in register maps, by name. Addresses are 0-based protocol addresses.
 */
const float = (quantity: TemplatePoint['quantity'], address: number, unit: string, negativeQuantity?: TemplatePoint['quantity']): TemplatePoint => ({
  quantity, address, unit, negativeQuantity, function: 'input', type: 'float32', wordOrder: 'big', byteOrder: 'big', scale: 1,
});

/**
 * Eastron SDM630 (Modbus variants): IEEE floats in input registers, powers signed (positive is
 * import). The device answers for every register from 0 to 0x4F, so one read covers them.
 */
const SDM630: RegisterTemplate = {
  name: 'eastron-sdm630',
  summary: 'Eastron SDM630 three-phase meter (float32 input registers)',
  maxGap: 40,
  points: [
    float('voltage.l1', 0x00, 'V'), float('voltage.l2', 0x02, 'V'), float('voltage.l3', 0x04, 'V'),
    float('current.l1', 0x06, 'A'), float('current.l2', 0x08, 'A'), float('current.l3', 0x0a, 'A'),
    float('power.import.l1', 0x0c, 'W', 'power.export.l1'), float('power.import.l2', 0x0e, 'W', 'power.export.l2'), float('power.import.l3', 0x10, 'W', 'power.export.l3'),
    float('power.import', 0x34, 'W', 'power.export'),
    float('power.reactive', 0x3c, 'var'),
    float('power.factor', 0x3e, '1'),
    float('frequency', 0x46, 'Hz'),
    float('energy.import', 0x48, 'kWh'), float('energy.export', 0x4a, 'kWh'),
    float('energy.reactive.import', 0x4c, 'kvarh'), float('energy.reactive.export', 0x4e, 'kvarh'),
    float('current.neutral', 0xe0, 'A'),
  ],
};

const holding = (
  quantity: TemplatePoint['quantity'], address: number, type: TemplatePoint['type'], scale: number, unit: string, negativeQuantity?: TemplatePoint['quantity'],
): TemplatePoint => ({ quantity, address, type, scale, unit, negativeQuantity, function: 'holding', wordOrder: 'big', byteOrder: 'big' });

/**
 * A generic three-phase meter: the points most meters have, as scaled integers in consecutive
 * holding registers. It is a starting point: set each point's address, type and scale from
 * the device's manual with overrides.
 */
const GENERIC_THREE_PHASE: RegisterTemplate = {
  name: 'generic-three-phase',
  summary: 'Generic three-phase meter (scaled integers in holding registers; override the addresses from the manual)',
  maxGap: 0,
  points: [
    holding('voltage.l1', 0, 'uint16', 0.1, 'V'), holding('voltage.l2', 1, 'uint16', 0.1, 'V'), holding('voltage.l3', 2, 'uint16', 0.1, 'V'),
    holding('current.l1', 3, 'uint16', 0.01, 'A'), holding('current.l2', 4, 'uint16', 0.01, 'A'), holding('current.l3', 5, 'uint16', 0.01, 'A'),
    holding('power.import', 6, 'int32', 1, 'W', 'power.export'),
    holding('power.import.l1', 8, 'int32', 1, 'W', 'power.export.l1'), holding('power.import.l2', 10, 'int32', 1, 'W', 'power.export.l2'),
    holding('power.import.l3', 12, 'int32', 1, 'W', 'power.export.l3'),
    holding('frequency', 14, 'uint16', 0.01, 'Hz'),
    holding('energy.import', 15, 'uint32', 1, 'Wh'), holding('energy.export', 17, 'uint32', 1, 'Wh'),
  ],
};

export const REGISTER_TEMPLATES: ReadonlyMap<string, RegisterTemplate> = new Map([SDM630, GENERIC_THREE_PHASE].map((t) => [t.name, t]));
