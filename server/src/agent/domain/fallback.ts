/**
 * The safe fallback: when nothing got through to the platform (no MQTT connection, no HTTP
 * answer) for longer than `fallbackAfterSeconds`, the agent stops following commands and puts
 * each local device into its safe state; once the platform answers again it follows commands.
 */
export type ControlMode = 'following' | 'safe';

export function controlMode(lastContactMs: number, nowMs: number, fallbackAfterSeconds: number): ControlMode {
  return nowMs - lastContactMs > fallbackAfterSeconds * 1000 ? 'safe' : 'following';
}
