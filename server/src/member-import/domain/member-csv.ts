import { parse } from 'csv-parse/sync';
import { electronicFormatIBAN, isValidIBAN } from 'ibantools';
import { BadRequestError, PayloadTooLargeError } from '../../kernel/errors.js';

/**
 * Bulk import of members and their metering points from one CSV file (format in README.md):
 * a header row, then one row per metering point — a member with two points has two rows, a
 * member without one leaves the point columns empty. Comma or semicolon separated (spreadsheets
 * in German write semicolons), UTF-8 with or without BOM, RFC 4180 quoting.
 *
 * Pure and a dry run by construction: it returns what would be created and every error with its
 * line and column; the caller applies nothing while there are errors, unless it chooses to take
 * the valid members only (a member with any bad row is left out as a whole).
 */
export const MEMBER_COLUMNS = ['email', 'display_name', 'role', 'language', 'street', 'postal_code', 'city', 'country', 'iban', 'mandate_id', 'mandate_signed_on'] as const;
export const POINT_COLUMNS = ['point_name', 'grid_connection_id', 'generation_grid_connection_id', 'point_role', 'point_address', 'pv_capacity_w', 'battery_capacity_wh'] as const;
export const REQUIRED_COLUMNS = ['email', 'display_name'] as const;
type Column = (typeof MEMBER_COLUMNS)[number] | (typeof POINT_COLUMNS)[number];
const COLUMNS: readonly Column[] = [...MEMBER_COLUMNS, ...POINT_COLUMNS];

export const IMPORT_LIMITS = { maxBytes: 5 * 1024 * 1024, maxRows: 10_000 };

export interface ImportedMember {
  readonly email: string;
  readonly displayName: string;
  readonly role: 'member' | 'manager';
  readonly language?: 'en' | 'de';
  readonly billingAddress?: { readonly street: string; readonly postalCode: string; readonly city: string; readonly country: string };
  readonly iban?: string;
  readonly mandate?: { readonly id: string; readonly signedOn: string };
  readonly lines: readonly number[];
}

export interface ImportedPoint {
  readonly memberEmail: string;
  readonly name: string;
  readonly gridConnectionId: string;
  readonly generationGridConnectionId?: string;
  readonly role: 'consumer' | 'producer' | 'prosumer';
  readonly address?: string;
  readonly pvCapacityW?: number;
  readonly batteryCapacityWh?: number;
  readonly line: number;
}

export interface RowError {
  /** The file line the row ends on (0 for the file as a whole). */
  readonly line: number;
  readonly column?: string;
  readonly message: string;
}

export interface ImportPlan {
  readonly rows: number;
  readonly members: readonly ImportedMember[];
  readonly points: readonly ImportedPoint[];
  readonly errors: readonly RowError[];
  /** Members whose rows are all valid: what a partial import would create. */
  readonly validMembers: readonly string[];
}

/** What already exists in the community, so a row that would collide is an error now, not a failed insert later. */
export interface ExistingRegistry {
  readonly emails: ReadonlySet<string>;
  readonly gridConnectionIds: ReadonlySet<string>;
}

