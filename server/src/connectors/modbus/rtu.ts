import { ModbusRTUClient } from 'jsmodbus';
import { SerialPort } from 'serialport';
import { ConnectorError } from '../kind.js';
import { registerRequests, requestError, type ModbusSession } from './client.js';

/**
 * A Modbus RTU session on a serial line (a USB–RS-485 adapter): the port opened at the line's
 * settings, requests to one unit, the port closed again. RTU is a bus with one master: on one
 * port a session waits for the one before it (a poll and a command, or two devices on the same
 * adapter), within this process; the port is opened exclusively, so another process gets a
 * clear error instead of garbled frames.
 */
export interface ModbusRtuEndpoint {
  readonly path: string;
  readonly baudRate: number;
  readonly parity: 'none' | 'even' | 'odd';
  readonly dataBits: 7 | 8;
  readonly stopBits: 1 | 2;
  readonly unitId: number;
  readonly requestTimeoutMs: number;
}

/** The session each port's next one waits for. */
const busy = new Map<string, Promise<void>>();

async function takeLine(path: string, signal: AbortSignal): Promise<() => void> {
  const before = busy.get(path) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => { release = resolve; });
  const chained = before.then(() => mine);
  busy.set(path, chained);
  const free = () => {
    release();
    if (busy.get(path) === chained) busy.delete(path);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new ConnectorError('aborted', 'stopped'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      void before.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  } catch (error) {
    free();
    throw error;
  }
  return free;
}

export async function openModbusRtu(endpoint: ModbusRtuEndpoint, signal: AbortSignal): Promise<ModbusSession> {
  const line = `${endpoint.baudRate} ${endpoint.dataBits}${endpoint.parity[0]!.toUpperCase()}${endpoint.stopBits}`;
  const where = `${endpoint.path} (${line}) unit ${endpoint.unitId}`;
  const free = await takeLine(endpoint.path, signal);
  const port = new SerialPort({ path: endpoint.path, baudRate: endpoint.baudRate, parity: endpoint.parity, dataBits: endpoint.dataBits, stopBits: endpoint.stopBits, autoOpen: false });
  // Errors after opening surface as failed requests; an unhandled 'error' event would crash the process.
  port.on('error', () => undefined);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    signal.removeEventListener('abort', close);
    if (port.isOpen) port.close(() => free());
    else free();
  };
  signal.addEventListener('abort', close, { once: true });
  try {
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  } catch (error) {
    close();
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new ConnectorError('aborted', 'stopped');
    throw new ConnectorError('unreachable', `cannot open ${endpoint.path}: ${(error as Error).message} (is the adapter plugged in, and may this user use it?)`);
  }
  const client = new ModbusRTUClient(port, endpoint.unitId, endpoint.requestTimeoutMs);
  const request = async <T>(what: string, send: () => Promise<T>): Promise<T> => {
    if (signal.aborted || closed) throw signal.reason instanceof Error ? signal.reason : new ConnectorError('aborted', 'stopped');
    try {
      return await send();
    } catch (error) {
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new ConnectorError('aborted', 'stopped');
      throw requestError(error, what, where, endpoint.requestTimeoutMs);
    }
  };
  return {
    ...registerRequests(client, request),
    close,
  };
}
