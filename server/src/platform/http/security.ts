import helmet from '@fastify/helmet';
import type { FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { ForbiddenError } from '../../kernel/errors.js';
import type { Api } from './api.js';

type Directive = (string | ((request: IncomingMessage) => string))[];

/** swagger-ui (at /docs) inserts a <style> element; the app itself needs no inline style. */
const inlineStylesForDocs = (request: IncomingMessage) => (request.url?.startsWith('/docs') ? "'unsafe-inline'" : '');

/**
 * What the web app and the API docs (swagger-ui) need, and nothing else: scripts, styles, fonts
 * and data only from this origin; images also as data: and blob: URLs (QR codes, swagger-ui's
 * icons, the camera frame); no plugins, no framing by any other page, forms only back here.
 */
function contentSecurityPolicy(https: boolean): Record<string, Directive> {
  return {
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'", inlineStylesForDocs],
    'img-src': ["'self'", 'data:', 'blob:'],
    'font-src': ["'self'", 'data:'],
    'connect-src': ["'self'"],
    'media-src': ["'self'", 'blob:'],
    'object-src': ["'none'"],
    'frame-ancestors': ["'none'"],
    'form-action': ["'self'"],
    ...(https ? { 'upgrade-insecure-requests': [] } : {}),
  };
}

/**
 * Security headers on every response, set by @fastify/helmet (maintained with the Fastify
 * project; it keeps up with header semantics so we do not hand-write them): CSP, frame
 * protection (X-Frame-Options DENY and frame-ancestors 'none'), nosniff, a referrer policy that
 * keeps paths and ids inside the site, and HSTS when browsers reach the installation over https.
 *
 * Referrer-Policy is `same-origin`, not `no-referrer`: under `no-referrer` a browser sends
 * `Origin: null` even on the app's own POSTs, and the origin check below needs the real origin.
 */
export async function registerSecurityHeaders(app: Api, options: { https: boolean }): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy(options.https) },
    strictTransportSecurity: options.https ? { maxAge: 180 * 86_400 } : false,
    referrerPolicy: { policy: 'same-origin' },
    xFrameOptions: { action: 'deny' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  // Every API answer is personal, and some carry secrets (device keys in config.json and key
  // rotations, a new API token, batch ZIPs): none may be kept by a browser or a shared cache.
  app.addHook('onSend', async (request, reply) => {
    if ((request.url.startsWith('/api/') || request.url.startsWith('/metrics')) && !reply.hasHeader('cache-control')) {
      reply.header('cache-control', 'no-store');
    }
  });
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The origin a browser says a request comes from: `Origin`, else the origin of `Referer`; undefined for other clients. */
function claimedOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (origin !== undefined) return origin;
  const referer = request.headers.referer;
  if (referer === undefined) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return 'null';
  }
}

export class CrossOriginRequest extends ForbiddenError {
  constructor(origin: string) {
    super(`cross-origin request refused: ${origin} is not this site; use an API token (Authorization: Bearer) from other origins`);
  }
}

/**
 * Refuses state-changing requests a browser makes on behalf of another site (CSRF). Requests
 * without an Authorization header are the ones a browser authenticates by itself, with the session
 * cookie (or, for log-in and sign-up, the ones another site could make in a visitor's name); their
 * Origin (or Referer) must be this site: the host the request is addressed to, or the configured
 * public URL (behind a proxy that rewrites Host). Bearer tokens and device signatures are never
 * sent by a browser on its own, so they are not checked; neither are clients that send neither header.
 */
export function originCheck(publicUrl: () => string | undefined) {
  return async (request: FastifyRequest): Promise<void> => {
    if (!UNSAFE_METHODS.has(request.method) || request.headers.authorization !== undefined) return;
    const origin = claimedOrigin(request);
    if (origin === undefined) return;
    if (origin !== 'null') {
      const configured = publicUrl();
      if (configured !== undefined && new URL(configured).origin === origin) return;
      let host: string | undefined;
      try {
        host = new URL(origin).host;
      } catch {
        host = undefined;
      }
      if (host !== undefined && host === request.headers.host?.toLowerCase()) return;
    }
    throw new CrossOriginRequest(origin);
  };
}
