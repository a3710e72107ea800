import mqtt, { type MqttClient } from 'mqtt';
import { randomUUID } from 'node:crypto';
import type { BrokerClient, BrokerRole, DynsecCommand } from './domain/dynsec-plan.js';
import { MAX_COMMANDS_PER_MESSAGE, nextMessageSize } from './domain/control-batches.js';

const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;
const ANSWER_TIMEOUT_MS = 15_000;

interface DynsecResponse {
  readonly command: string;
  readonly error?: string;
  readonly data?: unknown;
  readonly correlationData?: string;
}

export class DynsecError extends Error {}

/**
 * Talks to Mosquitto's dynamic-security plugin over MQTT with the plugin's admin credentials:
 * sends commands in batches and waits for each batch's answers (matched by correlation data).
 */
export class DynsecClient {
  /** Commands in the next control message, from the pace of the last one (domain/control-batches.ts). */
  private messageSize = MAX_COMMANDS_PER_MESSAGE;
  private readonly waiting = new Map<string, { resolve: (responses: DynsecResponse[]) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();

  private constructor(private readonly client: MqttClient) {
    client.on('message', (_topic, payload) => this.answer(payload));
  }

  static async connect(url: string, admin: { username: string; password: string }): Promise<DynsecClient> {
    // Credentials in the URL (Gridshare's own account) would win over the admin's.
    const bare = new URL(url);
    bare.username = '';
    bare.password = '';
    const client = await mqtt.connectAsync(bare.toString(), {
      username: admin.username, password: admin.password, protocolVersion: 5, clientId: `gridshare-dynsec-${randomUUID()}`,
      reconnectPeriod: 1_000, connectTimeout: 10_000,
    });
    try {
      await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
    } catch (error) {
      await client.endAsync(true);
      throw new DynsecError(`the broker refused ${RESPONSE_TOPIC} to "${admin.username}" (${(error as Error).message}): is the dynamic-security plugin loaded and is this its admin?`);
    }
    return new DynsecClient(client);
  }

  private answer(payload: Buffer): void {
    let responses: DynsecResponse[];
    try {
      responses = (JSON.parse(payload.toString('utf8')) as { responses: DynsecResponse[] }).responses;
    } catch {
      return;
    }
    const id = responses[0]?.correlationData;
    const waiter = id === undefined ? undefined : this.waiting.get(id);
    if (!waiter || id === undefined) return;
    this.waiting.delete(id);
    clearTimeout(waiter.timer);
    waiter.resolve(responses);
  }

  private async batch(commands: readonly DynsecCommand[]): Promise<DynsecResponse[]> {
    const id = randomUUID();
    // Every command carries the id: the plugin echoes it in each answer.
    const tagged = commands.map((c) => ({ ...c, correlationData: id }));
    const answered = new Promise<DynsecResponse[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new DynsecError(`no answer from the dynamic-security plugin within ${ANSWER_TIMEOUT_MS / 1000} s (is it loaded?)`));
      }, ANSWER_TIMEOUT_MS);
      this.waiting.set(id, { resolve, reject, timer });
    });
    // A busy broker may acknowledge the publish after the answer timed out: that rejection is the
    // caller's (returned below), never an unhandled one that would end the process meanwhile.
    answered.catch(() => undefined);
    await this.client.publishAsync(CONTROL_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 });
    return answered;
  }

  /** Runs the commands in order; the first refused one is an error (naming the command and the plugin's reason). */
  async run(commands: readonly DynsecCommand[]): Promise<void> {
    for (let i = 0; i < commands.length;) {
      const message = commands.slice(i, i + this.messageSize);
      const started = performance.now();
      const responses = await this.batch(message);
      this.messageSize = nextMessageSize(message.length, performance.now() - started);
      i += message.length;
      const refused = responses.find((r) => r.error);
      if (refused) throw new DynsecError(`the broker refused ${refused.command}: ${refused.error}`);
    }
  }

  async clients(): Promise<BrokerClient[]> {
    const [response] = await this.batch([{ command: 'listClients', verbose: true, count: -1 }]);
    if (response?.error) throw new DynsecError(`listClients: ${response.error}`);
    return (response?.data as { clients: BrokerClient[] }).clients;
  }

  async roles(): Promise<BrokerRole[]> {
    const [response] = await this.batch([{ command: 'listRoles', verbose: true, count: -1 }]);
    if (response?.error) throw new DynsecError(`listRoles: ${response.error}`);
    return (response?.data as { roles: BrokerRole[] }).roles;
  }

  /** The clients among these user names the broker has, and the roles among these role names (absent ones left out). */
  async some(usernames: readonly string[], rolenames: readonly string[]): Promise<{ clients: BrokerClient[]; roles: BrokerRole[] }> {
    const responses = await this.batch([
      ...usernames.map((username) => ({ command: 'getClient', username })),
      ...rolenames.map((rolename) => ({ command: 'getRole', rolename })),
    ]);
    const found = <T>(r: DynsecResponse, field: string): T[] => (r.error ? [] : [(r.data as Record<string, T>)[field]!]);
    return {
      clients: responses.filter((r) => r.command === 'getClient').flatMap((r) => found<BrokerClient>(r, 'client')),
      roles: responses.filter((r) => r.command === 'getRole').flatMap((r) => found<BrokerRole>(r, 'role')),
    };
  }

  async close(): Promise<void> {
    for (const waiter of this.waiting.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new DynsecError('closed'));
    }
    this.waiting.clear();
    await this.client.endAsync();
  }
}
