import type { PlanCommand } from '../../kernel/events.js';
import { MINUTE_MS } from '../../kernel/time.js';
import type { Binding, DeviceState } from './assemble.js';
import type { AssetPlan, PlanDocument } from './plan.js';

/**
 * What a plan tells controllable devices, pure: setpoints of the first steps (each valid for
 * its step), appliance starts in the first step (valid a few minutes after), and where each
 * device will be at a later instant (the next plan's starting state).
 */

/** Steps of setpoints sent per plan: devices keep following the plan for an hour if the next one is late. */
export const COMMAND_STEPS = 4;
/** An appliance start is still good this long after its instant. */
export const APPLIANCE_START_GRACE_MS = 10 * MINUTE_MS;

/** Each bound asset of the plan, with its binding. */
export function boundAssets(document: PlanDocument, bindings: readonly Binding[]): { binding: Binding; asset: AssetPlan }[] {
  const byKey = new Map(bindings.map((b) => [b.key, b]));
  return document.sites.flatMap((site) => site.assets.flatMap((asset) => {
    const binding = byKey.get(`${site.id ?? 'community'}/${asset.id}`);
    return binding ? [{ binding, asset }] : [];
  }));
}

export function planCommands(document: PlanDocument, bindings: readonly Binding[]): PlanCommand[] {
  const startMs = Date.parse(document.start);
  const stepMs = document.stepMinutes * MINUTE_MS;
  const steps = Math.min(COMMAND_STEPS, document.steps);
  const commands: PlanCommand[] = [];
  for (const { binding, asset } of boundAssets(document, bindings)) {
    const deviceId = binding.deviceId;
    if (!deviceId || !binding.controls) continue;
    for (let t = 0; t < steps; t++) {
      const validFromMs = startMs + t * stepMs;
      const expiresAtMs = validFromMs + stepMs;
      const power = Math.round(asset.powerW[t] ?? 0);
      const at = (kind: PlanCommand['kind'], value: number | null) => commands.push({ deviceId, kind, value, validFromMs, expiresAtMs });
      switch (binding.controls) {
        case 'battery': at('battery-power', power); break;
        case 'ev-charger': at('ev-charge-power', Math.max(0, power)); break;
        case 'heat-pump': if (power > 0) at('heat-pump-power', power); else at('heat-pump-block', null); break;
        case 'inverter': {
          const curtailed = asset.curtailedWh?.[t] ?? 0;
          if (curtailed > 0) at('pv-limit', Math.round(((asset.producedWh?.[t] ?? 0) * 60) / document.stepMinutes));
          break;
        }
        case 'smart-plug':
          if (t === 0 && asset.starts?.includes(document.start)) {
            commands.push({ deviceId, kind: 'appliance-start', value: null, validFromMs, expiresAtMs: validFromMs + APPLIANCE_START_GRACE_MS });
          }
          break;
      }
    }
  }
  return commands;
}

/** Where the plan leaves each controlled device at `atMs` (a later plan's start): battery and EV energy, tank temperature. */
export function stateAt(document: PlanDocument, bindings: readonly Binding[], atMs: number): Map<string, DeviceState> {
  const stepMs = document.stepMinutes * MINUTE_MS;
  // Values are at the end of each step: the state at `atMs` is that of the step ending there.
  const t = Math.round((atMs - Date.parse(document.start)) / stepMs) - 1;
  const out = new Map<string, DeviceState>();
  if (t < 0 || t >= document.steps) return out;
  for (const { binding, asset } of boundAssets(document, bindings)) {
    if (!binding.deviceId) continue;
    const soc = asset.socWh?.[t];
    const temperature = asset.temperatureC?.[t];
    out.set(binding.deviceId, { ...(soc !== undefined && soc !== null ? { socWh: soc } : {}), ...(temperature !== undefined ? { temperatureC: temperature } : {}) });
  }
  return out;
}
