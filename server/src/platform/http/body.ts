import { BadRequestError, UnsupportedMediaTypeError } from '../../kernel/errors.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A text body (JSON, CSV) as a string, read strictly: the API speaks UTF-8 only, so another
 * charset is refused (415) and bytes that are not UTF-8 are an error (400) rather than being
 * turned into replacement characters and stored.
 */
export function utf8Body(contentType: string | undefined, body: Buffer): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new UnsupportedMediaTypeError(`charset=${charset}: request bodies are read as UTF-8 only`);
  }
  try {
    return UTF8.decode(body);
  } catch {
    throw new BadRequestError('body: is not valid UTF-8', 'body');
  }
}
