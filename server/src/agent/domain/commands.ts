import { COMMAND_KINDS, type CommandKind } from '@gridshare/contract/control';
import { isLogLevel, type LogLevel } from './log-level.js';

/**
 * Commands from the platform on devices/{id}/commands (or polled over HTTP): the set-points of
 * control/ (`{id, kind, value, validFrom, expiresAt, issuedAt}`, contract/src/control.ts), and the
 * agent's own remote log level (`{id, type: 'set-log-level', level, expiresAt?}`). Every command
 * passes the same checks: shape, expiry, an id seen before; a set-point also the device's
 * capability, the limits and its order among commands of its kind.
 */
export interface LogLevelCommand { readonly id: string; readonly type: 'set-log-level'; readonly level: LogLevel; readonly expiresAtMs: number | undefined }

/** Bounds of a set-point's value (W), from the command (the member's limits) or the agent's setup. */
export interface ValueLimits { readonly min?: number | undefined; readonly max?: number | undefined }

export interface SetpointCommand {
  readonly id: string;
  readonly type: 'setpoint';
  readonly kind: CommandKind;
  readonly value: number | null;
  readonly validFromMs: number;
  readonly expiresAtMs: number;
  readonly issuedAtMs: number;
  readonly limits: ValueLimits | undefined;
}

export type AgentCommand = LogLevelCommand | SetpointCommand;

export type CommandRefusal = 'malformed' | 'expired' | 'duplicate' | 'unsupported' | 'limit' | 'superseded';
export type CommandCheck = { readonly ok: true; readonly command: AgentCommand } | { readonly ok: false; readonly reason: CommandRefusal; readonly id?: string | undefined; readonly message: string };

const MAX_COMMAND_BYTES = 16 * 1024;
const ID = /^[A-Za-z0-9._:-]{1,100}$/;
const INSTANT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$/;
const MAX_VALUE = 10_000_000;

function instant(value: unknown): number {
  return typeof value === 'string' && INSTANT.test(value) ? Date.parse(value) : Number.NaN;
}

export function checkCommand(payload: string, nowMs: number, seen: ReadonlySet<string>): CommandCheck {
  if (payload.length > MAX_COMMAND_BYTES) return { ok: false, reason: 'malformed', message: 'command larger than 16 KiB' };
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return { ok: false, reason: 'malformed', message: 'command is not JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: 'malformed', message: 'command is not an object' };
  const fields = raw as Record<string, unknown>;
  const { id, type, expiresAt } = fields;
  if (typeof id !== 'string' || !ID.test(id)) return { ok: false, reason: 'malformed', message: 'command id missing or not an id' };
  if (seen.has(id)) return { ok: false, reason: 'duplicate', id, message: `command ${id} was answered before` };
  let expiresAtMs: number | undefined;
  if (expiresAt !== undefined) {
    expiresAtMs = instant(expiresAt);
    if (Number.isNaN(expiresAtMs)) return { ok: false, reason: 'malformed', id, message: 'expiresAt is not an ISO instant with Z or an offset' };
    if (expiresAtMs <= nowMs) return { ok: false, reason: 'expired', id, message: `command ${id} expired at ${expiresAt as string}` };
  }
  if (type === 'set-log-level') {
    if (!isLogLevel(fields.level)) return { ok: false, reason: 'malformed', id, message: 'level must be error, warn, info or debug' };
    return { ok: true, command: { id, type, level: fields.level, expiresAtMs } };
  }
  if (type !== undefined) return { ok: false, reason: 'unsupported', id, message: `this agent does not carry out ${JSON.stringify(type)} commands` };
  return setpoint(id, fields, expiresAtMs);
}

function setpoint(id: string, fields: Record<string, unknown>, expiresAtMs: number | undefined): CommandCheck {
  const { kind, value, validFrom, issuedAt, limits } = fields;
  const malformed = (message: string): CommandCheck => ({ ok: false, reason: 'malformed', id, message });
  if (!(COMMAND_KINDS as readonly unknown[]).includes(kind)) return { ok: false, reason: 'unsupported', id, message: `unknown command kind ${JSON.stringify(kind)}` };
  if (expiresAtMs === undefined) return malformed('expiresAt is required');
  if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) > MAX_VALUE)) return malformed('value must be a whole number of W (at most 10 MW) or null');
  const validFromMs = instant(validFrom);
  const issuedAtMs = instant(issuedAt);
  if (Number.isNaN(validFromMs)) return malformed('validFrom is not an ISO instant with Z or an offset');
  if (Number.isNaN(issuedAtMs)) return malformed('issuedAt is not an ISO instant with Z or an offset');
  if (validFromMs >= expiresAtMs) return malformed('validFrom is not before expiresAt');
  let parsedLimits: ValueLimits | undefined;
  if (limits !== undefined && limits !== null) {
    if (typeof limits !== 'object' || Array.isArray(limits)) return malformed('limits must be {min?, max?}');
    const { min, max } = limits as Record<string, unknown>;
    for (const bound of [min, max]) if (bound !== undefined && (typeof bound !== 'number' || !Number.isFinite(bound))) return malformed('limits.min and limits.max must be numbers');
    parsedLimits = { min: min as number | undefined, max: max as number | undefined };
  }
  return { ok: true, command: { id, type: 'setpoint', kind: kind as CommandKind, value: value as number | null, validFromMs, expiresAtMs, issuedAtMs, limits: parsedLimits } };
}

/** What the agent knows about one command kind: it can carry it out, and its own bounds. */
export interface KindCapability { readonly limits: ValueLimits | undefined; readonly takesValue: boolean }

/**
 * Whether a well-formed set-point may be carried out here: a local device takes its kind, its
 * value is within both the agent's bounds and the member's (sent with the command), and no
 * command of its kind issued later was carried out already.
 */
export function admitSetpoint(command: SetpointCommand, capability: KindCapability | undefined, latestIssuedAtMs: number | undefined): CommandCheck {
  const refuse = (reason: CommandRefusal, message: string): CommandCheck => ({ ok: false, reason, id: command.id, message });
  if (!capability) return refuse('unsupported', `no local device here takes ${command.kind} commands`);
  if (capability.takesValue && command.value === null) return refuse('malformed', `${command.kind} needs a value`);
  if (latestIssuedAtMs !== undefined && command.issuedAtMs < latestIssuedAtMs) return refuse('superseded', `a ${command.kind} command issued later was carried out already`);
  if (command.value !== null) {
    for (const [who, limits] of [['the device', capability.limits], ['the member', command.limits]] as const) {
      if (limits?.min !== undefined && command.value < limits.min) return refuse('limit', `${command.value} W is below ${who}'s limit of ${limits.min} W`);
      if (limits?.max !== undefined && command.value > limits.max) return refuse('limit', `${command.value} W is above ${who}'s limit of ${limits.max} W`);
    }
  }
  return { ok: true, command };
}

/** The answer on devices/{id}/commands/ack (control/domain/ack.ts reads it). */
export interface CommandAnswer { readonly commandId: string; readonly result: 'acknowledged' | 'rejected'; readonly reason?: string | undefined }

export function answerOf(check: CommandCheck): CommandAnswer | undefined {
  if (check.ok) return { commandId: check.command.id, result: 'acknowledged' };
  // A command without a readable id cannot be answered; a duplicate is answered as the first time.
  if (check.id === undefined || check.reason === 'duplicate') return undefined;
  return { commandId: check.id, result: 'rejected', reason: `${check.reason}: ${check.message}`.slice(0, 500) };
}
