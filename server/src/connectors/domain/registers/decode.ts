import { shortestFloat32 } from '../readings.js';

/**
 * Plain Modbus register values: 16-, 32- and 64-bit integers and IEEE floats spread over
 * consecutive registers. The standard is big-endian words in big-endian order; many devices swap
 * the words ("little" word order, e.g. CDAB for a float) and a few the bytes within each word.
 */
export type RegisterType = 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'int64' | 'uint64' | 'float64';
export type Endianness = 'big' | 'little';

export const REGISTER_TYPES: readonly RegisterType[] = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'int64', 'uint64', 'float64'];

export function registerCount(type: RegisterType): number {
  return type.endsWith('16') ? 1 : type.endsWith('32') ? 2 : 4;
}

export interface RegisterEncoding {
  readonly type: RegisterType;
  readonly wordOrder: Endianness;
  readonly byteOrder: Endianness;
}

function toBigEndianBytes(regs: ArrayLike<number>, offset: number, encoding: RegisterEncoding): DataView {
  const words = registerCount(encoding.type);
  const view = new DataView(new ArrayBuffer(words * 2));
  for (let i = 0; i < words; i++) {
    const word = regs[offset + (encoding.wordOrder === 'big' ? i : words - 1 - i)]! & 0xffff;
    view.setUint16(i * 2, encoding.byteOrder === 'big' ? word : ((word & 0xff) << 8) | (word >> 8));
  }
  return view;
}

/**
 * The value at `offset`: an integer (64-bit ones beyond 2^53 lose their last digits) or a float
 * in its shortest form; undefined for NaN and infinities (what devices send for "no value").
 */
export function decodeRegisters(regs: ArrayLike<number>, offset: number, encoding: RegisterEncoding): number | undefined {
  if (offset + registerCount(encoding.type) > regs.length) return undefined;
  const view = toBigEndianBytes(regs, offset, encoding);
  switch (encoding.type) {
    case 'int16': return view.getInt16(0);
    case 'uint16': return view.getUint16(0);
    case 'int32': return view.getInt32(0);
    case 'uint32': return view.getUint32(0);
    case 'int64': return Number(view.getBigInt64(0));
    case 'uint64': return Number(view.getBigUint64(0));
    case 'float32': {
      const v = view.getFloat32(0);
      return Number.isFinite(v) ? shortestFloat32(v) : undefined;
    }
    case 'float64': {
      const v = view.getFloat64(0);
      return Number.isFinite(v) ? v : undefined;
    }
  }
}

/** The registers that hold `value` (test devices, simulators and writes). */
export function encodeRegisters(value: number, encoding: RegisterEncoding): number[] {
  const words = registerCount(encoding.type);
  const view = new DataView(new ArrayBuffer(words * 2));
  switch (encoding.type) {
    case 'int16': view.setInt16(0, value); break;
    case 'uint16': view.setUint16(0, value); break;
    case 'int32': view.setInt32(0, value); break;
    case 'uint32': view.setUint32(0, value); break;
    case 'int64': view.setBigInt64(0, BigInt(value)); break;
    case 'uint64': view.setBigUint64(0, BigInt(value)); break;
    case 'float32': view.setFloat32(0, value); break;
    case 'float64': view.setFloat64(0, value); break;
  }
  const regs = Array.from({ length: words }, (_, i) => {
    const word = view.getUint16(i * 2);
    return encoding.byteOrder === 'big' ? word : ((word & 0xff) << 8) | (word >> 8);
  });
  return encoding.wordOrder === 'big' ? regs : regs.reverse();
}
