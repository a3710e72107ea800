/** Invoices and SEPA files as downloads: plain links, so the browser fetches them with the session cookie. */
import { apiUrl } from './client.js';

export const invoicePdfDownload = (invoiceId: string, language: string) => apiUrl('invoicePdf', { params: { id: invoiceId }, query: { locale: language } });

export const sepaDownload = (settlementId: string, kind: 'direct-debits' | 'credit-transfers') =>
  apiUrl(kind === 'direct-debits' ? 'directDebitFile' : 'creditTransferFile', { params: { id: settlementId } });
