/**
 * The API contract (@gridshare/contract) and the routes the server registers are the same set:
 * a route added on one side only, or registered under another method or path, fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '@gridshare/contract';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

/**
 * "METHOD path" of every route in Fastify's route tree (printRoutes). Each line is one node: its
 * depth shown by 4-character indents, then the part of the path it adds and its methods.
 */
function registeredRoutes(tree: string): Set<string> {
  const routes = new Set<string>();
  const prefixes: string[] = [];
  for (const line of tree.split('\n')) {
    const node = /^((?:│ {3}| {4})*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/u.exec(line);
    if (!node) continue;
    const depth = node[1]!.length / 4;
    const path = (prefixes[depth - 1] ?? '') + node[2]!;
    prefixes[depth] = path;
    prefixes.length = depth + 1;
    for (const method of node[3]?.split(', ') ?? []) if (method !== 'HEAD') routes.add(`${method} ${path}`);
  }
  return routes;
}

describe('registeredRoutes', () => {
  it('joins each node to its parents and leaves out the HEAD routes Fastify adds', () => {
    const tree = [
      '└── /api/v1/me (GET, HEAD)',
      '    ├── /tokens (GET, HEAD, POST)',
      '    │   └── /:id (DELETE)',
      '    └── mbers/:id (PATCH)',
    ].join('\n');
    expect([...registeredRoutes(tree)]).toEqual(['GET /api/v1/me', 'GET /api/v1/me/tokens', 'POST /api/v1/me/tokens', 'DELETE /api/v1/me/tokens/:id', 'PATCH /api/v1/members/:id']);
  });
});

describe('the API contract', () => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform('pglite');
  });
  afterAll(async () => tp?.close());

  it('names every route the server registers under /api/, and the server registers every route it names', () => {
    const registered = registeredRoutes(tp.platform.app.printRoutes({ commonPrefix: false }));
    const declared = new Set(Object.values(api).map((route) => `${route.method} ${route.path}`));
    expect(declared.size, 'two contract entries for one route').toBe(Object.keys(api).length);
    expect([...registered].filter((route) => route.split(' ')[1]!.startsWith('/api/') && !declared.has(route)), 'registered, not in the contract').toEqual([]);
    // A wildcard route (the ledger's tiles) shows in Fastify's printed tree only as "*": ask for each one.
    const isRegistered = (route: string) => {
      const [method, url] = route.split(' ') as [string, string];
      return registered.has(route) || tp.platform.app.hasRoute({ method: method as 'GET', url });
    };
    expect([...declared].filter((route) => !isRegistered(route)), 'in the contract, not registered').toEqual([]);
  });

  it('documents in /openapi.json exactly the contract\'s routes', async () => {
    const doc = (await tp.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1').replace(/\{\*\}$/, '*')}`));
    expect(documented.sort()).toEqual(Object.values(api).map((route) => `${route.method} ${route.path}`).sort());
  });
});
