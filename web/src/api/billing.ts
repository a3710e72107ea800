/** Invoices as downloads (plain links: the browser fetches them with the session cookie) and SEPA files (fetched, so a refusal is shown). */
import { apiUrl, send } from './client.js';
import { documentLocale } from '../lib/i18n/index.js';

/** The invoice in the reader's `locale` (en-GB: English words, British dates). */
export const invoicePdfDownload = (invoiceId: string, locale: string) => apiUrl('invoicePdf', { params: { id: invoiceId }, query: { locale: documentLocale(locale) } });

/**
 * A closed month's SEPA file, saved as the server names it. Fetched rather than linked: a month
 * with nothing to collect (409) or a file the server refuses to issue answers a message, which a
 * plain link would open as raw JSON; here it throws the ApiError for the page to show.
 */
export async function downloadSepaFile(settlementId: string, kind: 'direct-debits' | 'credit-transfers'): Promise<void> {
  const response = await send(kind === 'direct-debits' ? 'directDebitFile' : 'creditTransferFile', { params: { id: settlementId } });
  const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `${kind}.xml`;
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  // The click has handed the file to the browser's download; the URL is not needed after this task.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
