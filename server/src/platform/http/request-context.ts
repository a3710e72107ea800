import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyRequest } from 'fastify';
import type { ResolvedPrincipal } from '../../kernel/principal.js';

/** Who made the request being handled and from where (the audit trail records it with each change). */
export interface RequestOrigin {
  readonly principal: ResolvedPrincipal;
  readonly clientAddress: string;
  readonly userAgent: string | null;
  readonly requestId: string;
}

const current = new AsyncLocalStorage<FastifyRequest>();

/**
 * An onRequest hook (registered first) that makes the request reachable from everything its
 * handler awaits, so a service deep down can say who changed something without every signature
 * carrying the request.
 */
export function trackRequest(request: FastifyRequest, _reply: unknown, done: () => void): void {
  current.run(request, done);
}

/** The request being handled, or undefined outside one (jobs, the CLI, start-up). */
export function currentRequestOrigin(): RequestOrigin | undefined {
  const request = current.getStore();
  if (!request) return undefined;
  const agent = request.headers['user-agent'];
  return {
    // The principal hook runs after this one; until then the caller counts as anonymous.
    principal: request.principal ?? { kind: 'anonymous' },
    clientAddress: request.ip,
    userAgent: typeof agent === 'string' ? agent.slice(0, 500) : null,
    requestId: request.id,
  };
}
