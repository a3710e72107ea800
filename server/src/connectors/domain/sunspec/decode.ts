import { scaleByPowerOfTen } from '../readings.js';
import type { ModelDef } from './models.js';
import { decodePoint, SCALE_FACTOR_RANGE } from './points.js';

/** One model's points as read from a device; a point that is not implemented has no value. */
export interface DecodedModel {
  readonly id: number;
  /** The point's value with its scale factor applied (and `extraExponent`, e.g. −2 for percent → fraction), exactly rounded. */
  value(name: string, extraExponent?: number): number | undefined;
  /** The unscaled register value (enums, bitfields, scale factors, what a control writes back). */
  raw(name: string): number | undefined;
  text(name: string): string | undefined;
}

/**
 * Decodes a model's body. Points beyond the registers the device announced are absent, as are
 * points whose scale factor is "not implemented" or outside ±10.
 */
export function decodeModel(def: ModelDef, body: ArrayLike<number>): DecodedModel {
  const raws = new Map<string, number | string>();
  for (const point of def.points.values()) {
    const value = decodePoint(body, point);
    if (value !== undefined) raws.set(point.name, value);
  }
  const rawNumber = (name: string): number | undefined => {
    const v = raws.get(name);
    return typeof v === 'number' ? v : undefined;
  };
  return {
    id: def.id,
    raw: rawNumber,
    text(name) {
      const v = raws.get(name);
      return typeof v === 'string' ? v : undefined;
    },
    value(name, extraExponent = 0) {
      const raw = rawNumber(name);
      const point = def.points.get(name);
      if (raw === undefined || point === undefined) return undefined;
      let exponent = extraExponent;
      if (point.sf !== undefined) {
        const sf = rawNumber(point.sf);
        if (sf === undefined || Math.abs(sf) > SCALE_FACTOR_RANGE) return undefined;
        exponent += sf;
      }
      return scaleByPowerOfTen(raw, exponent);
    },
  };
}
