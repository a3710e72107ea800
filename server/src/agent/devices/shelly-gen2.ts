import { randomBytes } from 'node:crypto';
import { digestAuthorization, parseDigestChallenge, type DigestChallenge } from '../domain/devices/digest.js';
import { rpcResult, SHELLY_USER, shellySetup, statusOf, switchSet, switchState, switchStatus, type RpcRequest, type ShellyConfig } from '../domain/devices/shelly.js';
import { takesValue } from '../domain/local-devices.js';
import { capabilitiesOf, registerLocalDeviceKind, type Outcome } from './registry.js';

/** An answer larger than this is not a Shelly's. */
const MAX_ANSWER_BYTES = 64 * 1024;

type CallResult = { ok: true; result: Record<string, unknown> } | { ok: false; error: string };

/** The plug's latest digest challenge and how many requests it signed (its nonce is reused until the plug refuses it). */
interface DigestState { challenge: DigestChallenge | undefined; nc: number }

function authorization(config: ShellyConfig, digest: DigestState): string | undefined {
  if (!digest.challenge || config.password === undefined) return undefined;
  digest.nc += 1;
  return digestAuthorization(digest.challenge, { username: SHELLY_USER, password: config.password, method: 'POST', uri: '/rpc', cnonce: randomBytes(12).toString('hex'), nc: digest.nc });
}

/**
 * One JSON-RPC call over the plug's local HTTP API. A 401 takes the plug's new challenge and
 * the call is sent once more with it (a first call, or a nonce the plug no longer takes); a
 * second 401 is a wrong password.
 */
async function call(config: ShellyConfig, digest: DigestState, request: RpcRequest): Promise<CallResult> {
  const at = `${config.host}:${config.port}`;
  try {
    for (let attempt = 0; ; attempt++) {
      const signed = authorization(config, digest);
      const response = await fetch(`http://${at}/rpc`, {
        method: 'POST', body: JSON.stringify(request), signal: AbortSignal.timeout(config.timeoutMs),
        headers: { 'content-type': 'application/json', ...(signed === undefined ? {} : { authorization: signed }) },
      });
      const text = await response.text();
      if (text.length > MAX_ANSWER_BYTES) return { ok: false, error: `${at} answered more than 64 KiB` };
      if (response.status === 401) {
        if (config.password === undefined) return { ok: false, error: `${at} asks for a password: set config.password to the one set on the plug` };
        if (attempt > 0) return { ok: false, error: `${at} refused the password (user ${SHELLY_USER})` };
        const challenge = parseDigestChallenge(response.headers.get('www-authenticate'));
        if ('problem' in challenge) return { ok: false, error: `${at} ${challenge.problem}` };
        digest.challenge = challenge;
        digest.nc = 0;
        continue;
      }
      // A Shelly answers an RPC error with a 4xx/5xx status and the error in the body; read it either way.
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return { ok: false, error: `${at} answered HTTP ${response.status} without JSON-RPC (is it a Shelly Gen2?)` };
      }
      return rpcResult(body, request);
    }
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
    const digest: DigestState = { challenge: undefined, nc: 0 };
    /** Switches and reads the relay back: the plug may refuse a switch under its own rules (an overpower lock). */
    const set = async (on: boolean, revertAt: { expiresAtMs: number; nowMs: number } | undefined): Promise<Outcome> => {
      const request = switchSet(setup.config, on, revertAt, ++requestId);
      const done = await call(setup.config, digest, request);
      if (!done.ok) return done;
      const status = await call(setup.config, digest, switchStatus(setup.config, ++requestId));
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
        const status = await call(setup.config, digest, switchStatus(setup.config, ++requestId));
        return status.ok ? { readings: statusOf(status.result, nowMs).readings } : { readings: [], error: status.error };
      },
    };
  },
});
