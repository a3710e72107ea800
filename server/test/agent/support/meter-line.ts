import { createCipheriv } from 'node:crypto';
import { SerialPort } from 'serialport';
import type { LineSettings } from '../../../src/agent/domain/profiles.js';
import { loadVector } from '../../meters/vectors.js';

export { ptyPair, socatMissing, type PtyPair } from './pty.js';

/** The meter's side of the line, opened at the meter's serial settings. */
export async function openMeter(path: string, line: LineSettings): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: line.baudRate, dataBits: line.dataBits, parity: line.parity, stopBits: line.stopBits, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  return port;
}

export function send(port: SerialPort, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    port.write(Buffer.from(bytes), (error) => {
      if (error) reject(error);
      else port.drain((drainError) => (drainError ? reject(drainError) : resolve()));
    });
  });
}

export function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

/** DLMS date-time: year, month, day, weekday, hour, minute, second, hundredths, deviation, status. */
function cosemDateTime(local: Date, deviation: number, status: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(local.getUTCFullYear(), 0);
  out[2] = local.getUTCMonth() + 1;
  out[3] = local.getUTCDate();
  out[4] = ((local.getUTCDay() + 6) % 7) + 1;
  out[5] = local.getUTCHours();
  out[6] = local.getUTCMinutes();
  out[7] = local.getUTCSeconds();
  out[8] = 0;
  out.writeInt16BE(deviation, 9);
  out[11] = status;
  return out;
}

/**
 * The Netz NÖ (Kaifa) M-Bus vector with its clock moved to `at` (the platform refuses readings
 * older than 400 days): decrypted with the vector's key, both date-times replaced, encrypted
 * again (suite 0 without a tag: AES-CTR from counter 2), both frames' checksums recomputed.
 */
export function netzNoeFramesAt(at: Date, key: string): Buffer {
  const vector = loadVector('at-netznoe-evn-kaifa-mbus.hex').bytes;
  const first = Buffer.from(vector.subarray(0, vector[1]! + 6));
  const second = Buffer.from(vector.subarray(first.length));
  const part1 = first.subarray(9, first.length - 2);
  const part2 = second.subarray(9, second.length - 2);
  const apdu = Buffer.concat([part1, part2]);
  const systemTitle = apdu.subarray(2, 10);
  const counter = apdu.subarray(13, 17);
  const cipherText = apdu.subarray(17);
  const ctr = (data: Buffer) => {
    const cipher = createCipheriv('aes-128-ctr', Buffer.from(key, 'hex'), Buffer.concat([systemTitle, counter, Buffer.from([0, 0, 0, 2])]));
    return Buffer.concat([cipher.update(data), cipher.final()]);
  };
  const plain = ctr(cipherText);
  const old = Buffer.from('07e5091b01092f0f00ff8880', 'hex');
  // The meter keeps local time with a deviation of −120 min (CEST): local = UTC + 2 h.
  const replacement = cosemDateTime(new Date(at.getTime() + 2 * 3_600_000), -120, 0x80);
  let replaced = 0;
  for (let i = plain.indexOf(old); i >= 0; i = plain.indexOf(old, i + 1)) {
    replacement.copy(plain, i);
    replaced += 1;
  }
  if (replaced !== 2) throw new Error(`expected two date-times in the Netz NÖ plaintext, found ${replaced}`);
  const newApdu = Buffer.concat([apdu.subarray(0, 17), ctr(plain)]);
  newApdu.copy(part1, 0, 0, part1.length);
  newApdu.copy(part2, 0, part1.length);
  for (const frame of [first, second]) {
    let sum = 0;
    for (let i = 4; i < frame.length - 2; i++) sum = (sum + frame[i]!) & 0xff;
    frame[frame.length - 2] = sum;
  }
  return Buffer.concat([first, second]);
}

/** The heat meter's D0 readout block with a correct BCC (the vector's is a placeholder, see its header). */
export function d0ReadoutBlock(): { identification: string; block: Buffer } {
  const bytes = loadVector('d0-modec-heatmeter-smartmeter-obis.txt').bytes;
  const stx = bytes.indexOf(0x02);
  const etx = bytes.indexOf(0x03);
  const identification = bytes.subarray(0, stx).toString('latin1').replace(/\r\n$/, '');
  let bcc = 0;
  for (let i = stx + 1; i <= etx; i++) bcc ^= bytes[i]!;
  return { identification, block: Buffer.concat([bytes.subarray(stx, etx + 1), Buffer.from([bcc])]) };
}
