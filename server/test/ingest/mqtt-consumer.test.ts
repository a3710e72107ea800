import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { MqttConsumer, type ConsumerOptions } from '../../src/ingest/mqtt-consumer.js';

const OPTS = { protocolVersion: 5 } as const;

/**
 * The broker's side of the wire, scripted: what the consumer sends is recorded packet by packet,
 * and the test decides what the broker sends. Mosquitto cannot be made to show the order of the
 * PUBACKs it receives, this can.
 */
class ScriptedBroker {
  readonly server = net.createServer((socket) => this.accept(socket));
  readonly received: { connection: number; packet: Packet }[] = [];
  private sockets: net.Socket[] = [];
  private waiters: (() => void)[] = [];

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `mqtt://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  private accept(socket: net.Socket): void {
    const connection = this.sockets.push(socket) - 1;
    const parser = mqttPacket.parser(OPTS);
    parser.on('packet', (packet: Packet) => {
      this.received.push({ connection, packet });
      if (packet.cmd === 'connect') socket.write(mqttPacket.generate({ cmd: 'connack', sessionPresent: connection > 0, reasonCode: 0 }, OPTS));
      if (packet.cmd === 'subscribe') socket.write(mqttPacket.generate({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map(() => 1) }, OPTS));
      for (const wake of this.waiters.splice(0)) wake();
    });
    socket.on('data', (chunk) => parser.parse(chunk));
    socket.on('error', () => undefined);
  }

  publish(connection: number, messageId: number, payload: string): void {
    this.sockets[connection]!.write(mqttPacket.generate({ cmd: 'publish', topic: 't', payload, qos: 1, messageId, dup: false, retain: false }, OPTS));
  }

  drop(connection: number): void {
    this.sockets[connection]!.destroy();
  }

  acks(connection?: number): number[] {
    return this.received.filter((r) => r.packet.cmd === 'puback' && (connection === undefined || r.connection === connection))
      .map((r) => (r.packet as mqttPacket.IPubackPacket).messageId!);
  }

  /** Waits for a packet or a few milliseconds, whichever comes first, until `check` holds. */
  async until(check: () => boolean): Promise<void> {
    while (!check()) await new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      setTimeout(resolve, 5);
    });
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Handling that the test completes by hand, message by message. */
function manualHandler() {
  const pending = new Map<string, { resolve: (code: number) => void; reject: (error: Error) => void }>();
  const handle = (_topic: string, payload: Buffer) => new Promise<number>((resolve, reject) => pending.set(payload.toString(), { resolve, reject }));
  return { handle, pending };
}

describe('pipelined MQTT 5 consumer', () => {
  let broker: ScriptedBroker;
  let consumer: MqttConsumer | undefined;
  afterEach(async () => {
    await consumer?.close();
    await broker?.close();
  });

  /** A scripted broker and a consumer connected to it whose messages the test finishes by hand. */
  async function connectedConsumer(options: Partial<ConsumerOptions> & { clientId: string }) {
    broker = new ScriptedBroker();
    const url = await broker.listen();
    const handler = manualHandler();
    consumer = new MqttConsumer({ url, topics: ['t'], receiveMaximum: 8, sessionExpirySeconds: 300, handle: handler.handle, ...options });
    await consumer.start();
    return handler.pending;
  }

  it('resumes a named session with a Receive Maximum and handles several messages at once, acknowledging in arrival order', async () => {
    const pending = await connectedConsumer({ clientId: 'gs-test-0', topics: ['$share/g/devices/+/messages/events'], receiveMaximum: 64 });
    const connect = broker.received[0]!.packet as mqttPacket.IConnectPacket;
    expect(connect).toMatchObject({ clientId: 'gs-test-0', clean: false, protocolVersion: 5, properties: { receiveMaximum: 64, sessionExpiryInterval: 300 } });
    expect(broker.received[1]!.packet).toMatchObject({ cmd: 'subscribe', subscriptions: [{ topic: '$share/g/devices/+/messages/events', qos: 1 }] });

    for (const id of [1, 2, 3]) broker.publish(0, id, `m${id}`);
    await broker.until(() => pending.size === 3);
    // All three are being handled although none is acknowledged: the connection is not held up.
    pending.get('m3')!.resolve(0);
    pending.get('m2')!.resolve(0x99);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(broker.acks()).toEqual([]);
    pending.get('m1')!.resolve(0);
    await broker.until(() => broker.acks().length === 3);
    expect(broker.received.filter((r) => r.packet.cmd === 'puback').map((r) => [(r.packet as mqttPacket.IPubackPacket).messageId, (r.packet as mqttPacket.IPubackPacket).reasonCode]))
      .toEqual([[1, 0], [2, 0x99], [3, 0]]);
  });

  it('never acknowledges a message it failed to handle, drops the connection and resumes on a new one without the old acknowledgements', async () => {
    const errors: string[] = [];
    const pending = await connectedConsumer({ clientId: 'gs-test-1', reconnectMs: 10, onError: (e) => errors.push(e.message) });
    const connects = () => broker.received.filter((r) => r.packet.cmd === 'connect').length;
    broker.publish(0, 1, 'a');
    broker.publish(0, 2, 'b');
    await broker.until(() => pending.size === 2);
    pending.get('a')!.reject(new Error('database down'));
    // The consumer hangs up, and while the dropped connection's other message is still being
    // handled it takes no new session's messages: each drop would otherwise add another Receive
    // Maximum of handlers to those still waiting (issue 22: 6,172 at once).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(connects()).toBe(1);
    expect(errors).toEqual(['database down']);
    // The second message finishes after the old connection is gone: its PUBACK is not sent, on
    // either connection, and then the consumer connects again as the same session.
    pending.get('b')!.resolve(0);
    await broker.until(() => connects() === 2);
    await broker.until(() => consumer!.connected());
    broker.publish(1, 1, 'a again');
    await broker.until(() => pending.has('a again'));
    pending.get('a again')!.resolve(0);
    await broker.until(() => broker.acks().length === 1);
    expect(broker.acks(0)).toEqual([]);
    expect(broker.acks(1)).toEqual([1]);
  });

  it('stops within its grace period when a message never finishes, and acknowledges nothing for it', async () => {
    const pending = await connectedConsumer({ clientId: 'gs-test-3' });
    broker.publish(0, 7, 'stuck');
    await broker.until(() => pending.has('stuck'));
    const started = Date.now();
    await consumer!.close(100);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(broker.acks()).toEqual([]);
    expect(broker.received.at(-1)!.packet).toMatchObject({ cmd: 'disconnect', reasonCode: 0 });
    consumer = undefined;
  });

  it('refuses to start when the broker is unreachable, without retrying behind the caller\'s back', async () => {
    broker = new ScriptedBroker();
    const url = await broker.listen();
    await broker.close();
    consumer = new MqttConsumer({ url, clientId: 'gs-test-2', topics: ['t'], receiveMaximum: 8, sessionExpirySeconds: 300, handle: async () => 0, reconnectMs: 10 });
    await expect(consumer.start()).rejects.toThrow(/ECONNREFUSED/);
    broker = new ScriptedBroker();
  });
});
