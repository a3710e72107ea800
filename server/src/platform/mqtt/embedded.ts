import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateHandler, type AuthorizePublishHandler, type AuthorizeSubscribeHandler, type Client } from 'aedes';
import { listen } from '../net/listen.js';

export interface EmbeddedBrokerOptions {
  port: number;
  host: string;
  /** True when the user chose the port: then a taken port is an error, not a reason to move. */
  portExplicit: boolean;
  /** The port used before in place of a taken default (see MovedPortMemory). */
  previousPort?: number | undefined;
  authenticate: AuthenticateHandler;
  authorizePublish: AuthorizePublishHandler;
  authorizeSubscribe: AuthorizeSubscribeHandler;
}

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  readonly port: number;
  readonly movedFrom: number | undefined;
  /** The port used before in place of the default, taken now as well. */
  readonly previousLost: number | undefined;
  /** Drops a client's connection, so it must connect (and authenticate) again. */
  disconnect(clientId: string): void;
  /** The address of the open connection with this client id, if there is one. */
  connectedAddress(clientId: string): string | undefined;
  close(): Promise<void>;
}

/** Aedes keeps its connected clients by id at run time; its typings do not declare the map. */
const connected = (aedes: Aedes, clientId: string) => (aedes as unknown as { clients: Record<string, Client | undefined> }).clients[clientId];

/** `host:port` a client connects from (TCP); undefined for other transports. */
export function clientAddress(client: Client): string | undefined {
  const socket = client.conn as { remoteAddress?: string; remotePort?: number };
  return socket.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`;
}

/** The in-process MQTT broker (Aedes) that `gridshare start` runs unless MQTT_URL names another. */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker({
    authenticate: options.authenticate,
    authorizePublish: options.authorizePublish,
    authorizeSubscribe: options.authorizeSubscribe,
  });
  const server: Server = createServer(aedes.handle);
  const bound = await listen(server, { port: options.port, host: options.host, explicit: options.portExplicit, what: 'MQTT', flag: '--mqtt-port', previous: options.previousPort });
  return {
    aedes,
    port: bound.port,
    movedFrom: bound.movedFrom,
    previousLost: bound.previousLost,
    disconnect: (clientId) => connected(aedes, clientId)?.close(),
    connectedAddress: (clientId) => {
      const client = connected(aedes, clientId);
      return client && !client.closed ? clientAddress(client) : undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => aedes.close(() => resolve()));
        // Connected clients keep the server open; Aedes closes them.
        aedes.close();
      }),
  };
}
