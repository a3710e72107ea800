import type { CommandKind } from '@gridshare/contract/control';
import { getKind, runConnector } from '../../connectors/index.js';
import type { Reading } from '../../kernel/quantities.js';
import type { KindCapability, SetpointCommand } from '../domain/commands.js';
import { fail, type LocalDevice } from '../domain/local-devices.js';

/**
 * Local device kinds by name: what the agent can read and control in the home. Each kind module
 * registers itself when imported (`devices/index.ts` imports them all), as the connectors'
 * kinds do; a connector kind without a local device kind of its name is read, never controlled.
 */
export type Outcome = { readonly ok: true; readonly written: readonly string[] } | { readonly ok: false; readonly error: string };

export interface ReadOutcome { readonly readings: readonly Reading[]; readonly error?: string | undefined }

/** One local device, opened: its kinds' capabilities, and its I/O. */
export interface Controller {
  readonly capabilities: Readonly<Partial<Record<CommandKind, KindCapability>>>;
  /** Carries out an admitted command now (at its validFrom); written and, where the device lets, read back. */
  carryOut(command: SetpointCommand, nowMs: number): Promise<Outcome>;
  /** Undefined: the device has no safe state. */
  readonly safe: (() => Promise<Outcome>) | undefined;
  /**
   * What the agent writes when a command of this kind expires, for a device that would keep the
   * set-point otherwise (a plain register); undefined: the device reverts by itself or keeps it.
   */
  revertAtExpiry?(kind: CommandKind): (() => Promise<Outcome>) | undefined;
  read(nowMs: number): Promise<ReadOutcome>;
  close?(): Promise<void>;
}

export interface LocalDeviceKind {
  readonly name: string;
  /** Checks the device's setup (a LocalDeviceError names the place under `path`) and opens it. */
  open(device: LocalDevice, path: string): Controller;
}

const kinds = new Map<string, LocalDeviceKind>();

export function registerLocalDeviceKind(kind: LocalDeviceKind): void {
  if (kinds.has(kind.name)) throw new Error(`local device kind ${kind.name} is registered twice`);
  kinds.set(kind.name, kind);
}

/** The capability of each kind a device sets up: its limits, and whether a value is needed. */
export function capabilitiesOf(device: LocalDevice, takesValue: (kind: CommandKind) => boolean): Partial<Record<CommandKind, KindCapability>> {
  return Object.fromEntries((Object.keys(device.setpoints) as CommandKind[]).map((kind) => [kind, { limits: device.setpoints[kind]!.limits, takesValue: takesValue(kind) }]));
}

/** Reads a connector kind (its state, e.g. a discovered SunSpec layout, kept between reads). */
export function connectorReader(device: LocalDevice): (nowMs: number) => Promise<ReadOutcome> {
  let state: unknown;
  return async () => {
    const report = await runConnector(device.kind, device.config, state);
    state = report.state;
    return { readings: report.readings.map(({ ts, quantity, value, unit }) => ({ ts, quantity, value, unit })), error: report.error?.message };
  };
}

/** Opens `agent.connectors[index]` by its kind's name. */
export function openLocalDevice(device: LocalDevice, index: number): Controller {
  const path = `agent/connectors/${index}`;
  const kind = kinds.get(device.kind);
  if (kind) return kind.open(device, path);
  if (!getKind(device.kind)) fail(`${path}/kind`, `is neither a local device kind (${[...kinds.keys()].join(', ')}) nor a connector kind`);
  if (Object.keys(device.setpoints).length > 0 || device.safeState !== undefined) {
    fail(`${path}/kind`, `only ${[...kinds.keys()].join(', ')} devices take setpoints and a safe state`);
  }
  return {
    capabilities: {},
    carryOut: () => Promise.resolve({ ok: false, error: `${device.name} takes no commands` }),
    safe: undefined,
    read: connectorReader(device),
  };
}
