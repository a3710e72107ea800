import { DATE_RANGE_TEXT, formatUtcInstant, isLeapYear, isYearWithinDateRange, parseUtcInstant, HOUR_MS } from '../../../kernel/time.js';
import { parseDecimal, sumExceedsOne, type Fraction, type ShareTable } from './shares.js';
import { AllocationInputError } from './types.js';

/**
 * Coefficient files: time-varying shares per member (Spain's hourly "coeficientes de
 * reparto", France's PMO coefficients for the "dynamique simple" key).
 *
 * Two layouts are read:
 *
 * 1. Spain's distribution-coefficient file (Orden TED/1247/2021, amending Annex I of
 *    Real Decreto 244/2019): plain text, no header, one line per supply point and hour,
 *        CUPS;hour;coefficient
 *    e.g. `ES0031300000000001AB0F;1;0,250000`: hour runs from 1 (the first hour of
 *    1 January) to 8760 (8784 in leap years), the coefficient is a decimal fraction with a
 *    comma or a point, and for every hour the coefficients of all CUPS add up to 1. The
 *    year comes from the file name (`<CAU>_<year>.txt`) or the `year` option. The member id
 *    in the interval data is the CUPS.
 *
 * 2. Gridshare's CSV:
 *        member_id,hour_of_year_or_timestamp,coefficient
 *    where the second column is either an hour of the year (as above) or the UTC instant at
 *    which the coefficient starts (`2024-06-01T10:00:00Z`), valid for `resolution` (1 hour
 *    by default; 15 or 30 minutes for French PMO keys).
 *
 * Hours of the year count elapsed hours from local midnight of 1 January (UTC+1 for
 * peninsular Spain, `utcOffsetHours` = 0 for the Canaries), so hour h covers the UTC hour
 * starting at Date.UTC(year, 0, 1) − offset + (h − 1) hours. Counting elapsed hours keeps
 * 8760 distinct hours through both DST changes (the 23-hour and the 25-hour day balance out).
 *
 * A coefficient applies to every 15-minute interval inside its period. Missing members
 * have 0 for that period; for a period absent from the file the allocation fails rather than
 * guessing.
 */
export interface CoefficientOptions {
  /** Year of hour-of-year rows; defaults to the year in a `<CAU>_<year>.txt` file name. */
  readonly year?: number | undefined;
  /** File name, to read the year from (`ES0031…FA000_2024.txt`). */
  readonly fileName?: string | undefined;
  /** Offset of local time in hours on 1 January (Spain: 1, Canaries: 0). */
  readonly utcOffsetHours?: number | undefined;
  /** Period length of timestamped rows in minutes: 15, 30 or 60 (default). */
  readonly resolutionMinutes?: 15 | 30 | 60 | undefined;
}

export function parseCoefficients(text: string, options: CoefficientOptions = {}): ShareTable {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) throw new AllocationInputError('coefficients file is empty');
  const official = lines[first]!.includes(';');
  const resolution = options.resolutionMinutes ?? 60;
  if (![15, 30, 60].includes(resolution)) throw new AllocationInputError('coefficient resolution must be 15, 30 or 60 minutes');
  const periodMs = resolution * 60_000;
  const offsetHours = options.utcOffsetHours ?? 1;
  if (!Number.isInteger(offsetHours) || Math.abs(offsetHours) > 14) throw new AllocationInputError('UTC offset must be a whole number of hours');
  const year = options.year ?? yearFromFileName(options.fileName);
  if (year !== undefined && !isYearWithinDateRange(year)) throw new AllocationInputError(`year ${year} is not ${DATE_RANGE_TEXT}`);

  let start = first;
  if (!official) {
    const header = lines[first]!.trim().toLowerCase().replace(/\s/g, '').split(',');
    if (header.length !== 3 || header[0] !== 'member_id' || !['hour_of_year_or_timestamp', 'hour_of_year', 'timestamp'].includes(header[1]!) || header[2] !== 'coefficient') {
      throw new AllocationInputError('coefficients CSV must start with the header "member_id,hour_of_year_or_timestamp,coefficient" (or use the official "CUPS;hour;coefficient" layout)', first + 1);
    }
    start = first + 1;
  }

  const periods = new Map<number, Map<string, Fraction>>();
  const memberIds = new Set<string>();
  let sawHourOfYear = false;
  let sawTimestamp = false;
  for (let k = start; k < lines.length; k++) {
    const raw = lines[k]!.trim();
    if (raw === '') continue;
    const lineNo = k + 1;
    let fields = official ? raw.split(';') : raw.split(',');
    if (official && fields.length === 4 && fields[3] === '') fields = fields.slice(0, 3);
    if (fields.length !== 3) {
      throw new AllocationInputError(official ? `expected CUPS;hour;coefficient, found ${fields.length} fields` : `expected 3 fields, found ${fields.length}`, lineNo);
    }
    const id = fields[0]!.trim();
    if (id === '') throw new AllocationInputError(official ? 'CUPS is empty' : 'member_id is empty', lineNo);
    const when = fields[1]!.trim();
    let startMs: number;
    if (/^\d+$/.test(when)) {
      sawHourOfYear = true;
      if (year === undefined) throw new AllocationInputError('hour-of-year coefficients need the year (name the file <CAU>_<year>.txt or give the year)', lineNo);
      const hours = isLeapYear(year) ? 8784 : 8760;
      const hour = Number(when);
      if (hour < 1 || hour > hours) throw new AllocationInputError(`hour ${when} is outside 1..${hours} of ${year}`, lineNo);
      if (resolution !== 60) throw new AllocationInputError('hour-of-year rows need the 60-minute resolution', lineNo);
      startMs = Date.UTC(year, 0, 1) - offsetHours * HOUR_MS + (hour - 1) * HOUR_MS;
    } else {
      sawTimestamp = true;
      if (official) throw new AllocationInputError(`hour "${when}" is not a whole number`, lineNo);
      const ms = parseUtcInstant(when);
      if (ms === undefined) throw new AllocationInputError(`"${when}" is neither an hour of the year nor a UTC timestamp like 2024-06-01T10:00:00Z ${DATE_RANGE_TEXT}`, lineNo);
      if (ms % periodMs !== 0) throw new AllocationInputError(`${when} does not start a ${resolution}-minute period`, lineNo);
      startMs = ms;
    }
    if (sawHourOfYear && sawTimestamp) throw new AllocationInputError('mixes hours of the year and timestamps', lineNo);
    const coefficient = parseDecimal(fields[2]!);
    if (!coefficient) throw new AllocationInputError(`coefficient "${fields[2]}" is not a decimal number like 0.25`, lineNo);
    if (coefficient.units > 10 ** coefficient.decimals) throw new AllocationInputError(`coefficient ${fields[2]} is more than 1`, lineNo);
    const key = Math.floor(startMs / periodMs);
    let period = periods.get(key);
    if (!period) { period = new Map(); periods.set(key, period); }
    if (period.has(id)) throw new AllocationInputError(`${id} has two coefficients for the same period`, lineNo);
    period.set(id, coefficient);
    memberIds.add(id);
  }
  if (periods.size === 0) throw new AllocationInputError('coefficients file has no coefficients');
  for (const [key, period] of periods) {
    if (sumExceedsOne(period.values())) {
      throw new AllocationInputError(`coefficients of the period starting ${formatUtcInstant(key * periodMs)} add up to more than 1`);
    }
  }
  return { periodMs, periods, memberIds };
}

function yearFromFileName(name: string | undefined): number | undefined {
  const m = name ? /_(\d{4})\.txt$/i.exec(name) : null;
  return m ? Number(m[1]) : undefined;
}
