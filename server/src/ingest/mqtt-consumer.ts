import net from 'node:net';
import tls from 'node:tls';
import mqttPacket, { type Packet } from 'mqtt-packet';

export interface ConsumerOptions {
  /** `mqtt://[user:password@]host[:port]` or `mqtts://…`. */
  url: string;
  /** Stable across restarts, so a reconnect resumes the session and gets unacknowledged messages again. */
  clientId: string;
  /** Subscribed with QoS 1 after every connect (shared subscriptions included). */
  topics: readonly string[];
  /** PUBLISHes the broker may have in flight to this connection before it waits for PUBACKs (MQTT 5 Receive Maximum). */
  receiveMaximum: number;
  sessionExpirySeconds: number;
  keepaliveSeconds?: number;
  reconnectMs?: number;
  /**
   * Handles one message and resolves with its PUBACK reason code. Rejecting means "not handled":
   * nothing is acknowledged, the connection is dropped and the broker delivers the message again.
   */
  handle: (topic: string, payload: Buffer) => Promise<number>;
  onError?: (error: Error) => void;
}

const OPTS = { protocolVersion: 5 } as const;
/** How long a dropped connection's messages in hand may hold up the next connection: a handler that never finishes must not stop ingest. */
const DRAIN_MS = 60_000;

interface Inflight {
  readonly messageId: number;
  code: number | undefined;
}

/** One connection's life: its socket and the QoS 1 messages received on it, in arrival order. */
interface Link {
  readonly socket: net.Socket;
  readonly inflight: Inflight[];
  lastSent: number;
  lastReceived: number;
  subscribed: boolean;
  /** Why it ended, for the first attempt's error. */
  error?: Error;
}

/**
 * An MQTT 5 subscriber that handles many messages of one connection at once. mqtt.js reads the
 * next PUBLISH only after the previous one was acknowledged, so with an acknowledgement that
 * waits for a database commit a connection carries one message per commit. Here the broker
 * may have `receiveMaximum` messages in flight; each is handled as soon as it arrives and the
 * PUBACKs go out in the order the PUBLISHes came, as MQTT requires for QoS 1, each only once its
 * own handling is done.
 */
export class MqttConsumer {
  private link: Link | undefined;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private keepaliveMs: number;
  private readonly settled = new Set<Promise<unknown>>();

  constructor(private readonly options: ConsumerOptions) {
    this.keepaliveMs = (options.keepaliveSeconds ?? 30) * 1000;
  }

