import Fastify from 'fastify';
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Db } from '../store/db.js';
import { ANONYMOUS, type Credentials, type ResolvedPrincipal } from '../../kernel/principal.js';
import { ForbiddenError } from '../../kernel/errors.js';
import { validatorCompiler } from './validation.js';
import { cachingSerializerFactory } from './serialization.js';
import { utf8Body } from './body.js';
import { originCheck, registerSecurityHeaders } from './security.js';
import { errorHandler } from './errors.js';
import { trackRequest } from './request-context.js';
import type { Api } from './api.js';
import { httpLogging, type LogOptions } from './logging.js';
import { ErrorSchema } from '@gridshare/contract/common';

export const SESSION_COOKIE = 'gs_session';
/** API bodies are small JSON documents; anything larger is refused before it is parsed. */
export const BODY_LIMIT_BYTES = 256 * 1024;

export interface HttpOptions {
  db: Db;
  log?: LogOptions;
  /**
   * How browsers reach this installation. An https URL turns on HSTS and upgrade-insecure-requests;
   * its origin is accepted by the origin check (behind a proxy that rewrites Host).
   */
  publicUrl?: () => string | undefined;
  /** Who is asking, from a request's credentials (accounts knows; the HTTP shell only asks). */
  resolvePrincipal: (credentials: Credentials) => Promise<ResolvedPrincipal>;
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/** The session cookie or bearer token a request came with (long-lived streams check them again later). */
export function requestCredentials(request: FastifyRequest): Credentials {
  return { sessionToken: request.cookies[SESSION_COOKIE], bearerToken: bearerToken(request) };
}

/** Routes a user who still has to replace a one-time password may use. */
const ALLOWED_BEFORE_PASSWORD_CHANGE = new Set(['/api/v1/me', '/api/v1/me/password', '/api/v1/auth/logout']);

export async function createHttp(options: HttpOptions): Promise<Api> {
  const app = Fastify({
    ...httpLogging(options.log ?? {}),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: false,
    schemaController: { compilersFactory: { buildSerializer: cachingSerializerFactory } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler(errorHandler);
  // No text/plain parser: a cross-site form post cannot reach a JSON API route.
  app.removeContentTypeParser('text/plain');
  // JSON is read as strict UTF-8 (see utf8Body), then by Fastify's own parser, which refuses
  // __proto__ and constructor.prototype keys.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = utf8Body(request.headers['content-type'], body as Buffer);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    parseJson(request, text, done);
  });
  app.addSchema(ErrorSchema);
  // Set on every request by the onRequest hook below; null only before it runs.
  app.decorateRequest('principal');

  await app.register(cookie);
  await registerSecurityHeaders(app, { https: options.publicUrl?.()?.startsWith('https:') ?? false });
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Gridshare API',
        version: '1',
        description: 'Energy-community platform: registry, provisioning, ingestion, sharing, billing.',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
          bearer: { type: 'http', scheme: 'bearer', description: 'API token created under /api/v1/me/tokens' },
          sas: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: 'Devices: "SharedAccessSignature sr=<host>/devices/<id>&sig=…&se=…", signed with either device key',
          },
        },
      },
      security: [{ session: [] }, { bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.addHook('onRequest', trackRequest);
  // The id each log line of the request carries, for a caller reporting a problem.
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.addHook('onRequest', originCheck(options.publicUrl ?? (() => undefined)));
  app.addHook('onRequest', async (request) => {
    request.principal = ANONYMOUS;
    // `/metrics` resolves its caller itself: a scrape must work while the database is down (ops' ScrapeAccess).
    if (!request.url.startsWith('/api/')) return;
    const principal = await options.resolvePrincipal(requestCredentials(request));
    request.principal = principal;
    if ('mustChangePassword' in principal && principal.mustChangePassword) {
      const path = request.url.split('?')[0]!;
      if (!ALLOWED_BEFORE_PASSWORD_CHANGE.has(path)) {
        throw new PasswordChangeRequired();
      }
    }
  });

  // A POST without a body means "no options": it is validated (and handled) as {}, so
  // required fields are still reported missing. A body that says `null` is not an object and is refused.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body) request.body = {};
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
  return app;
}

export class PasswordChangeRequired extends ForbiddenError {
  constructor() {
    super('this account must replace its one-time password first (POST /api/v1/me/password)');
  }
}
