import type { Resolution } from '../../kernel/calendar.js';
import { BadRequestError } from '../../kernel/errors.js';
import { formatUtcInstant } from '../../kernel/time.js';
import { privacyText, type PrivacyLanguage } from './catalog.js';
import { validateRecipient, type Recipient } from './consent.js';
import { DATA_CATEGORIES, processingActivity, type DataCategory, type ProcessingPurpose } from './register.js';
import { requireId, requireInstant, RESOLUTIONS } from './scope.js';

/**
 * The access log: every read of a member's personal data by someone other than the member
 * (a manager, the platform admin, a consent recipient, an export) is one entry — who, what,
 * when, why — and the member reads their own log. A member's reads of their own data are not
 * logged: the log is about others.
 */

export type Accessor =
  | { readonly kind: 'manager' | 'admin'; readonly userId: string; readonly name: string }
  | { readonly kind: 'recipient'; readonly recipient: Recipient; readonly grantId: string }
  | { readonly kind: 'export'; readonly jobId: string; readonly requestedBy: 'member' | 'admin' };

export interface AccessedData {
  readonly category: DataCategory;
  readonly meteringPoints: readonly string[];
  /** The data's time span, when it has one. */
  readonly period: { readonly fromMs: number; readonly toMs: number } | null;
  readonly resolution: Resolution | null;
}

export interface AccessLogEntry {
  readonly at: number;
  readonly communityId: string;
  /** The member whose data was read. */
  readonly subject: string;
  readonly accessor: Accessor;
  readonly data: AccessedData;
  readonly purpose: ProcessingPurpose;
}

/** A checked entry; recipients read only for `consented-sharing`, exports only for `data-subject-rights`. */
export function createAccessLogEntry(entry: AccessLogEntry): AccessLogEntry {
  requireInstant(entry.at, 'at');
  requireId(entry.communityId, 'communityId');
  requireId(entry.subject, 'subject');
  processingActivity(entry.purpose);
  const { accessor, data } = entry;
  switch (accessor.kind) {
    case 'manager':
    case 'admin':
      requireId(accessor.userId, 'accessor/userId');
      if (accessor.name.trim() === '') throw new BadRequestError('an accessor has a name', 'accessor/name');
      break;
    case 'recipient':
      validateRecipient(accessor.recipient, 'accessor/recipient');
      requireId(accessor.grantId, 'accessor/grantId');
      if (entry.purpose !== 'consented-sharing') throw new BadRequestError('a consent recipient reads for consented-sharing only', 'purpose');
      break;
    case 'export':
      requireId(accessor.jobId, 'accessor/jobId');
      if (entry.purpose !== 'data-subject-rights') throw new BadRequestError('an export reads for data-subject-rights only', 'purpose');
      break;
    default:
      throw new BadRequestError(`unknown accessor kind "${(accessor as { kind: string }).kind}"`, 'accessor/kind');
  }
  if (!(DATA_CATEGORIES as readonly string[]).includes(data.category)) throw new BadRequestError(`unknown data category "${data.category}"`, 'data/category');
  for (const point of data.meteringPoints) requireId(point, 'data/meteringPoints');
  if (data.period !== null) {
    requireInstant(data.period.fromMs, 'data/period/fromMs');
    requireInstant(data.period.toMs, 'data/period/toMs');
    if (data.period.toMs <= data.period.fromMs) throw new BadRequestError('the period ends after it starts', 'data/period');
  }
  if (data.resolution !== null && !(RESOLUTIONS as readonly string[]).includes(data.resolution)) {
    throw new BadRequestError(`unknown resolution "${data.resolution}"`, 'data/resolution');
  }
  return entry;
}

export interface FormatOptions {
  readonly language: PrivacyLanguage;
  /** A locale of that language for dates (en-GB, de-AT); defaults to the language. */
  readonly locale?: string;
  /** The community's zone: times are shown on its clock. */
  readonly timeZone: string;
}

export interface FormattedAccess {
  readonly when: string;
  readonly who: string;
  readonly what: string;
  readonly why: string;
  /** The whole entry as one sentence. */
  readonly line: string;
}

function describeAccessor(accessor: Accessor, language: PrivacyLanguage): string {
  switch (accessor.kind) {
    case 'manager': return privacyText(language, 'privacy.accessor.manager', { name: accessor.name });
    case 'admin': return privacyText(language, 'privacy.accessor.admin', { name: accessor.name });
    case 'recipient': return privacyText(language, 'privacy.accessor.recipient', { label: accessor.recipient.label });
    case 'export': return privacyText(language, accessor.requestedBy === 'member' ? 'privacy.accessor.export-member' : 'privacy.accessor.export-admin');
  }
}

/** An entry in the member's words and language, times on the community's clock. */
export function formatAccessLogEntry(entry: AccessLogEntry, options: FormatOptions): FormattedAccess {
  const { language, timeZone } = options;
  const locale = options.locale ?? language;
  const dateTime = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone });
  const date = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone });
  const { data } = entry;
  // The period's end is exclusive; a member reads "1–31 March", not "1 March–1 April".
  const period = data.period === null ? 'none' : date.formatRange(data.period.fromMs, data.period.toMs - 1);
  const when = dateTime.format(entry.at);
  const who = describeAccessor(entry.accessor, language);
  const what = privacyText(language, 'privacy.accessLog.what', {
    category: privacyText(language, `privacy.category.${data.category}`),
    resolution: data.resolution === null ? 'none' : privacyText(language, `privacy.resolution.${data.resolution}`),
    count: data.meteringPoints.length,
    period,
  }, locale);
  const why = privacyText(language, processingActivity(entry.purpose).titleKey);
  return { when, who, what, why, line: privacyText(language, 'privacy.accessLog.line', { when, who, what, why }, locale) };
}

/** One flat record per entry, for the member's export and the log's CSV. */
export function accessLogRecord(entry: AccessLogEntry): Record<string, string | number | null> {
  const { accessor, data } = entry;
  return {
    at: formatUtcInstant(entry.at),
    accessor_kind: accessor.kind,
    accessor: accessor.kind === 'recipient' ? accessor.recipient.label : accessor.kind === 'export' ? `export ${accessor.jobId}` : accessor.name,
    grant_id: accessor.kind === 'recipient' ? accessor.grantId : null,
    purpose: entry.purpose,
    category: data.category,
    metering_points: data.meteringPoints.join(' '),
    period_from: data.period === null ? null : formatUtcInstant(data.period.fromMs),
    period_to: data.period === null ? null : formatUtcInstant(data.period.toMs),
    resolution: data.resolution,
  };
}
