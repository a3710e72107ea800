/**
 * How much a broker must hold for Gridshare while none of its processes consumes (a restart, an
 * upgrade, a database failover). Messages for a disconnected MQTT 5 session wait in that session's
 * queue; a shared subscription spreads them over the group's sessions, so each holds its share.
 */
export interface OutageSizing {
  /** Readings per second all devices send together. */
  readonly messagesPerSecond: number;
  /** The longest time no Gridshare process consumes. */
  readonly outageSeconds: number;
  /** Consumer sessions in the shared-subscription group (connections per process × processes). */
  readonly sessions: number;
}

/** Messages one consumer session must be able to queue (Mosquitto's max_queued_messages). */
export function queuedMessagesPerSession(sizing: OutageSizing): number {
  if (!(sizing.messagesPerSecond > 0 && sizing.outageSeconds > 0 && sizing.sessions >= 1)) throw new RangeError('rate, outage and sessions must be positive');
  return Math.ceil((sizing.messagesPerSecond * sizing.outageSeconds) / Math.floor(sizing.sessions));
}
