/** Schemas every capability's routes use: errors, ids, instants, exact decimals. */
import { Type, type Static, type TRef, type TSchema } from 'typebox';

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
export type ApiErrorBody = Static<typeof ErrorSchema>;

/** Standard error responses for a route's OpenAPI entry (the server registers ErrorSchema under its $id). */
export function errors<const S extends readonly number[]>(...statuses: S): { [K in S[number]]: TRef<'Error'> } {
  return Object.fromEntries(statuses.map((status) => [status, Type.Ref('Error')])) as { [K in S[number]]: TRef<'Error'> };
}

/** The answer of a route that answers nothing. */
export const NoContent = { 204: Type.Null() };

export const Uuid = Type.String({ format: 'uuid' });
export const IdParams = Type.Object({ id: Uuid });
export const IsoDateTime = Type.String({ format: 'date-time' });
/** Money and prices travel as exact decimal strings, never floats. */
export const Decimal = Type.String({ pattern: '^\\d{1,6}(\\.\\d{1,6})?$', description: 'exact decimal, e.g. "0.2450"' });

/** A device id: chosen by its maker or by provisioning, not a UUID. */
/** A device's id: 1–64 of A–Z a–z 0–9 . _ - */
export const DEVICE_ID_PATTERN = '^[A-Za-z0-9._-]{1,64}$';
export const DeviceId = Type.String({ pattern: DEVICE_ID_PATTERN });
export const DeviceParams = Type.Object({ id: DeviceId });

export const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
export const literals = <const T extends string[]>(values: readonly [...T]) => Type.Enum(values);

/**
 * A field the server fills in with its default when a caller leaves it out: required for the
 * handler (validation sets it), optional for callers (see RequestInput).
 */
export type TDefaulted<T extends TSchema> = T & { readonly default: unknown };
export function defaulted<T extends TSchema>(schema: T): TDefaulted<T> {
  if (!('default' in schema)) throw new Error('defaulted(): the schema names no default');
  return schema as TDefaulted<T>;
}
