import { shortestFloat32 } from '../readings.js';

/**
 * SunSpec point types and their decoding from holding registers. Every type has a value that
 * means "not implemented" (0x8000 for int16, 0xFFFF for uint16, 0 for accumulators, NaN for
 * float32, …): such a point is absent, never zero. Scale factors (`sunssf`) are int16 powers of
 * ten between −10 and 10; a point whose scale factor is absent or out of range is absent too.
 */
export type PointType =
  | 'int16' | 'uint16' | 'acc16' | 'enum16' | 'bitfield16' | 'sunssf' | 'pad'
  | 'int32' | 'uint32' | 'acc32' | 'enum32' | 'bitfield32' | 'float32'
  | 'int64' | 'uint64' | 'acc64' | 'string';

export interface PointDef {
  readonly name: string;
  /** Registers from the start of the model's body (after ID and L). */
  readonly offset: number;
  readonly type: PointType;
  /** Registers (strings have their own; the rest follow from the type). */
  readonly size: number;
  /** Name of the scale-factor point in the same model. */
  readonly sf?: string | undefined;
}

const SIZES: Readonly<Record<Exclude<PointType, 'string'>, number>> = {
  int16: 1, uint16: 1, acc16: 1, enum16: 1, bitfield16: 1, sunssf: 1, pad: 1,
  int32: 2, uint32: 2, acc32: 2, enum32: 2, bitfield32: 2, float32: 2,
  int64: 4, uint64: 4, acc64: 4,
};

export function sizeOf(type: Exclude<PointType, 'string'>): number {
  return SIZES[type];
}

const float32 = new DataView(new ArrayBuffer(4));

/** The point's raw value (no scale factor), or undefined when the device says "not implemented". */
export function decodePoint(regs: ArrayLike<number>, point: Pick<PointDef, 'offset' | 'type' | 'size'>): number | string | undefined {
  const at = point.offset;
  if (at + point.size > regs.length) return undefined;
  const r = (i: number): number => regs[at + i]! & 0xffff;
  switch (point.type) {
    case 'int16':
    case 'sunssf':
    case 'pad': {
      const v = r(0);
      return v === 0x8000 ? undefined : v > 0x7fff ? v - 0x10000 : v;
    }
    case 'uint16':
    case 'enum16':
    case 'bitfield16':
      return r(0) === 0xffff ? undefined : r(0);
    case 'acc16':
      return r(0) === 0 ? undefined : r(0);
    case 'int32': {
      const v = r(0) * 0x10000 + r(1);
      return v === 0x80000000 ? undefined : v > 0x7fffffff ? v - 0x100000000 : v;
    }
    case 'uint32':
    case 'enum32':
    case 'bitfield32': {
      const v = r(0) * 0x10000 + r(1);
      return v === 0xffffffff ? undefined : v;
    }
    case 'acc32': {
      const v = r(0) * 0x10000 + r(1);
      return v === 0 ? undefined : v;
    }
    case 'float32': {
      float32.setUint16(0, r(0));
      float32.setUint16(2, r(1));
      const v = float32.getFloat32(0);
      return Number.isFinite(v) ? shortestFloat32(v) : undefined;
    }
    case 'int64':
    case 'uint64':
    case 'acc64': {
      const v = (BigInt(r(0)) << 48n) | (BigInt(r(1)) << 32n) | (BigInt(r(2)) << 16n) | BigInt(r(3));
      if (point.type === 'acc64') return v === 0n ? undefined : Number(v);
      if (point.type === 'uint64') return v === 0xffffffffffffffffn ? undefined : Number(v);
      return v === 0x8000000000000000n ? undefined : Number(BigInt.asIntN(64, v));
    }
    case 'string': {
      let text = '';
      for (let i = 0; i < point.size; i++) text += String.fromCharCode(r(i) >> 8, r(i) & 0xff);
      // NUL-terminated and padded; a string of only NULs is "not implemented".
      const end = text.indexOf('\0');
      const value = (end < 0 ? text : text.slice(0, end)).trim();
      return value === '' ? undefined : value;
    }
  }
}

/** Raw register values for a point (the inverse of decodePoint for numbers; test devices and writes use it). */
export function encodePoint(type: Exclude<PointType, 'string'>, value: number): number[] {
  switch (sizeOf(type)) {
    case 1:
      return [value < 0 ? value + 0x10000 : value];
    case 2: {
      if (type === 'float32') {
        float32.setFloat32(0, value);
        return [float32.getUint16(0), float32.getUint16(2)];
      }
      const v = value < 0 ? value + 0x100000000 : value;
      return [Math.floor(v / 0x10000), v % 0x10000];
    }
    default: {
      const v = BigInt.asUintN(64, BigInt(value));
      return [Number((v >> 48n) & 0xffffn), Number((v >> 32n) & 0xffffn), Number((v >> 16n) & 0xffffn), Number(v & 0xffffn)];
    }
  }
}

/** The register values of a text point, NUL-padded. */
export function encodeString(text: string, size: number): number[] {
  const bytes = new TextEncoder().encode(text).slice(0, size * 2);
  return Array.from({ length: size }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
}

/** Scale factors outside this range are not SunSpec; the points they scale are absent. */
export const SCALE_FACTOR_RANGE = 10;

/** The registers a device sends for a point it does not implement. */
export function notImplementedRegisters(point: Pick<PointDef, 'type' | 'size'>): number[] {
  switch (point.type) {
    case 'int16': case 'sunssf': case 'pad': return [0x8000];
    case 'uint16': case 'enum16': case 'bitfield16': return [0xffff];
    case 'acc16': return [0];
    case 'int32': return [0x8000, 0];
    case 'uint32': case 'enum32': case 'bitfield32': return [0xffff, 0xffff];
    case 'acc32': return [0, 0];
    case 'float32': return [0x7fc0, 0];
    case 'int64': return [0x8000, 0, 0, 0];
    case 'uint64': return [0xffff, 0xffff, 0xffff, 0xffff];
    case 'acc64': return [0, 0, 0, 0];
    case 'string': return new Array<number>(point.size).fill(0);
  }
}
