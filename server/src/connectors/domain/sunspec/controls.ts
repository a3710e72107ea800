import { BadRequestError } from '../../../kernel/errors.js';
import { scaleByPowerOfTen } from '../readings.js';
import type { DecodedModel } from './decode.js';
import type { ModelLocation } from './discovery.js';
import { modelDef } from './models.js';
import { encodePoint, SCALE_FACTOR_RANGE } from './points.js';

/**
 * Setpoints Gridshare writes to SunSpec devices.
 * - `power-limit`: the inverter's active power at most `percent` of its maximum (WMax), or no
 *   limit (`null`). Model 704 where the device has it, else model 123.
 * - `battery`: model 124: charging at most `chargePercent` of WChaMax, discharging at most
 *   `dischargePercent` of the maximum discharge rate (`null`: the device's own limit); 0 and 0
 *   holds the battery. `gridCharging` allows or forbids charging from the grid.
 * `revertAfterS`: the device returns to its own behaviour when no new command comes within this
 * many seconds, so a lost platform cannot leave an inverter throttled.
 */
export type SunSpecCommand =
  | { readonly type: 'power-limit'; readonly percent: number | null; readonly revertAfterS?: number | undefined }
  | {
    readonly type: 'battery';
    readonly chargePercent: number | null;
    readonly dischargePercent: number | null;
    readonly gridCharging?: boolean | undefined;
    readonly revertAfterS?: number | undefined;
  };

export interface RegisterWrite {
  readonly address: number;
  readonly values: readonly number[];
  /** `123/WMaxLimPct`: what is written, for logs and errors. */
  readonly point: string;
}

export interface ControlPlan {
  /** The model written: read it (`models`) before planning, and again after writing to verify. */
  readonly model: ModelLocation;
  readonly writes: readonly RegisterWrite[];
}

const ENABLED = 1;
const DISABLED = 0;
const STOR_CTL_CHARGE = 1;
const STOR_CTL_DISCHARGE = 2;

/** Which model a command writes, given the device's models; a clear error when it has none. */
export function controlModel(command: SunSpecCommand, models: readonly ModelLocation[]): ModelLocation {
  const ids = command.type === 'power-limit' ? [704, 123] : [124];
  for (const id of ids) {
    const found = models.find((m) => m.id === id);
    if (found) return found;
  }
  throw new BadRequestError(`the device has no SunSpec model ${ids.join(' or ')}, so it cannot take a ${command.type} command`);
}

/**
 * The register writes for a command, in the order to send them (values and revert timers
 * first, the enable last). `current` is the control model as just read: its scale factors say
 * how to encode percentages.
 */
export function planControl(command: SunSpecCommand, location: ModelLocation, current: DecodedModel): ControlPlan {
  const def = modelDef(location.id);
  if (!def || def.id !== current.id) throw new BadRequestError(`model ${location.id} cannot be written by Gridshare`);
  const writes: RegisterWrite[] = [];
  const write = (name: string, value: number): void => {
    const point = def.points.get(name)!;
    if (point.offset + point.size > location.length) {
      throw new BadRequestError(`the device's model ${def.id} is ${location.length} registers long and has no ${name}`);
    }
    if (point.type === 'string') throw new BadRequestError(`${name} is text`);
    writes.push({ address: location.address + point.offset, values: encodePoint(point.type, value), point: `${def.id}/${name}` });
  };
  const percentRaw = (name: string, percent: number, sfName: string, signed: boolean): number => {
    if (!Number.isFinite(percent) || percent < 0 || percent > 100) throw new BadRequestError(`${name}: ${percent} is not a percentage between 0 and 100`);
    const sf = current.raw(sfName);
    if (sf === undefined || Math.abs(sf) > SCALE_FACTOR_RANGE) throw new BadRequestError(`the device does not implement ${def.id}/${sfName}, so ${name} cannot be encoded`);
    const raw = Math.round(scaleByPowerOfTen(percent, -sf));
    if (raw > (signed ? 0x7fff : 0xfffe)) throw new BadRequestError(`${name}: ${percent} % does not fit the device's scale factor ${sf}`);
    return raw;
  };
  const revert = (value: number | undefined, max: number): number | undefined => {
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || value < 1 || value > max) throw new BadRequestError(`revertAfterS: ${value} is not a whole number of seconds between 1 and ${max}`);
    return value;
  };

  if (command.type === 'power-limit') {
    if (def.id === 704) {
      const seconds = revert(command.revertAfterS, 0xfffffffe);
      if (command.percent === null) {
        write('WMaxLimPctEna', DISABLED);
      } else {
        if (seconds !== undefined) {
          write('WMaxLimPctEnaRvrt', DISABLED);
          write('WMaxLimPctRvrtTms', seconds);
        }
        write('WMaxLimPct', percentRaw('percent', command.percent, 'WMaxLimPct_SF', false));
        write('WMaxLimPctEna', ENABLED);
      }
    } else {
      const seconds = revert(command.revertAfterS, 0xfffe);
      if (command.percent === null) {
        write('WMaxLim_Ena', DISABLED);
      } else {
        if (seconds !== undefined) write('WMaxLimPct_RvrtTms', seconds);
        write('WMaxLimPct', percentRaw('percent', command.percent, 'WMaxLimPct_SF', false));
        write('WMaxLim_Ena', ENABLED);
      }
    }
    return { model: location, writes };
  }

  const seconds = revert(command.revertAfterS, 0xfffe);
  if (seconds !== undefined) write('InOutWRte_RvrtTms', seconds);
  if (command.chargePercent !== null) write('InWRte', percentRaw('chargePercent', command.chargePercent, 'InOutWRte_SF', true));
  if (command.dischargePercent !== null) write('OutWRte', percentRaw('dischargePercent', command.dischargePercent, 'InOutWRte_SF', true));
  if (command.gridCharging !== undefined) write('ChaGriSet', command.gridCharging ? 1 : 0);
  write('StorCtl_Mod', (command.chargePercent !== null ? STOR_CTL_CHARGE : 0) | (command.dischargePercent !== null ? STOR_CTL_DISCHARGE : 0));
  return { model: location, writes };
}

/**
 * After writing, the model read back must hold what was written; a device that answered the
 * write but kept its old value is refusing it (read-only point, value out of its range, local
 * control mode). Returns the points that do not match.
 */
export function unconfirmedWrites(plan: ControlPlan, body: ArrayLike<number>): string[] {
  return plan.writes.filter((w) => w.values.some((v, i) => body[w.address - plan.model.address + i] !== v)).map((w) => w.point);
}
