import type { CommandKind } from '@gridshare/contract/control';
import type { Reading } from '../../../kernel/quantities.js';
import { fail, finite, int, isObject, secondsUntil, takesValue, type LocalDevice } from '../local-devices.js';

/**
 * `shelly-gen2`: a Shelly Gen2/Gen3 smart plug or relay switched over its local RPC
 * (`POST http://<host>/rpc`, `Switch.Set` / `Switch.GetStatus`; no cloud). Per command kind the
 * switch goes `on` or off (`appliance-start`: on, `heat-pump-block`: off by default); a kind
 * with a value switches on when the value is at least `onAtLeastW`. With `revertAtExpiry` (the
 * default except for a start, which must not cut a running program) the plug's own timer
 * (`toggle_after`) switches it back when the command expires, so it does so without the agent.
 * The safe state is `{ "on": true|false }`. A plug with a password set on it (`config.password`)
 * is answered with digest authentication (`digest.ts`, user `admin` as every Gen2 has it).
 */
export interface ShellyConfig { readonly host: string; readonly port: number; readonly switchId: number; readonly timeoutMs: number; readonly password: string | undefined }
export interface ShellySwitch { readonly on: boolean | undefined; readonly onAtLeastW: number | undefined; readonly revertAtExpiry: boolean }
export interface ShellySetup {
  readonly config: ShellyConfig;
  readonly setpoints: Readonly<Partial<Record<CommandKind, ShellySwitch>>>;
  readonly safeState: boolean | undefined;
}

/** A JSON-RPC 2.0 request as a Shelly Gen2 takes it. */
export interface RpcRequest { readonly id: number; readonly method: 'Switch.Set' | 'Switch.GetStatus'; readonly params: Readonly<Record<string, number | boolean>> }

/** The user a Shelly Gen2 takes a password for: there is no other. */
export const SHELLY_USER = 'admin';

/** Shelly's toggle_after is a number of seconds; a day is more than any command of control lasts. */
const MAX_TOGGLE_S = 86_400;
const HOST = /^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]{2,45}\]$/;

function boolean(value: unknown, path: string, otherwise: boolean | undefined): boolean | undefined {
  if (value === undefined) return otherwise;
  if (typeof value !== 'boolean') fail(path, 'must be true or false');
  return value;
}

/** A Shelly takes passwords of up to 64 characters (the web UI's limit). */
function password(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) fail(path, 'must be the password set on the plug (1 to 64 characters)');
  return value;
}

export function shellySetup(device: LocalDevice, path: string): ShellySetup {
  const raw = device.config;
  if (typeof raw.host !== 'string' || !HOST.test(raw.host)) fail(`${path}/config/host`, 'must be the plug\'s host name or IP address');
  const config: ShellyConfig = {
    host: raw.host,
    port: raw.port === undefined ? 80 : int(raw.port, `${path}/config/port`, 1, 65_535),
    switchId: raw.switchId === undefined ? 0 : int(raw.switchId, `${path}/config/switchId`, 0, 15),
    timeoutMs: raw.timeoutMs === undefined ? 5_000 : int(raw.timeoutMs, `${path}/config/timeoutMs`, 100, 60_000),
    password: password(raw.password, `${path}/config/password`),
  };
  const setpoints: Partial<Record<CommandKind, ShellySwitch>> = {};
  for (const [kind, setpoint] of Object.entries(device.setpoints) as [CommandKind, { spec: Record<string, unknown> }][]) {
    const at = `${path}/setpoints/${kind}`;
    const { spec } = setpoint;
    const on = takesValue(kind) ? undefined : boolean(spec.on, `${at}/on`, kind !== 'heat-pump-block');
    const onAtLeastW = takesValue(kind) ? (spec.onAtLeastW === undefined ? 1 : finite(spec.onAtLeastW, `${at}/onAtLeastW`)) : undefined;
    setpoints[kind] = { on, onAtLeastW, revertAtExpiry: boolean(spec.revertAtExpiry, `${at}/revertAtExpiry`, kind !== 'appliance-start')! };
  }
  let safeState: boolean | undefined;
  if (device.safeState !== undefined) {
    if (!isObject(device.safeState)) fail(`${path}/safeState`, 'must be {"on": true|false}');
    safeState = boolean(device.safeState.on, `${path}/safeState/on`, undefined);
    if (safeState === undefined) fail(`${path}/safeState/on`, 'must be true or false');
  }
  return { config, setpoints, safeState };
}

/** The switch state a command asks for. */
export function switchState(spec: ShellySwitch, value: number | null): boolean {
  return spec.on ?? (value !== null && value >= (spec.onAtLeastW ?? 1));
}

/** `Switch.Set` for a command (with the plug's own timer back at expiry) or for the safe state (`expiresAtMs` undefined). */
export function switchSet(config: ShellyConfig, on: boolean, revertAt: { expiresAtMs: number; nowMs: number } | undefined, id: number): RpcRequest {
  return {
    id, method: 'Switch.Set',
    params: { id: config.switchId, on, ...(revertAt ? { toggle_after: secondsUntil(revertAt.expiresAtMs, revertAt.nowMs, MAX_TOGGLE_S) } : {}) },
  };
}

export const switchStatus = (config: ShellyConfig, id: number): RpcRequest => ({ id, method: 'Switch.GetStatus', params: { id: config.switchId } });

/** A JSON-RPC answer: its result, or the plug's error as text. */
export function rpcResult(body: unknown, request: RpcRequest): { ok: true; result: Record<string, unknown> } | { ok: false; error: string } {
  if (!isObject(body)) return { ok: false, error: 'the plug did not answer JSON-RPC' };
  if (isObject(body.error)) return { ok: false, error: `${request.method}: ${String(body.error.message ?? 'error')} (${String(body.error.code ?? '?')})` };
  if (body.id !== request.id || !isObject(body.result)) return { ok: false, error: `${request.method}: not an answer to this request` };
  return { ok: true, result: body.result };
}

/** What `Switch.GetStatus` says: the relay's state, and power and energy where the plug meters. */
export function statusOf(result: Record<string, unknown>, nowMs: number): { output: boolean | undefined; readings: Reading[] } {
  const ts = new Date(nowMs).toISOString();
  const readings: Reading[] = [];
  if (typeof result.apower === 'number' && Number.isFinite(result.apower)) readings.push({ ts, quantity: 'power.import', value: Math.max(0, result.apower), unit: 'W' });
  const total = isObject(result.aenergy) ? result.aenergy.total : undefined;
  if (typeof total === 'number' && Number.isFinite(total) && total >= 0) readings.push({ ts, quantity: 'energy.import', value: total, unit: 'Wh' });
  return { output: typeof result.output === 'boolean' ? result.output : undefined, readings };
}
