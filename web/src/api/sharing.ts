/** Statements as files (PDF, CSV): plain links, so the browser downloads them with the session cookie. */
import { apiUrl } from './client.js';

export const statementDownload = (statementId: string, format: 'pdf' | 'csv') =>
  apiUrl(format === 'pdf' ? 'statementPdf' : 'statementCsv', { params: { id: statementId } });
