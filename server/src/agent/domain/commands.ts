import { isLogLevel, type LogLevel } from './log-level.js';

/**
 * Commands from the platform on devices/{id}/commands. Phase 1 carries out one kind, the remote
 * log level; the checks every command passes (shape, expiry, an id seen before) are the ones
 * phase 2's set-points will pass too.
 */
export type AgentCommand = { readonly id: string; readonly type: 'set-log-level'; readonly level: LogLevel; readonly expiresAtMs: number | undefined };

export type CommandRefusal = 'malformed' | 'expired' | 'duplicate' | 'unsupported';
export type CommandCheck = { readonly ok: true; readonly command: AgentCommand } | { readonly ok: false; readonly reason: CommandRefusal; readonly id?: string | undefined; readonly message: string };

const MAX_COMMAND_BYTES = 16 * 1024;

export function checkCommand(payload: string, nowMs: number, seen: ReadonlySet<string>): CommandCheck {
  if (payload.length > MAX_COMMAND_BYTES) return { ok: false, reason: 'malformed', message: 'command larger than 16 KiB' };
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return { ok: false, reason: 'malformed', message: 'command is not JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: 'malformed', message: 'command is not an object' };
  const { id, type, expiresAt, level } = raw as Record<string, unknown>;
  if (typeof id !== 'string' || !/^[A-Za-z0-9._:-]{1,100}$/.test(id)) return { ok: false, reason: 'malformed', message: 'command id missing or not an id' };
  if (seen.has(id)) return { ok: false, reason: 'duplicate', id, message: `command ${id} was carried out before` };
  let expiresAtMs: number | undefined;
  if (expiresAt !== undefined) {
    expiresAtMs = typeof expiresAt === 'string' && /Z|[+-]\d\d:\d\d$/.test(expiresAt) ? Date.parse(expiresAt) : Number.NaN;
    if (Number.isNaN(expiresAtMs)) return { ok: false, reason: 'malformed', id, message: 'expiresAt is not an ISO instant with Z or an offset' };
    if (expiresAtMs <= nowMs) return { ok: false, reason: 'expired', id, message: `command ${id} expired at ${expiresAt}` };
  }
  if (type !== 'set-log-level') return { ok: false, reason: 'unsupported', id, message: `this agent does not carry out ${JSON.stringify(type)} commands yet` };
  if (!isLogLevel(level)) return { ok: false, reason: 'malformed', id, message: 'level must be error, warn, info or debug' };
  return { ok: true, command: { id, type, level, expiresAtMs } };
}