  /** Connects and subscribes; rejects when the first attempt fails (a wrong URL should stop the start). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => this.connect({ resolve, reject }));
  }

  connected(): boolean {
    return this.link?.subscribed ?? false;
  }

  /**
   * Lets the messages in hand finish and be acknowledged (for at most `graceMs`: a database that
   * does not answer must not hold up a stop; what is not acknowledged comes again), then
   * disconnects, keeping the session.
   */
  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.keepaliveTimer);
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.settled]),
      new Promise((resolve) => (grace = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(grace);
    const link = this.link;
    if (!link || link.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      link.socket.once('close', () => resolve());
      link.socket.end(mqttPacket.generate({ cmd: 'disconnect', reasonCode: 0 }, OPTS));
      setTimeout(() => link.socket.destroy(), 2_000).unref();
    });
  }

  private connect(start?: { resolve: () => void; reject: (error: Error) => void }): void {
    let first = start;
    const url = new URL(this.options.url);
    const secure = url.protocol === 'mqtts:';
    const port = Number(url.port || (secure ? 8883 : 1883));
    const socket = secure
      ? tls.connect({ host: url.hostname, port, servername: url.hostname })
      : net.connect({ host: url.hostname, port });
    socket.setNoDelay(true);
    const link: Link = { socket, inflight: [], lastSent: Date.now(), lastReceived: Date.now(), subscribed: false };
    this.link = link;
    const parser = mqttPacket.parser(OPTS);
    parser.on('packet', (packet: Packet) => {
      link.lastReceived = Date.now();
      this.receive(link, packet, first);
      // Once subscribed, a later loss of this connection is a reconnect, not a failed start.
      if (link.subscribed) first = undefined;
    });
    parser.on('error', (error: Error) => this.drop(link, error));
    socket.on('data', (chunk: Buffer) => parser.parse(chunk));
    socket.on('error', (error) => this.drop(link, error));
    socket.on('close', () => {
      if (first && !link.subscribed) {
        // The first attempt decides whether the platform starts at all: no retrying behind its back.
        this.closing = true;
        clearInterval(this.keepaliveTimer);
        first.reject(new Error(`MQTT broker ${url.host}: ${link.error?.message ?? 'connection closed before the subscription was confirmed'}`));
      }
      if (this.link === link) this.link = undefined;
      if (this.closing) return;
      // The new session's messages are taken once the dropped connection's are handled (or after
      // DRAIN_MS): the broker sends up to Receive Maximum again at once, and each drop under load
      // (a database too busy to answer in time) otherwise added that many more handlers waiting
      // for the database, without bound (6,172 at once in issue 22's bench:scale).
      const inHand = [...this.settled];
      let drained: NodeJS.Timeout | undefined;
      void Promise.race([Promise.allSettled(inHand), new Promise((resolve) => { drained = setTimeout(resolve, DRAIN_MS).unref(); })]).then(() => {
        clearTimeout(drained);
        if (!this.closing) this.reconnectTimer = setTimeout(() => this.connect(), this.options.reconnectMs ?? 1_000);
      });
    });
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      this.send(link, {
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 5,
        clientId: this.options.clientId,
        clean: false,
        keepalive: this.keepaliveMs / 1000,
        ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
        ...(url.password ? { password: Buffer.from(decodeURIComponent(url.password)) } : {}),
        properties: { sessionExpiryInterval: this.options.sessionExpirySeconds, receiveMaximum: this.options.receiveMaximum },
      });
    });
  }

  private receive(link: Link, packet: Packet, first?: { resolve: () => void; reject: (error: Error) => void }): void {
    switch (packet.cmd) {
      case 'connack':
        if (packet.reasonCode) {
          const error = new Error(`MQTT broker refused the connection (reason ${packet.reasonCode})`);
          first?.reject(error);
          this.drop(link, error);
          return;
        }
        if (packet.properties?.serverKeepAlive) this.keepaliveMs = packet.properties.serverKeepAlive * 1000;
        this.startKeepalive();
        this.send(link, { cmd: 'subscribe', messageId: 1, subscriptions: this.options.topics.map((topic) => ({ topic, qos: 1 as const })) });
        return;
      case 'suback': {
        const refused = (packet.granted as number[]).find((code) => code > 1);
        if (refused !== undefined) {
          const error = new Error(`MQTT broker refused the subscription (reason ${refused})`);
          first?.reject(error);
          this.drop(link, error);
          return;
        }
        link.subscribed = true;
        first?.resolve();
        return;
      }
      case 'publish':
        this.publish(link, packet);
        return;
      case 'disconnect':
        this.drop(link, new Error(`MQTT broker disconnected (reason ${packet.reasonCode ?? 0})`));
        return;
      default:
        // pingresp, and nothing else the broker sends a subscriber.
        return;
    }
  }

  private publish(link: Link, packet: mqttPacket.IPublishPacket): void {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (packet.qos === 2) {
      // Subscriptions are QoS 1, so the broker never sends QoS 2.
      this.drop(link, new Error('MQTT broker sent a QoS 2 message to a QoS 1 subscription'));
      return;
    }
    const entry: Inflight | undefined = packet.qos === 1 ? { messageId: packet.messageId!, code: undefined } : undefined;
    if (entry) link.inflight.push(entry);
    const handled = this.options.handle(packet.topic, payload).then(
      (code) => {
        if (!entry) return;
        entry.code = code;
        this.acknowledge(link);
      },
      (error: Error) => this.drop(link, error),
    );
    this.settled.add(handled);
    void handled.finally(() => this.settled.delete(handled));
  }

  /** PUBACKs for every handled message at the head of the line, in one write. */
  private acknowledge(link: Link): void {
    if (link.socket.destroyed || this.link !== link) return;
    const acks: Buffer[] = [];
    while (link.inflight.length > 0 && link.inflight[0]!.code !== undefined) {
      const { messageId, code } = link.inflight.shift()!;
      acks.push(mqttPacket.generate({ cmd: 'puback', messageId, reasonCode: code }, OPTS));
    }
    if (acks.length === 0) return;
    link.socket.write(acks.length === 1 ? acks[0]! : Buffer.concat(acks));
    link.lastSent = Date.now();
  }

  private send(link: Link, packet: Packet): void {
    link.socket.write(mqttPacket.generate(packet, OPTS));
    link.lastSent = Date.now();
  }

  /**
   * Ends a connection without acknowledging what is still in flight on it; the broker delivers
   * those messages again on the resumed session. Acknowledgements from handlers that finish
   * later belong to the old connection and are never sent.
   */
  private drop(link: Link, error: Error): void {
    link.error ??= error;
    if (link.socket.destroyed) return;
    if (!this.closing) this.options.onError?.(error);
    link.inflight.length = 0;
    link.subscribed = false;
    link.socket.destroy();
  }

  private startKeepalive(): void {
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = setInterval(() => {
      const link = this.link;
      if (!link || link.socket.destroyed) return;
      const now = Date.now();
      if (now - link.lastReceived > this.keepaliveMs * 1.5) this.drop(link, new Error('MQTT broker stopped answering'));
      else if (now - link.lastSent >= this.keepaliveMs / 2) this.send(link, { cmd: 'pingreq' });
    }, Math.max(250, this.keepaliveMs / 4));
    this.keepaliveTimer.unref();
  }
}
