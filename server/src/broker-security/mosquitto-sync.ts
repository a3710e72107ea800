import { createHash } from 'node:crypto';
import type { Queryable } from '../platform/store/db.js';
import type { SecretBox } from '../secrets/index.js';
import { deviceById, deviceStatusesAfter } from '../registry/index.js';
import { brokerPassword, brokerUsername, readDeviceKeys } from '../provisioning/index.js';
import { DynsecClient } from './dynsec-client.js';
import { deviceRole, planSync, roleCommands, serviceRole, type DesiredClient } from './domain/dynsec-plan.js';

const PAGE = 1_000;
const RETRY_MS = 30_000;

export interface MosquittoSyncOptions {
  db: Queryable;
  secrets: SecretBox;
  url: string;
  admin: { username: string; password: string };
  /** Gridshare's own broker account (from the broker URL): kept with the service role, unless it is the admin. */
  service?: { username: string; password: string };
  log: (line: string) => void;
}

const fingerprint = (password: string) => createHash('sha256').update(password).digest('hex').slice(0, 16);

/** A device's two broker clients (one per key), or none when it has no keys. */
function desiredClients(deviceId: string, active: boolean, keys: { primary: string; secondary: string } | undefined): DesiredClient[] {
  if (!keys) return [];
  const role = deviceRole(deviceId);
  return (['primary', 'secondary'] as const).map((slot) => {
    const password = brokerPassword(keys[slot], deviceId);
    return { username: brokerUsername(deviceId, slot), clientid: deviceId, password, fingerprint: fingerprint(password), role, disabled: !active };
  });
}

/**
 * Keeps a Mosquitto broker's device clients and roles (dynamic-security plugin) equal to
 * Gridshare's devices: a reconcile at start, then each device change as it happens, one at a
 * time in order. A change the broker did not take (it was down) is made by a reconcile retried
 * until it succeeds.
 */
export class MosquittoSync {
  private queue: Promise<void> = Promise.resolve();
  private readonly pending = new Set<string>();
  private retry: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly options: MosquittoSyncOptions, private readonly dynsec: DynsecClient) {}

  static async start(options: MosquittoSyncOptions): Promise<MosquittoSync> {
    const dynsec = await DynsecClient.connect(options.url, options.admin);
    const sync = new MosquittoSync(options, dynsec);
    try {
      await sync.reconcile();
    } catch (error) {
      await dynsec.close();
      throw error;
    }
    return sync;
  }

  /** Brings the whole broker in line; returns how many commands that took (0: it already was). */
  async reconcile(): Promise<number> {
    const { db, secrets } = this.options;
    const desired: DesiredClient[] = [];
    for (let after = ''; ;) {
      const page = await deviceStatusesAfter(db, after, PAGE);
      if (page.length === 0) break;
      const keys = await readDeviceKeys(db, secrets, page.map((d) => d.id));
      for (const device of page) desired.push(...desiredClients(device.id, device.status === 'active', keys.get(device.id)));
      after = page[page.length - 1]!.id;
    }
    const [clients, roles] = await Promise.all([this.dynsec.clients(), this.dynsec.roles()]);
    const commands = planSync(desired, { clients, roles });
    const service = this.options.service;
    const role = serviceRole();
    const serviceClient = service && clients.find((c) => c.username === service.username);
    const serviceCommands = !service || service.username === this.options.admin.username ? [] : [
      ...roleCommands(role, roles.find((r) => r.rolename === role.rolename)),
      serviceClient
        ? { command: 'modifyClient', username: service.username, password: service.password, roles: [...serviceClient.roles.filter((r) => r.rolename !== role.rolename), { rolename: role.rolename }] }
        : { command: 'createClient', username: service.username, password: service.password, roles: [{ rolename: role.rolename }] },
    ];
    await this.dynsec.run([...commands, ...serviceCommands]);
    return commands.length;
  }

  /** A device was provisioned, re-keyed, disabled, enabled or removed: its clients follow, in order of the changes. */
  deviceChanged(deviceId: string): void {
    // A batch of thousands changes at once: the changes waiting are taken together.
    this.pending.add(deviceId);
    if (this.pending.size > 1) return;
    this.queue = this.queue.then(() => this.syncPending()).catch((error: Error) => {
      this.options.log(`gridshare: the broker's device clients were not updated (${error.message}); a full reconcile follows`);
      this.scheduleReconcile();
    });
  }

  /** Resolves once every change so far reached the broker (or failed and was handed to the reconcile). */
  async idle(): Promise<void> {
    while (true) {
      const queue = this.queue;
      await queue;
      if (queue === this.queue) return;
    }
  }

  private async syncPending(): Promise<void> {
    const ids = [...this.pending];
    this.pending.clear();
    const { db, secrets } = this.options;
    for (let start = 0; start < ids.length; start += PAGE) {
      const chunk = ids.slice(start, start + PAGE);
      const [devices, keys] = await Promise.all([Promise.all(chunk.map((id) => deviceById(db, id))), readDeviceKeys(db, secrets, chunk)]);
      const desired = chunk.flatMap((id, i) => {
        const device = devices[i];
        return device ? desiredClients(id, device.status === 'active', keys.get(id)) : [];
      });
      const actual = await this.dynsec.some(
        chunk.flatMap((id) => [brokerUsername(id, 'primary'), brokerUsername(id, 'secondary')]),
        chunk.map((id) => deviceRole(id).rolename),
      );
      await this.dynsec.run(planSync(desired, actual));
    }
  }

  private scheduleReconcile(): void {
    if (this.retry || this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.queue = this.queue.then(() => this.reconcile()).then(
        () => this.options.log('gridshare: the broker\'s device clients are in line again'),
        (error: Error) => {
          this.options.log(`gridshare: reconcile with the broker failed (${error.message}); trying again in ${RETRY_MS / 1000} s`);
          this.scheduleReconcile();
        },
      );
    }, RETRY_MS);
    this.retry.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.queue;
    await this.dynsec.close();
  }
}
