import { crc16Arc } from '../../src/meters/domain/crc.js';
import { loadVector } from './vectors.js';

/** "YYMMDDhhmmssX" for an instant, in the Central European time DSMR meters keep. */
export function dsmrStamp(at: Date): string {
  const offset = new Intl.DateTimeFormat('en', { timeZone: 'Europe/Amsterdam', timeZoneName: 'shortOffset' })
    .formatToParts(at).find((p) => p.type === 'timeZoneName')!.value === 'GMT+2' ? 2 : 1;
  const local = new Date(at.getTime() + offset * 3_600_000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(local.getUTCFullYear() % 100)}${two(local.getUTCMonth() + 1)}${two(local.getUTCDate())}${two(local.getUTCHours())}${two(local.getUTCMinutes())}${two(local.getUTCSeconds())}${offset === 2 ? 'S' : 'W'}`;
}

const kWh = (wh: number) => (wh / 1000).toFixed(3).padStart(10, '0');

/**
 * The dsmr-v5 vector re-stamped at `at` with a chosen import register (t1, in Wh) and optionally
 * the other tariff registers (the vector's values otherwise: t2 import 2,399 Wh, t1 export 2,444 Wh,
 * t2 export 0 Wh), its CRC recomputed: what a real meter on the P1 port would send now.
 */
export function dsmrTelegramAt(at: Date, importT1Wh: number, other: { importT2Wh?: number; exportT1Wh?: number; exportT2Wh?: number } = {}): Buffer {
  const text = loadVector('dsmr-v5-ndokter.txt').bytes.toString('latin1')
    .replace('0-0:1.0.0(170102192002W)', `0-0:1.0.0(${dsmrStamp(at)})`)
    .replace('0-1:24.2.1(170102161005W)', `0-1:24.2.1(${dsmrStamp(at)})`)
    .replace('1-0:1.8.1(000004.426*kWh)', `1-0:1.8.1(${kWh(importT1Wh)}*kWh)`)
    .replace('1-0:1.8.2(000002.399*kWh)', `1-0:1.8.2(${kWh(other.importT2Wh ?? 2_399)}*kWh)`)
    .replace('1-0:2.8.1(000002.444*kWh)', `1-0:2.8.1(${kWh(other.exportT1Wh ?? 2_444)}*kWh)`)
    .replace('1-0:2.8.2(000000.000*kWh)', `1-0:2.8.2(${kWh(other.exportT2Wh ?? 0)}*kWh)`)
    .replace(/!.*$/s, '!');
  const crc = crc16Arc(Buffer.from(text, 'latin1')).toString(16).toUpperCase().padStart(4, '0');
  return Buffer.from(`${text}${crc}\r\n`, 'latin1');
}
