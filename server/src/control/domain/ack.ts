/**
 * A device's answer on its commands, the same over MQTT (`devices/{id}/commands/ack`) and HTTP
 * (`POST /api/v1/devices/{id}/commands/ack`):
 * `{"commandId": "<uuid>", "result": "acknowledged" | "rejected", "reason"?: "…", "override"?: {"until": "<ISO>" | null}}`.
 * A device whose user overrode the plan on the device itself says so with `override` (until when,
 * null: the override ended), with or without a command to answer.
 */
import { parseUtcInstant, DATE_RANGE_TEXT } from '../../kernel/time.js';
import type { AckResult } from './commands.js';

export interface AckMessage {
  readonly answer: { readonly commandId: string; readonly result: AckResult; readonly reason: string | null } | undefined;
  readonly override: { readonly untilMs: number | null } | undefined;
}

/** Why a message is not an acknowledgement: the first problem found, naming the field. */
export class AckRefused extends Error {
  constructor(message: string, readonly field: string) {
    super(message);
  }
}

export const ACK_MAX_BYTES = 4_096;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEYS = ['commandId', 'result', 'reason', 'override'];

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Parses the bytes of an MQTT acknowledgement. */
export function parseAckPayload(payload: Uint8Array): AckMessage {
  if (payload.byteLength > ACK_MAX_BYTES) throw new AckRefused(`an acknowledgement has at most ${ACK_MAX_BYTES} bytes, this one ${payload.byteLength}`, 'message');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch (error) {
    throw new AckRefused(`malformed JSON: ${(error as Error).message}`, 'message');
  }
  return validateAck(parsed);
}

/** The same checks for a body that is already parsed (HTTP). */
export function validateAck(value: unknown): AckMessage {
  if (!isRecord(value)) throw new AckRefused('an acknowledgement is an object {"commandId", "result", "reason"?, "override"?}', 'message');
  const unknown = Object.keys(value).find((key) => !KEYS.includes(key));
  if (unknown !== undefined) throw new AckRefused(`${unknown}: unknown field`, unknown);
  const { commandId, result, reason, override } = value;
  if (commandId === undefined && override === undefined) throw new AckRefused('give commandId (with result), override, or both', 'commandId');
  let answer: AckMessage['answer'];
  if (commandId !== undefined || result !== undefined || reason !== undefined) {
    if (typeof commandId !== 'string' || !UUID.test(commandId)) throw new AckRefused('commandId must be the id (a UUID) of a command this device was given', 'commandId');
    if (result !== 'acknowledged' && result !== 'rejected') throw new AckRefused('result must be "acknowledged" or "rejected"', 'result');
    if (reason !== undefined && (typeof reason !== 'string' || reason.length > 500 || reason.includes('\u0000'))) {
      throw new AckRefused('reason must be a text of at most 500 characters', 'reason');
    }
    answer = { commandId: commandId.toLowerCase(), result, reason: reason ?? null };
  }
  return { answer, override: override === undefined ? undefined : parseOverride(override) };
}

function parseOverride(value: unknown): { untilMs: number | null } {
  if (!isRecord(value) || Object.keys(value).some((key) => key !== 'until') || !('until' in value)) {
    throw new AckRefused('override must be {"until": "<ISO instant>" | null}', 'override');
  }
  if (value.until === null) return { untilMs: null };
  const untilMs = typeof value.until === 'string' ? parseUtcInstant(value.until) : undefined;
  if (untilMs === undefined) throw new AckRefused(`override.until must be a UTC instant (e.g. 2026-05-01T18:00:00Z) ${DATE_RANGE_TEXT}, or null`, 'override/until');
  return { untilMs };
}
