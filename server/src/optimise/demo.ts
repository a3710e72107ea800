import type { Queryable } from '../platform/store/db.js';
import { communityDevices } from '../registry/index.js';
import { isControllableKind, type ControllableKind, type Limits } from './domain/control.js';
import { upsertControl } from './store.js';

/** Limits a demo household would pick. */
const DEMO_LIMITS: Record<ControllableKind, Limits> = {
  battery: { reserveSoc: 0.2 },
  'ev-charger': { readyBy: '07:30', pluggedInFrom: '18:00', minChargeWh: 20_000, maxPowerW: 11_000 },
  'heat-pump': { comfortMinC: 45, comfortMaxC: 55, maxPowerW: 3_000 },
  'smart-plug': { windowStart: '08:00', windowEnd: '22:00' },
  inverter: {},
};

/**
 * The demo community lets its plan control every device that can be controlled (a real
 * community starts with none: each member decides).
 */
export async function enableDemoControl(db: Queryable, communityId: string): Promise<void> {
  for (const device of await communityDevices(db, communityId)) {
    if (!isControllableKind(device.kind)) continue;
    await upsertControl(db, communityId, { deviceId: device.id, controllable: true, limits: DEMO_LIMITS[device.kind], overrideUntilMs: null, overrideSource: null });
  }
}
