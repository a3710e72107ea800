import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import type { ResolvedPrincipal } from '../../kernel/principal.js';

/** The Fastify instance every capability registers its routes on. */
export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

declare module 'fastify' {
  interface FastifyRequest {
    principal: ResolvedPrincipal;
  }
}

export const ErrorSchema = Type.Object(
  {
    error: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String({ description: 'finer machine-readable cause where a route documents one, e.g. why an EDA message was refused' })),
    quota: Type.Optional(Type.String({ description: 'with reason quota_exceeded: the limit that refused the request, e.g. devicesPerCommunity' })),
  },
  { $id: 'Error', description: 'Every error: a machine-readable code and a human-readable message' },
);

/** Standard error responses for a route's OpenAPI entry. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((status) => [status, Type.Ref('Error')]));
}

export const Uuid = Type.String({ format: 'uuid' });
export const IdParams = Type.Object({ id: Uuid });
export const IsoDateTime = Type.String({ format: 'date-time' });
/** Money and prices travel as exact decimal strings, never floats. */
export const Decimal = Type.String({ pattern: '^\\d{1,6}(\\.\\d{1,6})?$', description: 'exact decimal, e.g. "0.2450"' });
