import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateHandler, type AuthorizePublishHandler, type AuthorizeSubscribeHandler } from 'aedes';
import { listen } from '../net.js';

export interface EmbeddedBrokerOptions {
  port: number;
  host: string;
  /** True when the user chose the port: then a taken port is an error, not a reason to move. */
  portExplicit: boolean;
  authenticate: AuthenticateHandler;
  authorizePublish: AuthorizePublishHandler;
  authorizeSubscribe: AuthorizeSubscribeHandler;
}

export interface EmbeddedBroker {
  readonly aedes: Aedes;
  readonly port: number;
  readonly movedFrom: number | undefined;
  /** Drops a client's connection, so it must connect (and authenticate) again. */
  disconnect(clientId: string): void;
  close(): Promise<void>;
}

/** The in-process MQTT broker (Aedes) that `gridshare start` runs unless MQTT_URL names another. */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker({
    authenticate: options.authenticate,
    authorizePublish: options.authorizePublish,
    authorizeSubscribe: options.authorizeSubscribe,
  });
  const server: Server = createServer(aedes.handle);
  const bound = await listen(server, { port: options.port, host: options.host, explicit: options.portExplicit, what: 'MQTT', flag: '--mqtt-port' });
  return {
    aedes,
    port: bound.port,
    movedFrom: bound.movedFrom,
    // Aedes keeps its connected clients by id at run time; its typings do not declare the map.
    disconnect: (clientId) => (aedes as unknown as { clients: Record<string, { close(): void } | undefined> }).clients[clientId]?.close(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => aedes.close(() => resolve()));
        // Connected clients keep the server open; Aedes closes them.
        aedes.close();
      }),
  };
}
