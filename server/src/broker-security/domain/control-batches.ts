/**
 * How many dynamic-security commands go in one control message. Mosquitto 2.0's plugin rewrites
 * its whole configuration file after every command that changes it, so a command costs time in
 * proportion to the clients already registered (bench/RESULTS.md, "Registering devices with
 * Mosquitto's dynamic security"): a fixed 200 commands per message took longer than the answer
 * timeout after a few thousand clients. The next message is sized from the last one's pace so
 * that each is answered in about `TARGET_MESSAGE_MS`, well inside the timeout, whatever the
 * broker's size; a fast broker (Mosquitto 2.1 saves once per message) keeps the maximum.
 */
export const MAX_COMMANDS_PER_MESSAGE = 200;
export const TARGET_MESSAGE_MS = 2_000;

export function nextMessageSize(commandsSent: number, elapsedMs: number): number {
  if (!(commandsSent > 0) || !Number.isFinite(elapsedMs) || elapsedMs <= 0) return MAX_COMMANDS_PER_MESSAGE;
  const perCommandMs = elapsedMs / commandsSent;
  return Math.max(1, Math.min(MAX_COMMANDS_PER_MESSAGE, Math.floor(TARGET_MESSAGE_MS / perCommandMs)));
}
