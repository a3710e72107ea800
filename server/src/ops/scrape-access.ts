import { createHash } from 'node:crypto';
import type { Credentials, ResolvedPrincipal } from '../kernel/principal.js';

/** One token per Prometheus server scraping this process, typically: a few are plenty. */
const REMEMBERED_TOKENS = 8;

/**
 * Who may scrape `/metrics`. Telling a valid API token from a revoked one takes the database, yet
 * Prometheus must still scrape while the database is down, or no alert about it could fire. So the
 * platform admins' bearer tokens this process verified for `/metrics` are remembered (their SHA-256,
 * the last few) and let in to `/metrics` alone, and only while the database does not answer. Nobody
 * can revoke a token while the database is down, and once it answers every token is checked there again.
 */
export class ScrapeAccess {
  private readonly verified = new Map<string, ResolvedPrincipal>();

  constructor(private readonly options: {
    resolvePrincipal(credentials: Credentials): Promise<ResolvedPrincipal>;
    databaseAnswers(): Promise<boolean>;
  }) {}

  async principal(credentials: Credentials): Promise<ResolvedPrincipal> {
    const key = credentials.bearerToken ? createHash('sha256').update(credentials.bearerToken).digest('hex') : undefined;
    try {
      const principal = await this.options.resolvePrincipal(credentials);
      if (key !== undefined) this.remember(key, principal);
      return principal;
    } catch (error) {
      const remembered = key === undefined ? undefined : this.verified.get(key);
      if (remembered === undefined || await this.options.databaseAnswers()) throw error;
      return remembered;
    }
  }

  private remember(key: string, principal: ResolvedPrincipal): void {
    this.verified.delete(key);
    if (principal.kind !== 'user' || !principal.isAdmin) return;
    this.verified.set(key, principal);
    const oldest = this.verified.keys().next();
    if (this.verified.size > REMEMBERED_TOKENS && !oldest.done) this.verified.delete(oldest.value);
  }
}
