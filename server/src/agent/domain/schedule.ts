import { COMMAND_KINDS } from '@gridshare/contract/control';
import type { SetpointCommand } from './commands.js';
import type { ControlMode } from './fallback.js';

/**
 * What the agent has to do later: a command accepted before its `validFrom` is carried out
 * then, and a set-point a device would keep forever is reverted when it expires. The list lives
 * in the queue file's `meta` (written before the command is answered), so a restart — also
 * after `kill -9` or a power cut — does what was due while the agent was gone, and the rest on
 * time. An action is removed only once done, so a crash in between repeats it (writing a
 * register twice with the same value), never skips it.
 */
export interface ScheduledAction {
  readonly atMs: number;
  readonly action: 'carry-out' | 'revert';
  readonly command: SetpointCommand;
}

/** Adds an action, keeping the list in time order. */
export function withAction(list: readonly ScheduledAction[], item: ScheduledAction): ScheduledAction[] {
  return [...list, item].sort((a, b) => a.atMs - b.atMs);
}

/** A command of `kind` issued at `issuedAtMs` takes over: what earlier commands of its kind left to do goes. */
export function superseded(list: readonly ScheduledAction[], kind: SetpointCommand['kind'], issuedAtMs: number): ScheduledAction[] {
  return list.filter((item) => item.command.kind !== kind || item.command.issuedAtMs >= issuedAtMs);
}

export function withoutAction(list: readonly ScheduledAction[], item: ScheduledAction): ScheduledAction[] {
  return list.filter((other) => other !== item);
}

export const dueActions = (list: readonly ScheduledAction[], nowMs: number): ScheduledAction[] => list.filter((item) => item.atMs <= nowMs);

/**
 * Whether a due action is still wanted: not when a later command of its kind came, nor in the
 * safe state (which wrote the device's safe values already and keeps out commands), nor a
 * command that expired before it could be carried out (the agent was down the whole time).
 */
export function stillWanted(item: ScheduledAction, nowMs: number, mode: ControlMode, latestIssuedMs: number | undefined): { readonly run: true } | { readonly run: false; readonly why: string } {
  const { command } = item;
  if (latestIssuedMs !== command.issuedAtMs) return { run: false, why: `a later ${command.kind} command came` };
  if (mode === 'safe') return { run: false, why: 'the devices are in their safe state' };
  if (item.action === 'carry-out' && nowMs >= command.expiresAtMs) return { run: false, why: 'it expired before it could be carried out' };
  return { run: true };
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The list as stored; an entry that is not one (a file from elsewhere) is left out. */
export function parseSchedule(text: string | undefined): ScheduledAction[] {
  if (text === undefined) return [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  return raw.filter((item): item is ScheduledAction => {
    if (typeof item !== 'object' || item === null) return false;
    const { atMs, action, command } = item as Record<string, unknown>;
    if (!isNumber(atMs) || (action !== 'carry-out' && action !== 'revert') || typeof command !== 'object' || command === null) return false;
    const c = command as Record<string, unknown>;
    return typeof c.id === 'string' && c.type === 'setpoint' && (COMMAND_KINDS as readonly unknown[]).includes(c.kind)
      && (c.value === null || isNumber(c.value)) && isNumber(c.validFromMs) && isNumber(c.expiresAtMs) && isNumber(c.issuedAtMs);
  }).sort((a, b) => a.atMs - b.atMs);
}
