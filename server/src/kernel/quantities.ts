/**
 * The one measurement vocabulary of Gridshare. Every source (JSON readings, decoded meter
 * frames, connectors) is normalised to these quantities, each with one fixed unit, so
 * storage and interval computation never convert units.
 */
export const QUANTITY_UNITS = {
  // Cumulative registers (meter counters, monotonic until a meter exchange)
  'energy.import': 'Wh',
  'energy.import.t1': 'Wh',
  'energy.import.t2': 'Wh',
  'energy.export': 'Wh',
  'energy.export.t1': 'Wh',
  'energy.export.t2': 'Wh',
  'energy.reactive.import': 'varh',
  'energy.reactive.export': 'varh',
  'pv.energy': 'Wh',
  'battery.energy.charge': 'Wh',
  'battery.energy.discharge': 'Wh',
  'gas.volume': 'm3',
  'water.volume': 'm3',
  'heat.energy': 'Wh',
  // Instantaneous values
  'power.import': 'W',
  'power.export': 'W',
  'power.import.l1': 'W',
  'power.import.l2': 'W',
  'power.import.l3': 'W',
  'power.export.l1': 'W',
  'power.export.l2': 'W',
  'power.export.l3': 'W',
  'power.reactive': 'var',
  'voltage.l1': 'V',
  'voltage.l2': 'V',
  'voltage.l3': 'V',
  'current.l1': 'A',
  'current.l2': 'A',
  'current.l3': 'A',
  'current.neutral': 'A',
  'frequency': 'Hz',
  'power.factor': '1',
  'pv.power': 'W',
  'battery.power.charge': 'W',
  'battery.power.discharge': 'W',
  'battery.soc': '%',
  // Device state the optimiser starts its plans from: an EV's state of charge (reported by its
  // charger while the car is connected) and a heat pump's storage tank temperature.
  'ev.soc': '%',
  'heat-pump.tank-temperature': '°C',
} as const;

export type Quantity = keyof typeof QUANTITY_UNITS;
export type Unit = (typeof QUANTITY_UNITS)[Quantity];

/** Registers only ever grow (until the meter is exchanged); the rest are samples. */
export const CUMULATIVE_QUANTITIES: ReadonlySet<Quantity> = new Set<Quantity>([
  'energy.import', 'energy.import.t1', 'energy.import.t2',
  'energy.export', 'energy.export.t1', 'energy.export.t2',
  'energy.reactive.import', 'energy.reactive.export',
  'pv.energy', 'battery.energy.charge', 'battery.energy.discharge',
  'gas.volume', 'water.volume', 'heat.energy',
]);

/** The only quantities that may be negative: reactive power and the power factor are signed. */
export const SIGNED_QUANTITIES: ReadonlySet<Quantity> = new Set<Quantity>(['power.reactive', 'power.factor']);

/**
 * What any meter or device in an energy community can physically report, per quantity. The
 * bounds are generous (a register of 1 TWh, 100 MW of power, 1 MV) and far below what breaks
 * the arithmetic downstream (whole Wh in int8, exact doubles below 2^53): a value beyond them is
 * a fault or an attack, refused at ingest with its reason, never stored. Plausibility per site
 * (its connection capacity) is the interval job's, which knows the site.
 */
const REGISTER = { min: 0, max: 1e12 };
const POWER = { min: 0, max: 1e8 };
export const QUANTITY_RANGES: Readonly<Record<Quantity, { readonly min: number; readonly max: number }>> = {
  'energy.import': REGISTER, 'energy.import.t1': REGISTER, 'energy.import.t2': REGISTER,
  'energy.export': REGISTER, 'energy.export.t1': REGISTER, 'energy.export.t2': REGISTER,
  'energy.reactive.import': REGISTER, 'energy.reactive.export': REGISTER,
  'pv.energy': REGISTER, 'battery.energy.charge': REGISTER, 'battery.energy.discharge': REGISTER, 'heat.energy': REGISTER,
  'gas.volume': { min: 0, max: 1e9 }, 'water.volume': { min: 0, max: 1e9 },
  'power.import': POWER, 'power.export': POWER,
  'power.import.l1': POWER, 'power.import.l2': POWER, 'power.import.l3': POWER,
  'power.export.l1': POWER, 'power.export.l2': POWER, 'power.export.l3': POWER,
  'pv.power': POWER, 'battery.power.charge': POWER, 'battery.power.discharge': POWER,
  'power.reactive': { min: -1e8, max: 1e8 },
  'voltage.l1': { min: 0, max: 1e6 }, 'voltage.l2': { min: 0, max: 1e6 }, 'voltage.l3': { min: 0, max: 1e6 },
  'current.l1': { min: 0, max: 1e5 }, 'current.l2': { min: 0, max: 1e5 }, 'current.l3': { min: 0, max: 1e5 }, 'current.neutral': { min: 0, max: 1e5 },
  'frequency': { min: 0, max: 100 },
  'power.factor': { min: -1, max: 1 },
  'battery.soc': { min: 0, max: 100 },
  'ev.soc': { min: 0, max: 100 },
  // A water tank: between freezing and boiling.
  'heat-pump.tank-temperature': { min: 0, max: 100 },
};

export function isQuantity(name: string): name is Quantity {
  return Object.hasOwn(QUANTITY_UNITS, name);
}

/** One normalised measurement: what a meter said about one quantity at one instant. */
export interface Reading {
  /** UTC instant, ISO 8601 with `Z`. */
  readonly ts: string;
  readonly quantity: Quantity;
  readonly value: number;
  readonly unit: Unit;
}
