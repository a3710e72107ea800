/** Statements as files (PDF, CSV): plain links, so the browser downloads them with the session cookie. */
import { apiUrl } from './client.js';
import type { Resolution } from '@gridshare/contract/sharing';
import { documentLocale } from '../lib/i18n/index.js';

/** The PDF's words, dates and amounts and the CSV's headers in the reader's `locale` (not the community's); the CSV's figures are data. */
export const statementDownload = (statementId: string, format: 'pdf' | 'csv', locale: string) => (format === 'pdf'
  ? apiUrl('statementPdf', { params: { id: statementId }, query: { locale: documentLocale(locale) } })
  : apiUrl('statementCsv', { params: { id: statementId }, query: { locale: documentLocale(locale) } }));

/** What a statement's log entry commits to, and the proof that it is in the log: files to download. */
export const statementRecordDownload = (statementId: string, file: 'receipt' | 'statement') =>
  apiUrl(file === 'receipt' ? 'statementReceipt' : 'statementJson', { params: { id: statementId } });

/** A member's energy by source over a range as a CSV file: a plain link too. */
export const memberEnergyCsvDownload = (memberId: string, query: { from: string; to: string; resolution: Resolution }) =>
  apiUrl('memberEnergyCsv', { params: { id: memberId }, query });
