import { timingSafeEqual } from 'node:crypto';
import { brokerPassword } from '../provisioning/index.js';
import type { DeviceRecord } from '../ingest/index.js';
import { deviceMayUse, deviceOfUsername } from './domain/device-topics.js';

export interface AuthHookOptions {
  /** The device, its status and opened keys (ingest's directory, cached briefly). */
  lookup: (deviceId: string) => Promise<DeviceRecord | undefined>;
  /** Checks a SAS token as the embedded broker and HTTP ingest do; throws when it is refused. */
  verifySas: (deviceId: string, token: string) => Promise<unknown>;
}

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * What an external broker's HTTP hook asks: whether a device may connect (its client id is its id,
 * its password a SAS token or its broker password) and whether it may use a topic (its own only,
 * while it is active). Every doubt is a deny.
 */
export class BrokerAuthHook {
  constructor(private readonly options: AuthHookOptions) {}

  async authenticate(input: { clientid: string; username: string; password: string }): Promise<boolean> {
    const { deviceId, slot } = deviceOfUsername(input.username);
    if (input.clientid !== deviceId || input.password.length === 0) return false;
    if (input.password.startsWith('SharedAccessSignature ')) {
      return this.options.verifySas(deviceId, input.password).then(() => true, () => false);
    }
    const device = await this.options.lookup(deviceId);
    const key = device?.keys[slot === 'primary' ? 0 : 1];
    if (!device || device.status !== 'active' || !key) return false;
    return sameText(input.password, brokerPassword(key, deviceId));
  }

  async authorize(input: { clientid: string; username: string; topic: string; action: 'publish' | 'subscribe' }): Promise<boolean> {
    const { deviceId } = deviceOfUsername(input.username);
    if (input.clientid !== deviceId || !deviceMayUse(deviceId, input.action, input.topic)) return false;
    return (await this.options.lookup(deviceId))?.status === 'active';
  }
}
