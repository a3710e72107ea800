/**
 * The life of a command to a device, without I/O: its states and the transitions between them,
 * which commands a newer one supersedes, what a device may still be given, and how a device's
 * acknowledgement changes a command. Instants are epoch milliseconds passed in.
 */
import type { PlanCommandKind } from '../../kernel/events.js';

export const COMMAND_KINDS = ['battery-power', 'ev-charge-power', 'heat-pump-power', 'heat-pump-block', 'appliance-start', 'pv-limit'] as const satisfies readonly PlanCommandKind[];
export type CommandKind = (typeof COMMAND_KINDS)[number];

export const COMMAND_STATES = ['queued', 'sent', 'acknowledged', 'rejected', 'expired', 'superseded'] as const;
export type CommandState = (typeof COMMAND_STATES)[number];

/** Still waiting for the device: may be delivered, acknowledged, expire or be superseded. */
export const isOpen = (state: CommandState): boolean => state === 'queued' || state === 'sent';

/** What a command's state machine needs of it. */
export interface CommandFacts {
  readonly id: string;
  readonly deviceId: string;
  readonly kind: CommandKind;
  readonly state: CommandState;
  /** When the plan decided it or the person issued it: orders commands of one device and kind. */
  readonly issuedAtMs: number;
  readonly validFromMs: number;
  readonly expiresAtMs: number;
}

/** A command is over at its expiry instant: it is never delivered or applied from then on. */
export const isExpired = (command: Pick<CommandFacts, 'expiresAtMs'>, nowMs: number): boolean => nowMs >= command.expiresAtMs;

/**
 * Orders commands of one device and kind by issue: the later issue wins. Commands of one issue (a
 * plan's setpoints for its next steps, each valid for its own step) do not replace each other.
 */
export const isNewer = (a: Pick<CommandFacts, 'issuedAtMs'>, b: Pick<CommandFacts, 'issuedAtMs'>): boolean => a.issuedAtMs > b.issuedAtMs;

/**
 * A new command for a device and kind meets the commands already there (same device and kind):
 * the open ones it is newer than are superseded by it; and it is superseded itself at once by the
 * newest one already there (open or applied) that is newer, e.g. when an older plan's event arrives late.
 */
export function supersession(incoming: CommandFacts, existing: readonly CommandFacts[]): { supersede: string[]; supersededBy: string | undefined } {
  const same = existing.filter((c) => c.deviceId === incoming.deviceId && c.kind === incoming.kind && c.id !== incoming.id);
  const newer = same.filter((c) => (isOpen(c.state) || c.state === 'acknowledged') && isNewer(c, incoming));
  return {
    supersede: same.filter((c) => isOpen(c.state) && isNewer(incoming, c)).map((c) => c.id),
    supersededBy: newer.reduce<CommandFacts | undefined>((best, c) => (best && isNewer(best, c) ? best : c), undefined)?.id,
  };
}

/** What a device may be given now: its open, unexpired commands, oldest issue first, then by valid-from. */
export const deliverable = <C extends CommandFacts>(commands: readonly C[], nowMs: number): C[] =>
  commands.filter((c) => isOpen(c.state) && !isExpired(c, nowMs)).sort((a, b) => a.issuedAtMs - b.issuedAtMs || a.validFromMs - b.validFromMs);

export type AckResult = 'acknowledged' | 'rejected';

/** How an acknowledgement changes a command. */
export type AckOutcome =
  | { readonly kind: 'apply'; readonly state: AckResult }
  /** Nothing changes: the command already has its final state (a repeated ack, a late one after expiry or a successor). */
  | { readonly kind: 'unchanged'; readonly state: CommandState };

/**
 * An acknowledgement from the device the command is for (the caller checked that). An open command
 * takes the device's answer unless it has expired meanwhile (then it expires: it must not count as
 * applied); a closed one keeps its state, so repeating an acknowledgement changes nothing.
 */
export function acknowledge(command: CommandFacts, result: AckResult, nowMs: number): AckOutcome | { readonly kind: 'expire' } {
  if (!isOpen(command.state)) return { kind: 'unchanged', state: command.state };
  if (isExpired(command, nowMs)) return { kind: 'expire' };
  return { kind: 'apply', state: result };
}

/** The device kinds a command kind is meant for. */
export const DEVICE_KINDS_OF: Readonly<Record<CommandKind, readonly string[]>> = {
  'battery-power': ['battery'],
  'ev-charge-power': ['ev-charger'],
  'heat-pump-power': ['heat-pump'],
  'heat-pump-block': ['heat-pump'],
  'appliance-start': ['smart-plug'],
  'pv-limit': ['inverter'],
};

/** Whole watts; a battery's may be negative (discharge). */
const MAX_POWER_W = 1_000_000;

/** Why `value` is not a value of a command of `kind` (null where the kind takes none), or undefined when it is one. */
export function valueProblem(kind: CommandKind, value: number | null): string | undefined {
  if (kind === 'heat-pump-block' || kind === 'appliance-start') return value === null ? undefined : `${kind} takes no value (null)`;
  if (value === null || !Number.isInteger(value)) return `${kind} takes a whole number of watts`;
  const min = kind === 'battery-power' ? -MAX_POWER_W : 0;
  if (value < min || value > MAX_POWER_W) return `${kind} must lie between ${min} and ${MAX_POWER_W} W`;
  return undefined;
}
