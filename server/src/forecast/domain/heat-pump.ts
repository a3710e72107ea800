/**
 * A heat pump's efficiency, as the planner needs it: heat output = COP × electric power.
 *
 * COP is a fixed share (the quality grade, 0.45 — typical of air-to-water units in EN 14511 tests)
 * of the Carnot COP between the flow temperature + 5 K (condenser) and the outdoor temperature
 * − 5 K (evaporator), kept within 1…8. At 7 °C outdoors and 35 °C flow that is 3.7; at −7 °C and
 * 35 °C, 2.7. The flow temperature follows a straight heating curve from the design point
 * (default 45 °C at −12 °C) to 20 °C at 20 °C outdoors, unless the site fixes it.
 */
import type { HeatPumpSpec } from './model.js';

export const QUALITY_GRADE = 0.45;
export const DEFAULT_DESIGN_FLOW_C = 45;
export const DEFAULT_DESIGN_OUTDOOR_C = -12;
const KELVIN = 273.15;

export function flowTemperatureC(ambientC: number, spec: HeatPumpSpec = {}): number {
  if (spec.flowTemperatureC !== undefined) return spec.flowTemperatureC;
  const designFlow = spec.designFlowC ?? DEFAULT_DESIGN_FLOW_C;
  const designOutdoor = spec.designOutdoorC ?? DEFAULT_DESIGN_OUTDOOR_C;
  const share = (20 - ambientC) / (20 - designOutdoor);
  return 20 + Math.max(0, Math.min(1, share)) * (designFlow - 20);
}

export function heatPumpCop(ambientC: number, flowC: number): number {
  const hot = flowC + 5 + KELVIN;
  const cold = ambientC - 5 + KELVIN;
  const lift = hot - cold;
  if (lift <= 0) return 8;
  return Math.max(1, Math.min(8, (QUALITY_GRADE * hot) / lift));
}

/** COP at an outdoor temperature for a site (its flow temperature or heating curve). */
export const siteCop = (ambientC: number, spec?: HeatPumpSpec): number => heatPumpCop(ambientC, flowTemperatureC(ambientC, spec));

export const heatFromElectricW = (electricW: number, ambientC: number, spec?: HeatPumpSpec): number => electricW * siteCop(ambientC, spec);
export const electricFromHeatW = (heatW: number, ambientC: number, spec?: HeatPumpSpec): number => heatW / siteCop(ambientC, spec);