const EMAIL = /^[^\s@<>(),;:"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const GRID_ID = /^[A-Z0-9]{6,40}$/;
const DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const NAME_MAX = 120;

class CellError extends Error {
  constructor(readonly column: Column, message: string) {
    super(message);
  }
}

function integer(value: string, column: Column, max: number): number | undefined {
  if (value === '') return undefined;
  if (!/^\d{1,12}$/.test(value) || Number(value) > max) throw new CellError(column, `a whole number from 0 to ${max}, got "${value}"`);
  return Number(value);
}

function readRow(cell: (column: Column) => string, line: number): { member: Omit<ImportedMember, 'lines'>; point?: ImportedPoint } {
  const email = cell('email').toLowerCase();
  if (!EMAIL.test(email) || email.length > 254) throw new CellError('email', `not an email address: "${cell('email')}"`);
  const displayName = cell('display_name');
  if (displayName === '' || displayName.length > NAME_MAX) throw new CellError('display_name', `a name of 1–${NAME_MAX} characters is required`);
  const role = cell('role') || 'member';
  if (role !== 'member' && role !== 'manager') throw new CellError('role', `member or manager, got "${role}"`);
  const language = cell('language');
  if (language !== '' && language !== 'en' && language !== 'de') throw new CellError('language', `en or de, got "${language}"`);

  const address = { street: cell('street'), postalCode: cell('postal_code'), city: cell('city'), country: cell('country').toUpperCase() };
  const given = Object.values(address).filter((v) => v !== '').length;
  if (given > 0 && given < 4) {
    const missing = (['street', 'postal_code', 'city', 'country'] as const).find((c) => cell(c) === '')!;
    throw new CellError(missing, 'a billing address needs street, postal_code, city and country');
  }
  if (given === 4 && !/^[A-Z]{2}$/.test(address.country)) throw new CellError('country', `an ISO country code like AT, got "${cell('country')}"`);

  const ibanText = cell('iban');
  const iban = ibanText === '' ? undefined : electronicFormatIBAN(ibanText) ?? '';
  if (iban !== undefined && !isValidIBAN(iban)) throw new CellError('iban', `not a valid IBAN: "${ibanText}"`);
  const mandateId = cell('mandate_id');
  const signedOn = cell('mandate_signed_on');
  if ((mandateId === '') !== (signedOn === '')) throw new CellError(mandateId === '' ? 'mandate_id' : 'mandate_signed_on', 'a mandate needs both its id and the date it was signed');
  if (mandateId !== '' && !/^[A-Za-z0-9/\-?:().,'+ ]{1,35}$/.test(mandateId)) throw new CellError('mandate_id', 'a mandate id is 1–35 characters of A–Z a–z 0–9 / - ? : ( ) . , \' + and space');
  if (signedOn !== '' && !DATE.test(signedOn)) throw new CellError('mandate_signed_on', `a date YYYY-MM-DD, got "${signedOn}"`);
  if (mandateId !== '' && !iban) throw new CellError('iban', 'a direct-debit mandate needs the account\'s IBAN');

  const member = {
    email, displayName, role,
    ...(language ? { language } : {}),
    ...(given === 4 ? { billingAddress: address } : {}),
    ...(iban ? { iban } : {}),
    ...(mandateId ? { mandate: { id: mandateId, signedOn } } : {}),
  } as Omit<ImportedMember, 'lines'>;

  if (POINT_COLUMNS.every((c) => cell(c) === '')) return { member };
  const name = cell('point_name');
  if (name === '' || name.length > NAME_MAX) throw new CellError('point_name', `a metering point needs a name of 1–${NAME_MAX} characters`);
  const gridConnectionId = cell('grid_connection_id').replace(/\s+/g, '').toUpperCase();
  if (!GRID_ID.test(gridConnectionId)) throw new CellError('grid_connection_id', `6–40 letters and digits (an EAN or a Zählpunkt), got "${cell('grid_connection_id')}"`);
  const generation = cell('generation_grid_connection_id').replace(/\s+/g, '').toUpperCase();
  if (generation !== '' && !GRID_ID.test(generation)) throw new CellError('generation_grid_connection_id', `6–40 letters and digits, got "${cell('generation_grid_connection_id')}"`);
  const pointRole = cell('point_role') || 'consumer';
  if (pointRole !== 'consumer' && pointRole !== 'producer' && pointRole !== 'prosumer') throw new CellError('point_role', `consumer, producer or prosumer, got "${pointRole}"`);
  if (generation !== '' && pointRole === 'consumer') throw new CellError('generation_grid_connection_id', 'a consumer has no generation id');
  const pointAddress = cell('point_address');
  if (pointAddress.length > 300) throw new CellError('point_address', 'at most 300 characters');
  const pvCapacityW = integer(cell('pv_capacity_w'), 'pv_capacity_w', 100_000_000);
  const batteryCapacityWh = integer(cell('battery_capacity_wh'), 'battery_capacity_wh', 1_000_000_000);
  return {
    member,
    point: {
      memberEmail: email, name, gridConnectionId, role: pointRole, line,
      ...(generation ? { generationGridConnectionId: generation } : {}),
      ...(pointAddress ? { address: pointAddress } : {}),
      ...(pvCapacityW !== undefined ? { pvCapacityW } : {}),
      ...(batteryCapacityWh !== undefined ? { batteryCapacityWh } : {}),
    },
  };
}

const sameMember = (a: Omit<ImportedMember, 'lines'>, b: Omit<ImportedMember, 'lines'>) => {
  const details = ({ lines: _, ...member }: Omit<ImportedMember, 'lines'> & { lines?: unknown }) => JSON.stringify(member);
  return details(a) === details(b);
};

export function planMemberImport(csv: string, existing: ExistingRegistry = { emails: new Set(), gridConnectionIds: new Set() }): ImportPlan {
  if (csv.length > IMPORT_LIMITS.maxBytes || Buffer.byteLength(csv, 'utf8') > IMPORT_LIMITS.maxBytes) {
    throw new PayloadTooLargeError(`an import file may be at most ${IMPORT_LIMITS.maxBytes / 1024 / 1024} MB`);
  }
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(csv, { bom: true, delimiter: [',', ';'], info: true, skip_empty_lines: true, relax_column_count: true, trim: true, max_record_size: 64 * 1024 }) as unknown as typeof records;
  } catch (error) {
    throw new BadRequestError(`not a readable CSV file: ${(error as Error).message}`);
  }
  const [header, ...rows] = records;
  if (!header) throw new BadRequestError('the file is empty: a header row is required');
  const names = header.record.map((name) => name.toLowerCase());
  const fileErrors: RowError[] = [
    ...names.filter((name) => !COLUMNS.includes(name as Column)).map((name) => ({ line: 0, column: name, message: `unknown column "${name}" (known: ${COLUMNS.join(', ')})` })),
    ...names.filter((name, i) => names.indexOf(name) !== i).map((name) => ({ line: 0, column: name, message: `column "${name}" appears twice` })),
    ...REQUIRED_COLUMNS.filter((name) => !names.includes(name)).map((name) => ({ line: 0, column: name, message: `the required column "${name}" is missing` })),
  ];
  if (rows.length > IMPORT_LIMITS.maxRows) fileErrors.push({ line: 0, message: `at most ${IMPORT_LIMITS.maxRows} rows per file, this one has ${rows.length}` });
  if (fileErrors.length > 0) return { rows: rows.length, members: [], points: [], errors: fileErrors, validMembers: [] };

  const index = new Map(names.map((name, i) => [name as Column, i]));
  const members = new Map<string, Omit<ImportedMember, 'lines'> & { lines: number[] }>();
  const points: ImportedPoint[] = [];
  const errors: RowError[] = [];
  const pointIds = new Map<string, number>();
  const badEmails = new Set<string>();
  for (const { record, info } of rows) {
    const line = info.lines;
    const rowEmail = (record[index.get('email')!] ?? '').trim().toLowerCase();
    try {
      if (record.length !== names.length) throw new BadRequestError(`${record.length} fields where the header has ${names.length}`);
      const { member, point } = readRow((column) => record[index.get(column) ?? -1]?.trim() ?? '', line);
      if (existing.emails.has(member.email)) throw new CellError('email', `${member.email} is already a member of this community`);
      const known = members.get(member.email);
      if (known && !sameMember(known, member)) throw new CellError('email', `${member.email} appears on line ${known.lines[0]} with different member details`);
      if (point) {
        for (const id of [point.gridConnectionId, point.generationGridConnectionId].filter((x): x is string => x !== undefined)) {
          if (existing.gridConnectionIds.has(id)) throw new CellError('grid_connection_id', `${id} is already registered in this community`);
          const first = pointIds.get(id);
          if (first !== undefined) throw new CellError('grid_connection_id', `${id} is already on line ${first}`);
        }
        pointIds.set(point.gridConnectionId, line);
        if (point.generationGridConnectionId) pointIds.set(point.generationGridConnectionId, line);
        points.push(point);
      }
      if (known) known.lines.push(line);
      else members.set(member.email, { ...member, lines: [line] });
    } catch (error) {
      if (error instanceof CellError) errors.push({ line, column: error.column, message: error.message });
      else if (error instanceof BadRequestError) errors.push({ line, message: error.message });
      else throw error;
      badEmails.add(rowEmail);
    }
  }
  const validMembers = [...members.keys()].filter((email) => !badEmails.has(email));
  return { rows: rows.length, members: [...members.values()], points, errors, validMembers };
}
