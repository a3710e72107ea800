import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { Api } from '../http/api.js';

/** The browser app: the built bundle when there is one, else the placeholder page in web/public. */
const WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

export async function webRoutes(app: Api): Promise<void> {
  const built = `${WEB_ROOT}dist`;
  const root = existsSync(built) ? built : `${WEB_ROOT}public`;
  await app.register(fastifyStatic, { root, prefix: '/', index: ['index.html'], wildcard: false });
}
