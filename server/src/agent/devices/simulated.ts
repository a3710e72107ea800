import { DEMO_MODELS, MODEL_KINDS, newDevice, receive, step, type ControlledDevice } from '../../simulator/index.js';
import type { Reading } from '../../kernel/quantities.js';
import { fail, takesValue } from '../domain/local-devices.js';
import { capabilitiesOf, registerLocalDeviceKind } from './registry.js';

type ModelName = keyof typeof DEMO_MODELS;
const MODELS = Object.keys(DEMO_MODELS) as ModelName[];

/**
 * `simulated`: one of the simulator's devices that follow commands (a home battery, an EV
 * charger, a heat pump with its tank, a washing machine on a plug), run inside the agent as if
 * it were on the LAN: commands go to its model, its readings are read every `intervalSeconds`.
 * The demo's household 1 runs its devices so, which puts the agent's command path under every
 * `npm start`. The safe state (`"safeState": "own-behaviour"`) drops the commands it has: each
 * device then does what it does on its own (the battery rests, the charger charges, the heat pump
 * keeps its tank warm).
 */
registerLocalDeviceKind({
  name: 'simulated',
  open(device, path) {
    const model = device.config.model;
    if (typeof model !== 'string' || !(MODELS as readonly string[]).includes(model)) fail(`${path}/config/model`, `must be one of ${MODELS.join(', ')}`);
    const name = model as ModelName;
    for (const kind of Object.keys(device.setpoints)) {
      if (!(MODEL_KINDS[name] as readonly string[]).includes(kind)) fail(`${path}/setpoints/${kind}`, `a simulated ${name} takes ${MODEL_KINDS[name].join(', ')}`);
    }
    if (device.safeState !== undefined && device.safeState !== 'own-behaviour') fail(`${path}/safeState`, 'must be "own-behaviour" or absent');
    let state: ControlledDevice = newDevice(DEMO_MODELS[name]);
    let lastMs: number | undefined;
    return {
      capabilities: capabilitiesOf(device, takesValue),
      carryOut(command, nowMs) {
        const outcome = receive(state, command, nowMs);
        state = outcome.device;
        return Promise.resolve(outcome.answer.result === 'acknowledged'
          ? { ok: true, written: [`${command.kind} ${command.value ?? ''}`.trim()] }
          : { ok: false, error: outcome.answer.reason ?? 'refused' });
      },
      safe: device.safeState === undefined ? undefined : () => {
        state = { ...state, commands: [] };
        return Promise.resolve({ ok: true, written: ['own behaviour'] });
      },
      read(nowMs) {
        const from = lastMs ?? nowMs;
        lastMs = nowMs;
        const result = step(state, from, nowMs - from);
        state = result.device;
        const ts = new Date(nowMs).toISOString();
        return Promise.resolve({ readings: result.readings.map((r) => ({ ts, quantity: r.quantity as Reading['quantity'], value: r.value, unit: r.unit as Reading['unit'] })) });
      },
    };
  },
});
