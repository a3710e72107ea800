/**
 * Agent benchmark (`npm run bench:agent`, add `-- --record` to update bench/RESULTS.md): how much
 * headroom the device side has on a small machine. There is no target in the SPEC; the figures
 * size a Raspberry Pi (run it there too: a Pi 4 is roughly 3–5× slower than this machine).
 *
 * 1. Framing: a long serial stream of the shared vectors' frames in 64-byte chunks (what a USB
 *    serial adapter hands over), per framing, against the line's own rate.
 * 2. Decoding on the device: frames per second with the platform's decoders (AES-GCM for M-Bus).
 * 3. The queue (SQLite, WAL): append one DSMR telegram's readings per message, then pack and
 *    acknowledge in uplink-sized messages; thinning a full day of one-second telegrams.
 */
import { loadavg, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createFramer } from '../server/src/agent/domain/framing/registry.js';
import { packReadings } from '../server/src/agent/domain/outbox.js';
import { OutboxStore } from '../server/src/agent/store.js';
import { decodeFrame } from '../server/src/meters/index.js';
import { machine, peakRssMb, recordSection } from './lib/report.js';

const LOAD_AT_START = loadavg()[0]!;
const VECTORS = new URL('../../shared/vectors/', import.meta.url);
const MARKER = '# ---- data below this line ----\n';

function vector(file: string): Buffer {
  const text = readFileSync(new URL(file, VECTORS), 'latin1');
  const data = text.slice(text.indexOf(MARKER) + MARKER.length);
  if (file.endsWith('.hex')) return Buffer.from(data.replace(/\s+/g, ''), 'hex');
  return Buffer.from(`${data.replace(/\n$/, '').split('\n').join('\r\n')}\r\n`, 'latin1');
}

const streams = [
  { framing: 'text', format: 'dsmr', frame: vector('dsmr-v5-ndokter.txt'), lineBytesPerSecond: 115_200 / 10, key: undefined },
  { framing: 'mbus', format: 'dlms', frame: vector('at-netznoe-evn-kaifa-mbus.hex'), lineBytesPerSecond: 2_400 / 11, key: Buffer.from('36C66639E48A8CA4D6BC8B282A793BBB', 'hex') },
  { framing: 'sml', format: 'sml', frame: vector('sml-emh-smartmeter-obis.hex'), lineBytesPerSecond: 9_600 / 10, key: undefined },
];

const rows: string[][] = [];
for (const s of streams) {
  const count = Math.ceil(20_000_000 / s.frame.length);
  const stream = Buffer.concat(Array.from({ length: count }, () => s.frame));
  const framer = createFramer(s.framing);
  let frames = 0;
  const started = performance.now();
  for (let at = 0; at < stream.length; at += 64) frames += framer.push(stream.subarray(at, at + 64)).frames.length;
  const framingS = (performance.now() - started) / 1000;
  if (frames !== count) throw new Error(`${s.framing}: ${frames} of ${count} frames`);
  const decodes = 5_000;
  const decodeStarted = performance.now();
  for (let i = 0; i < decodes; i++) decodeFrame(s.frame, { format: s.format, key: s.key, receivedAt: new Date(), ignoreCrc: s.format === 'dsmr' });
  const decodeS = (performance.now() - decodeStarted) / 1000;
  const mbPerS = stream.length / framingS / 1e6;
  rows.push([s.framing, `${s.frame.length}`, mbPerS.toFixed(1), Math.round(frames / framingS).toLocaleString('en'), Math.round(stream.length / framingS / s.lineBytesPerSecond).toLocaleString('en'), s.format, Math.round(decodes / decodeS).toLocaleString('en')]);
}

const dir = mkdtempSync(join(tmpdir(), 'gridshare-bench-agent-'));
const telegram = (atMs: number, i: number) => JSON.stringify(Array.from({ length: 19 }, (_, q) => ({ ts: new Date(atMs).toISOString(), quantity: q < 4 ? `energy.import.t${q}` : `power.import.l${q}`, value: i + q, unit: q < 4 ? 'Wh' : 'W' })));
const messages = 50_000;
const store = new OutboxStore(join(dir, 'queue.db'), 4 * 1024 ** 3);
const base = Date.now() - messages * 1_000;
let t = performance.now();
for (let i = 0; i < messages; i++) store.append('readings', base + i * 1_000, 19, telegram(base + i * 1_000, i));
const appendS = (performance.now() - t) / 1000;
t = performance.now();
let sent = 0;
for (;;) {
  const batch = store.peek(1_000);
  if (batch.length === 0) break;
  const packed = packReadings(batch.map((r) => ({ seq: r.seq, count: r.count, json: r.payload.toString('utf8') })), 1_000)!;
  store.acknowledge(packed.seqs);
  sent += packed.readings;
}
const drainS = (performance.now() - t) / 1000;
store.close();
// A day of one-second telegrams over a cap that holds a third of it: thinned on the append that passes the cap.
const day = 86_400;
const size = Buffer.byteLength(telegram(0, 0));
const thinStore = new OutboxStore(join(dir, 'thin.db'), Math.floor((size * day) / 3), () => base + day * 1_000);
t = performance.now();
for (let i = 0; i < day; i++) thinStore.append('readings', base + i * 1_000, 19, telegram(base + i * 1_000, i));
const thinS = (performance.now() - t) / 1000;
const thinned = thinStore.stats();
thinStore.close();
rmSync(dir, { recursive: true, force: true });

const table = [
  '| Framing | Frame (bytes) | Framing MB/s | Frames/s | × the line rate | Decoder | Decodes/s |',
  '|---|---:|---:|---:|---:|---|---:|',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');
const queue = [
  '| Queue (SQLite WAL, synchronous=NORMAL) | Figure |',
  '|---|---:|',
  `| append, one 19-reading telegram per message | ${Math.round(messages / appendS).toLocaleString('en')} messages/s |`,
  `| peek + pack + acknowledge (1,000-reading uplink messages) | ${Math.round(sent / drainS).toLocaleString('en')} readings/s |`,
  `| a day of 1 s telegrams (86,400) into a cap of a third of it, thinning included | ${thinS.toFixed(1)} s; ${thinned.messages.toLocaleString('en')} messages left, ${thinned.thinnedMessages.toLocaleString('en')} thinned, ${thinned.droppedReadings} readings dropped |`,
].join('\n');
const header = `Measured ${machine()} with \`npm run bench:agent\` (shared machine: 1-minute load average ${LOAD_AT_START.toFixed(1)} at the start). Framing: the vector's frame repeated to 20 MB, fed in 64-byte chunks; "× the line rate" is how many such meters one core could frame (115200 8N1, 2400 8E1, 9600 8N1). Decoding with the platform's decoders (the M-Bus frames decrypted with AES-128-GCM). Peak RSS ${peakRssMb()} MB.`;
const body = `${header}\n\n${table}\n\n${queue}`;
process.stdout.write(`${body}\n`);
if (process.argv.includes('--record')) recordSection('Device agent', body);
