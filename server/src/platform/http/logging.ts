import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { LogController, type FastifyBaseLogger, type FastifyRequest, type FastifyServerOptions } from 'fastify';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The installation's log: JSON lines (pino, Fastify's logger), one per event. */
export interface LogOptions {
  /** The lowest level written (default `info`). */
  readonly level?: LogLevel;
  /** Every request and its answer at `info` (`gridshare start --log`); without it only failed requests are logged. */
  readonly requests?: boolean;
  /** Where the lines go (default standard error). */
  readonly destination?: { write(line: string): void };
}

/** A device's own routes (`/api/v1/devices/:id/...`): their log lines carry its id. */
const DEVICE_PATH = /^\/api\/v1\/devices\/([A-Za-z0-9._~-]+)/;

/**
 * What a request line says: method, route pattern and path — never the query string (search
 * terms, e-mail addresses, link tokens), headers (API tokens, cookies, SAS signatures), bodies
 * (passwords) or the caller's address (personal data).
 */
const serializers = {
  req: (request: FastifyRequest) => ({
    method: request.method,
    route: request.routeOptions?.url,
    path: request.url.split('?')[0],
  }),
};

/** Field names whose values never reach the log, wherever a component puts them (one level deep). */
const REDACTED = ['password', 'newPassword', 'currentPassword', 'token', 'key', 'primaryKey', 'secondaryKey', 'secret', 'email', 'address', 'authorization', 'cookie'];

/** Fastify's logger settings for these options: request ids, device ids, the serializers and redaction above. */
export function httpLogging(options: LogOptions): Pick<FastifyServerOptions, 'logger' | 'logController' | 'genReqId' | 'childLoggerFactory'> {
  return {
    logger: {
      level: options.level ?? 'info',
      serializers,
      redact: { paths: [...REDACTED, ...REDACTED.map((field) => `*.${field}`)], censor: '[redacted]' },
      stream: options.destination ?? process.stderr,
    },
    logController: new LogController({ disableRequestLogging: !options.requests }),
    // Unique across processes and restarts, so a line found in a log aggregate names one request.
    genReqId: () => randomUUID(),
    childLoggerFactory(logger, bindings, childOptions, rawRequest) {
      const device = DEVICE_PATH.exec((rawRequest as IncomingMessage).url ?? '');
      return logger.child({ component: 'http', ...bindings, ...(device ? { deviceId: device[1] } : {}) }, childOptions);
    },
  };
}

/** A component's log function at a fixed level: `(message, fields)`; fields name ids (device, community), never personal data. */
export type ComponentLog = (message: string, fields?: Readonly<Record<string, string | number>>) => void;

export function componentLog(root: FastifyBaseLogger, component: string, level: 'error' | 'warn' | 'info'): ComponentLog {
  const logger = root.child({ component });
  return (message, fields) => logger[level]({ ...fields }, message);
}
