import { BadRequestError } from '../../kernel/errors.js';
import { formulaSafe } from '../../kernel/csv.js';
import { privacyText, type PrivacyLanguage, type PrivacyMessageKey } from './catalog.js';

/**
 * What a member's export (GDPR Art. 15 and 20) holds: one pair of files (JSON, CSV) per kind of
 * data, the CSV columns of each kind, the README. Every kind is always there, empty or not, so
 * a member sees that nothing was left out.
 */

export const EXPORT_KINDS = [
  'account', 'memberships', 'sites', 'devices', 'readings', 'intervals', 'energy-by-source', 'statements', 'consents', 'access-log',
] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** A value in an export record: JSON without undefined, NaN or infinities (instants as ISO text, money as decimal text). */
export type ExportValue = string | number | boolean | null | readonly ExportValue[] | { readonly [key: string]: ExportValue };
export type ExportRecord = Readonly<Record<string, ExportValue>>;

export interface ExportKindSpec {
  readonly kind: ExportKind;
  /** The CSV columns, in order; a record may leave some out (empty cells), never add others. */
  readonly columns: readonly string[];
  readonly descriptionKey: PrivacyMessageKey;
}

const spec = (kind: ExportKind, columns: readonly string[]): ExportKindSpec => ({ kind, columns, descriptionKey: `privacy.export.kind.${kind}` });

export const EXPORT_KIND_SPECS: Readonly<Record<ExportKind, ExportKindSpec>> = {
  account: spec('account', ['user_id', 'email', 'display_name', 'language', 'is_admin', 'created_at']),
  memberships: spec('memberships', ['member_id', 'community_id', 'community_name', 'role', 'state', 'display_name', 'join_message', 'requested_at', 'decided_at']),
  sites: spec('sites', ['metering_point_id', 'community_id', 'name', 'address', 'grid_connection_id', 'role', 'pv_capacity_w', 'battery_capacity_wh', 'created_at']),
  devices: spec('devices', ['device_id', 'community_id', 'metering_point_id', 'kind', 'name', 'status', 'created_at', 'last_seen_at']),
  readings: spec('readings', ['device_id', 'metering_point_id', 'quantity', 'ts', 'value', 'received_at']),
  intervals: spec('intervals', ['metering_point_id', 'start', 'import_wh', 'export_wh', 'pv_wh', 'quality']),
  'energy-by-source': spec('energy-by-source', ['member_id', 'start', 'consumption_wh', 'self_consumed_wh', 'from_community_wh', 'from_grid_wh', 'production_wh', 'to_community_wh', 'to_grid_wh', 'quality']),
  statements: spec('statements', ['statement_id', 'community_id', 'period_start', 'period_end', 'currency', 'total', 'lines', 'savings', 'co2_saved_kg', 'issued_at']),
  consents: spec('consents', ['direction', 'type', 'id', 'counterpart', 'scope', 'purpose', 'created_at', 'valid_until', 'revoked_at', 'price', 'digest']),
  'access-log': spec('access-log', ['at', 'accessor_kind', 'accessor', 'grant_id', 'purpose', 'category', 'metering_points', 'period_from', 'period_to', 'resolution']),
};

function checkValue(value: unknown, path: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new BadRequestError(`${path} is not a finite number (${value})`, path);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkValue(v, `${path}[${i}]`));
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) checkValue(v, `${path}.${k}`);
    return;
  }
  throw new BadRequestError(`${path} is a ${typeof value}, not a JSON value (instants and money go in as text)`, path);
}

/** Checks one record of a kind: declared columns only, JSON values only. `index` is 0-based. */
export function checkExportRecord(kind: ExportKind, record: ExportRecord, index: number): void {
  const { columns } = EXPORT_KIND_SPECS[kind];
  for (const [key, value] of Object.entries(record)) {
    if (!columns.includes(key)) throw new BadRequestError(`${kind} record ${index + 1}: field ${key} is not a column of ${kind} (${columns.join(', ')})`, `${kind}/${key}`);
    checkValue(value, `${kind} record ${index + 1}: ${key}`);
  }
}

/**
 * A record's CSV cells in column order. Nested values are written as JSON. Text that a
 * spreadsheet would run as a formula is defused (kernel `formulaSafe`).
 */
export function csvCells(kind: ExportKind, record: ExportRecord): string[] {
  return EXPORT_KIND_SPECS[kind].columns.map((column) => {
    const value = record[column];
    if (value === undefined || value === null) return '';
    if (typeof value === 'string') return formulaSafe(value);
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return JSON.stringify(value);
  });
}

export interface ReadmeFile {
  readonly kind: ExportKind;
  /** The archive's files for the kind (several when a large kind is split in parts). */
  readonly names: readonly string[];
  readonly records: number;
}

export interface ReadmeContext {
  readonly language: PrivacyLanguage;
  readonly locale?: string;
  readonly timeZone: string;
  readonly community: string;
  readonly member: string;
  readonly generatedAt: number;
  readonly files: readonly ReadmeFile[];
}

/** The README.md of an export, in the member's language. */
export function exportReadme(context: ReadmeContext): string {
  const { language } = context;
  const locale = context.locale ?? language;
  const when = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: context.timeZone }).format(context.generatedAt);
  const files = context.files.map((f) => privacyText(language, 'privacy.export.file', {
    files: f.names.join(', '),
    description: privacyText(language, EXPORT_KIND_SPECS[f.kind].descriptionKey),
    count: f.records,
  }, locale)).join('\n');
  return privacyText(language, 'privacy.export.readme', { community: context.community, member: context.member, when, files }, locale);
}
