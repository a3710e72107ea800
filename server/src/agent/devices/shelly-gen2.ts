import { rpcResult, shellySetup, statusOf, switchSet, switchState, switchStatus, type RpcRequest, type ShellyConfig } from '../domain/devices/shelly.js';
import { takesValue } from '../domain/local-devices.js';
import { capabilitiesOf, registerLocalDeviceKind, type Outcome } from './registry.js';

/** An answer larger than this is not a Shelly's. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** One JSON-RPC call over the plug's local HTTP API. */
async function call(config: ShellyConfig, request: RpcRequest): Promise<{ ok: true; result: Record<string, unknown> } | { ok: false; error: string }> {
  const at = `${config.host}:${config.port}`;
  try {
    const response = await fetch(`http://${at}/rpc`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request), signal: AbortSignal.timeout(config.timeoutMs),
    });
    const text = await response.text();
    if (text.length > MAX_ANSWER_BYTES) return { ok: false, error: `${at} answered more than 64 KiB` };
    // A Shelly answers an RPC error with a 4xx/5xx status and the error in the body; read it either way.
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { ok: false, error: `${at} answered HTTP ${response.status} without JSON-RPC (is it a Shelly Gen2?)` };
    }
    return rpcResult(body, request);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { ok: false, error: `${at}: ${(error as Error).name === 'TimeoutError' ? 'no answer in time' : cause ?? (error as Error).message}` };
  }
}

registerLocalDeviceKind({
  name: 'shelly-gen2',
  open(device, path) {
    const setup = shellySetup(device, path);
    const { safeState } = setup;
    let requestId = 0;
    /** Switches and reads the relay back: the plug may refuse a switch under its own rules (an overpower lock). */
    const set = async (on: boolean, revertAt: { expiresAtMs: number; nowMs: number } | undefined): Promise<Outcome> => {
      const request = switchSet(setup.config, on, revertAt, ++requestId);
      const done = await call(setup.config, request);
      if (!done.ok) return done;
      const status = await call(setup.config, switchStatus(setup.config, ++requestId));
      if (!status.ok) return status;
      const { output } = statusOf(status.result, Date.now());
      if (output !== on) return { ok: false, error: `switch ${setup.config.switchId} took Switch.Set but is ${output === undefined ? 'in an unknown state' : output ? 'on' : 'off'}` };
      const timer = 'toggle_after' in request.params ? `, back after ${String(request.params.toggle_after)} s` : '';
      return { ok: true, written: [`switch ${setup.config.switchId} ${on ? 'on' : 'off'}${timer}`] };
    };
    return {
      capabilities: capabilitiesOf(device, takesValue),
      carryOut: (command, nowMs) => {
        const spec = setup.setpoints[command.kind]!;
        return set(switchState(spec, command.value), spec.revertAtExpiry ? { expiresAtMs: command.expiresAtMs, nowMs } : undefined);
      },
      safe: safeState === undefined ? undefined : () => set(safeState, undefined),
      async read(nowMs) {
        const status = await call(setup.config, switchStatus(setup.config, ++requestId));
        return status.ok ? { readings: statusOf(status.result, nowMs).readings } : { readings: [], error: status.error };
      },
    };
  },
});
