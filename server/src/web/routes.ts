import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { Api } from '../platform/http/api.js';

/** The browser app as Vite builds it (web/dist); `npm start` and `npm test` build it first. */
export const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Paths the server itself answers; everything else that looks like a page belongs to the app. */
const SERVER_PATHS = /^\/(api|docs|openapi\.json|health|metrics)(\/|$)/;
/** A path with a file extension asks for a file: a missing one is a 404, not the app. */
const FILE_PATH = /\/[^/]*\.[A-Za-z0-9]+$/;

// Plain HTML: the Content Security Policy allows no inline style.
const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Gridshare</title>
<body><h1>Gridshare</h1>
<p>The web app is not built in this checkout: run <code>npm run build:web</code> (or <code>npm start</code>, which builds it).
The API is running: <a href="/docs">/docs</a>.</p></body></html>`;

export async function webRoutes(app: Api): Promise<void> {
  const notFound = (path: string) => ({ error: 'not_found', message: `no route GET ${path}` });
  const built = existsSync(`${WEB_DIST}index.html`);
  if (built) {
    await app.register(fastifyStatic, {
      root: WEB_DIST,
      prefix: '/',
      index: false,
      wildcard: false,
      // build.mjs writes .br and .gz next to each asset.
      preCompressed: true,
      setHeaders: (reply, path) => {
        // Asset names carry a content hash; index.html must be revalidated to pick up a new build.
        reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  // Client-side routes (/members/…, /claim?code=…) load the app, which draws the page.
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (SERVER_PATHS.test(path) || FILE_PATH.test(path)) return reply.status(404).send(notFound(path));
    reply.header('cache-control', 'no-cache');
    return built ? reply.sendFile('index.html') : reply.type('text/html').send(NOT_BUILT);
  });
}
