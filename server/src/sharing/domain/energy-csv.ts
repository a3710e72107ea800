import { localIsoString, type LocalClock } from '../../kernel/calendar.js';
import { csvRecord } from '../../kernel/csv.js';
import { ENERGY_KEYS, type EnergyBySource } from '../../kernel/energy.js';

/** One bucket of a member's energy as the energy API rolls it up (start and end as UTC ISO instants). */
export interface CsvBucket extends EnergyBySource {
  readonly start: string;
  readonly end: string;
  readonly quality: string;
  readonly provisional: boolean;
}

/** "fromCommunityWh" → "from_community_wh": the API's field names as CSV column names. */
const columnOf = (key: string) => key.replace(/Wh$/, '_wh').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export const ENERGY_CSV_COLUMNS: readonly string[] = ['start', 'end', ...ENERGY_KEYS.map(columnOf), 'quality', 'provisional'];

/**
 * A member's energy by source as RFC 4180 CSV: a header row, then one record per bucket with its
 * start and end in local ISO 8601 with the offset (so a spreadsheet in any zone reads the
 * community's days), whole Wh, quality and provisional; CRLF line ends.
 */
export function energyCsv(buckets: readonly CsvBucket[], clock: LocalClock): string {
  const lines = [csvRecord(ENERGY_CSV_COLUMNS)];
  for (const b of buckets) {
    lines.push(csvRecord([
      localIsoString(Date.parse(b.start), clock), localIsoString(Date.parse(b.end), clock),
      ...ENERGY_KEYS.map((key) => b[key]), b.quality, b.provisional,
    ]));
  }
  return `${lines.join('\r\n')}\r\n`;
}
