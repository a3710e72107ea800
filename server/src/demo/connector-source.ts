import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The demo's connector source: the heat pump of Sunny Street 5 as a gateway exports it, one CSV
 * file per quarter hour in a local folder (the demo's `csv-files` connector reads them and renames
 * them `.read`). At the start the last day is written as one file, then a file every quarter hour.
 */
const QUARTER = 900_000;
/** 300 Wh per quarter hour, counted from the start of 2026: a register that only rises. */
const registerKWh = (ms: number) => ((ms - Date.UTC(2026, 0, 1)) / QUARTER * 0.3).toFixed(1);
export const DEMO_CSV_COLUMNS = { time: 'time', register: 'heat_pump_kwh' } as const;

function csv(fromMs: number, toMs: number): string {
  const rows = [`${DEMO_CSV_COLUMNS.time},${DEMO_CSV_COLUMNS.register}`];
  for (let t = fromMs; t <= toMs; t += QUARTER) rows.push(`${new Date(t).toISOString()},${registerKWh(t)}`);
  return `${rows.join('\n')}\n`;
}

/** Written under a temporary name and renamed, so the connector never reads half a file. */
async function writeAtomically(folder: string, name: string, text: string): Promise<void> {
  const partial = join(folder, `.${name}.part`);
  await writeFile(partial, text, { mode: 0o600 });
  await rename(partial, join(folder, name));
}

const fileName = (ms: number) => `heat-pump-${new Date(ms).toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-')}.csv`;

export async function startDemoConnectorSource(folder: string, now: () => number = Date.now): Promise<{ close(): void }> {
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const latest = Math.floor(now() / QUARTER) * QUARTER;
  if ((await readdir(folder)).length === 0) await writeAtomically(folder, fileName(latest), csv(latest - 96 * QUARTER, latest));
  const write = () => {
    const at = Math.floor(now() / QUARTER) * QUARTER;
    writeAtomically(folder, fileName(at), csv(at, at)).catch((error: Error) => process.stderr.write(`gridshare: demo connector file not written: ${error.message}\n`));
  };
  // At the next quarter hour, then every quarter hour.
  let timer: NodeJS.Timeout = setTimeout(function tick() {
    write();
    timer = setTimeout(tick, QUARTER - (now() % QUARTER));
    timer.unref();
  }, latest + QUARTER - now());
  timer.unref();
  return { close: () => clearTimeout(timer) };
}
