import type { WorkerOutput } from '../platform/workers/worker-thread.js';
import { batchZip, type Endpoints } from './artefacts.js';
import { generateClaimCode, generateDeviceKey, hashClaimCode } from './keys.js';

export interface ArtefactJob {
  readonly endpoints: Endpoints;
  readonly kind: string;
  /** Reserved device ids, one per device. */
  readonly ids: readonly string[];
}

export interface BuiltDevice {
  readonly id: string;
  readonly primaryKey: string;
  readonly secondaryKey: string;
  /** The claim code itself is only in the ZIP (on the sticker); the database keeps its hash. */
  readonly claimCodeHash: string;
}

export interface BuiltBatch {
  readonly devices: readonly BuiltDevice[];
  readonly zip: Uint8Array;
}

export interface BuildProgress {
  readonly phase: 'keys' | 'artefacts';
  readonly done: number;
}

/**
 * Runs in a worker thread (see ArtefactBuilder): the keys, claim codes, configuration files, QR
 * codes and the ZIP of a batch, seconds of CPU for 10,000 devices that must not stall the server.
 */
export async function run(job: ArtefactJob, progress: (progress: BuildProgress) => void): Promise<WorkerOutput<BuiltBatch>> {
  const devices = job.ids.map((id, index) => {
    if (index % 500 === 0) progress({ phase: 'keys', done: index });
    return { id, kind: job.kind, primaryKey: generateDeviceKey(), secondaryKey: generateDeviceKey(), claimCode: generateClaimCode() };
  });
  progress({ phase: 'keys', done: devices.length });
  const zip = batchZip(job.endpoints, devices, (done) => progress({ phase: 'artefacts', done }));
  return {
    value: {
      devices: devices.map((d) => ({ id: d.id, primaryKey: d.primaryKey, secondaryKey: d.secondaryKey, claimCodeHash: hashClaimCode(d.claimCode) })),
      zip,
    },
    transfer: [zip.buffer as ArrayBuffer],
  };
}
