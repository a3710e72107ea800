import { Socket } from 'node:net';
import { ModbusTCPClient, UserRequestError } from 'jsmodbus';
import { ConnectorError, networkFailure } from '../kind.js';

/**
 * A Modbus TCP session over jsmodbus (chosen because it takes our own socket, so connecting,
 * timeouts and stopping stay under our control; it queues requests, matches transaction ids
 * and ships types). One session per run: open, read or write, close. Every failure is a
 * ConnectorError whose message names the device and says what to check.
 */
export interface ModbusEndpoint {
  readonly host: string;
  readonly port: number;
  readonly unitId: number;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** A Modbus exception answer: the device is there and said no. */
export class ModbusException extends ConnectorError {
  constructor(readonly exceptionCode: number, message: string) {
    super('source', message);
  }
}

export const ILLEGAL_DATA_ADDRESS = 2;

const EXCEPTIONS: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge (busy with a long command)',
  6: 'server device busy',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond (is the unit id right?)',
};

export interface ModbusSession {
  readHolding(address: number, count: number): Promise<number[]>;
  readInput(address: number, count: number): Promise<number[]>;
  writeRegisters(address: number, values: readonly number[]): Promise<void>;
  close(): void;
}

export async function openModbus(endpoint: ModbusEndpoint, signal: AbortSignal): Promise<ModbusSession> {
  const where = `${endpoint.host}:${endpoint.port} unit ${endpoint.unitId}`;
  const socket = new Socket();
  socket.setNoDelay(true);
  const client = new ModbusTCPClient(socket, endpoint.unitId, endpoint.requestTimeoutMs);
  const close = (): void => {
    socket.destroy();
  };
  const abortReason = (): Error => (signal.reason instanceof Error ? signal.reason : new ConnectorError('aborted', 'stopped'));
  signal.addEventListener('abort', close, { once: true });
  if (signal.aborted) throw abortReason();

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ConnectorError('timeout', `no TCP connection to ${endpoint.host}:${endpoint.port} within ${endpoint.connectTimeoutMs} ms: is the device on and the address right?`));
    }, endpoint.connectTimeoutMs);
    const settle = (error?: Error): void => {
      clearTimeout(timer);
      socket.off('connect', onConnect).off('error', onError).off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onConnect = (): void => settle();
    const onError = (error: NodeJS.ErrnoException): void => settle(connectError(error, endpoint));
    const onClose = (): void => settle(signal.aborted ? abortReason() : new ConnectorError('unreachable', `connection to ${endpoint.host}:${endpoint.port} closed while connecting`));
    socket.once('connect', onConnect).once('error', onError).once('close', onClose);
    socket.connect({ host: endpoint.host, port: endpoint.port });
  });
  // Errors after connecting surface as failed requests; an unhandled 'error' event would crash the process.
  socket.on('error', () => undefined);

  const request = async <T>(what: string, send: () => Promise<T>): Promise<T> => {
    if (signal.aborted) throw abortReason();
    try {
      return await send();
    } catch (error) {
      if (signal.aborted) throw abortReason();
      throw requestError(error, what, where, endpoint.requestTimeoutMs);
    }
  };

  return {
    ...registerRequests(client, request),
    close() {
      signal.removeEventListener('abort', close);
      close();
    },
  };
}

/** The register requests jsmodbus's TCP and RTU clients both offer, as far as a session uses them. */
interface RegisterClient {
  readHoldingRegisters(start: number, count: number): Promise<{ response: { body: { values: ArrayLike<number> | Buffer } } }>;
  readInputRegisters(start: number, count: number): Promise<{ response: { body: { values: ArrayLike<number> | Buffer } } }>;
  writeMultipleRegisters(start: number, values: number[]): Promise<unknown>;
}

/** A session's register requests over either client, each sent through `request` (which checks for a stop and explains failures). */
export function registerRequests(
  client: RegisterClient, request: <T>(what: string, send: () => Promise<T>) => Promise<T>,
): Omit<ModbusSession, 'close'> {
  return {
    readHolding: (address, count) => request(`read of ${count} holding registers at ${address}`, async () => values((await client.readHoldingRegisters(address, count)).response.body.values, count)),
    readInput: (address, count) => request(`read of ${count} input registers at ${address}`, async () => values((await client.readInputRegisters(address, count)).response.body.values, count)),
    writeRegisters: (address, regs) => request(`write of ${regs.length} registers at ${address}`, async () => {
      await client.writeMultipleRegisters(address, [...regs]);
    }),
  };
}

function values(raw: ArrayLike<number> | Buffer, count: number): number[] {
  const regs = Buffer.isBuffer(raw) ? Array.from({ length: raw.length / 2 }, (_, i) => raw.readUInt16BE(i * 2)) : Array.from(raw);
  if (regs.length !== count) throw new ConnectorError('protocol', `asked for ${count} registers, got ${regs.length}`);
  return regs;
}

function connectError(error: NodeJS.ErrnoException, endpoint: ModbusEndpoint): ConnectorError {
  const at = `${endpoint.host}:${endpoint.port}`;
  if (error.code === 'ECONNREFUSED') return new ConnectorError('unreachable', `${at} refused the connection: nothing listens on that port (is Modbus TCP enabled on the device?)`);
  return networkFailure(error, at) ?? new ConnectorError('unreachable', `cannot connect to ${at}: ${error.message}`);
}

/** A failed request as a ConnectorError (`where` names the device), for TCP and RTU alike. */
export function requestError(error: unknown, what: string, where: string, timeoutMs: number): ConnectorError {
  if (error instanceof ConnectorError) return error;
  if (error instanceof UserRequestError) {
    switch (error.err) {
      case 'Timeout':
        return new ConnectorError('timeout', `${where} did not answer a ${what} within ${timeoutMs} ms (is the unit id right?)`);
      case 'ModbusException': {
        const body = error.response?.body as { code?: number } | undefined;
        const code = body?.code ?? 0;
        return new ModbusException(code, `${where} refused a ${what}: exception ${code} (${EXCEPTIONS[code] ?? 'unknown'})`);
      }
      case 'Offline':
        return new ConnectorError('unreachable', `${where} closed the connection during a ${what}`);
      default:
        return new ConnectorError('protocol', `${where} answered a ${what} out of protocol: ${error.message}`);
    }
  }
  return new ConnectorError('protocol', `${where}: ${what} failed: ${error instanceof Error ? error.message : String(error)}`);
}
