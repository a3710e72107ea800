/** Invoices and SEPA files as downloads: plain links, so the browser fetches them with the session cookie. */
import { apiUrl } from './client.js';
import { documentLocale } from '../lib/i18n/index.js';

/** The invoice in the reader's `locale` (en-GB: English words, British dates). */
export const invoicePdfDownload = (invoiceId: string, locale: string) => apiUrl('invoicePdf', { params: { id: invoiceId }, query: { locale: documentLocale(locale) } });

export const sepaDownload = (settlementId: string, kind: 'direct-debits' | 'credit-transfers') =>
  apiUrl(kind === 'direct-debits' ? 'directDebitFile' : 'creditTransferFile', { params: { id: settlementId } });
