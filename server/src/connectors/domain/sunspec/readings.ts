import type { Quantity } from '../../../kernel/quantities.js';
import { splitSigned, targetReading, type TargetReading } from '../readings.js';
import type { DecodedModel } from './decode.js';
import { modelRole } from './models.js';

/**
 * SunSpec points → Gridshare quantities, one target per device part: `inverter`, `meter`,
 * `battery` (a second model of the same role gets `-2`, `-3`, …).
 *
 * Sign conventions (SunSpec's): a meter's W is positive when power flows from the grid to the
 * loads, so it becomes power.import, negative power.export (`invertMeter` for a meter mounted the
 * other way round). An inverter's W is its AC output: PV power; below zero it is the inverter's
 * own standby draw at night, which is no production, so pv.power is 0. A battery's W (model 802)
 * is positive when discharging unless its charge status says it is charging.
 */
export interface SunSpecReadingOptions {
  readonly invertMeter?: boolean | undefined;
}

export interface SunSpecReadings {
  readonly readings: TargetReading[];
  /** `target/point` of points the device does not implement (0x8000, 0xFFFF, NaN …), so absent. */
  readonly absent: string[];
}

const PHASES = ['A', 'B', 'C'] as const;
const LINE = { A: 'l1', B: 'l2', C: 'l3' } as const;
const CHARGING = 4;
const DISCHARGING = 3;

export function sunspecReadings(models: readonly DecodedModel[], tsMs: number, options: SunSpecReadingOptions = {}): SunSpecReadings {
  const readings: TargetReading[] = [];
  const absent: string[] = [];
  const seen = new Map<string, number>();
  const targetFor = (role: string): string => {
    const n = (seen.get(role) ?? 0) + 1;
    seen.set(role, n);
    return n === 1 ? role : `${role}-${n}`;
  };
  const battery = models.find((m) => m.id === 802);
  const storage = models.find((m) => m.id === 124);

  for (const model of models) {
    const role = modelRole(model.id);
    if (role === 'inverter') mapInverter(model, targetFor('inverter'));
    else if (role === 'meter') mapMeter(model, targetFor('meter'));
  }
  if (battery !== undefined || storage !== undefined) mapBattery(targetFor('battery'));
  return { readings, absent };

  function put(model: DecodedModel, target: string, point: string, quantity: Quantity, extraExponent = 0): number | undefined {
    const value = model.value(point, extraExponent);
    if (value === undefined) absent.push(`${target}/${point}`);
    else readings.push(targetReading(target, tsMs, quantity, quantity === 'power.reactive' || quantity === 'power.factor' ? value : Math.abs(value)));
    return value;
  }

  function mapInverter(m: DecodedModel, target: string): void {
    const w = m.value('W');
    if (w === undefined) absent.push(`${target}/W`);
    else readings.push(targetReading(target, tsMs, 'pv.power', Math.max(0, w)));
    put(m, target, 'WH', 'pv.energy');
    mapGridSide(m, target, 'VAr');
  }

  function mapMeter(m: DecodedModel, target: string): void {
    const sign = options.invertMeter ? -1 : 1;
    const w = m.value('W');
    if (w === undefined) absent.push(`${target}/W`);
    else readings.push(...splitSigned(target, tsMs, sign * w, 'power.import', 'power.export'));
    for (const phase of PHASES) {
      const wph = m.value(`Wph${phase}`);
      if (wph !== undefined) readings.push(...splitSigned(target, tsMs, sign * wph, `power.import.${LINE[phase]}`, `power.export.${LINE[phase]}`));
    }
    put(m, target, options.invertMeter ? 'TotWhExp' : 'TotWhImp', 'energy.import');
    put(m, target, options.invertMeter ? 'TotWhImp' : 'TotWhExp', 'energy.export');
    const reactive = (points: readonly string[], quantity: Quantity): void => {
      const values = points.map((p) => m.value(p)).filter((v): v is number => v !== undefined);
      if (values.length > 0) readings.push(targetReading(target, tsMs, quantity, values.reduce((a, b) => a + b, 0)));
    };
    reactive(['TotVArhImpQ1', 'TotVArhImpQ2'], 'energy.reactive.import');
    reactive(['TotVArhExpQ3', 'TotVArhExpQ4'], 'energy.reactive.export');
    mapGridSide(m, target, 'VAR');
  }

  /** Voltages, currents, frequency, reactive power and power factor: the same points in inverters and meters. */
  function mapGridSide(m: DecodedModel, target: string, reactivePoint: string): void {
    for (const phase of PHASES) {
      const voltage = m.value(`PhVph${phase}`);
      if (voltage !== undefined) readings.push(targetReading(target, tsMs, `voltage.${LINE[phase]}`, voltage));
      const current = m.value(`Aph${phase}`);
      if (current !== undefined) readings.push(targetReading(target, tsMs, `current.${LINE[phase]}`, Math.abs(current)));
    }
    put(m, target, 'Hz', 'frequency');
    const reactive = m.value(reactivePoint);
    if (reactive !== undefined) readings.push(targetReading(target, tsMs, 'power.reactive', reactive));
    // SunSpec's PF is a percentage.
    const pf = m.value('PF', -2);
    if (pf !== undefined) readings.push(targetReading(target, tsMs, 'power.factor', pf));
  }

  function mapBattery(target: string): void {
    const soc = battery?.value('SoC') ?? storage?.value('ChaState');
    if (soc === undefined) absent.push(`${target}/${battery ? 'SoC' : 'ChaState'}`);
    else readings.push(targetReading(target, tsMs, 'battery.soc', soc));
    if (!battery) return;
    const w = battery.value('W');
    if (w === undefined) {
      absent.push(`${target}/W`);
      return;
    }
    const status = battery.raw('ChaSt') ?? storage?.raw('ChaSt');
    const discharge = status === CHARGING ? -Math.abs(w) : status === DISCHARGING ? Math.abs(w) : w;
    readings.push(...splitSigned(target, tsMs, discharge, 'battery.power.discharge', 'battery.power.charge'));
  }
}
