/**
 * The app reaches the API only through the typed client (api/client.ts), which takes every path
 * from the contract (@gridshare/contract): no file under web/src writes an /api/v1 URL itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fillPath, queryString } from '@gridshare/contract';

const SRC = join(import.meta.dirname, '../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : /\.(ts|tsx)$/.test(entry.name) ? [join(dir, entry.name)] : []);
}

/** Lines of `code` that write an API path. */
const handWrittenApiPaths = (code: string) =>
  code.split('\n').map((text, index) => ({ line: index + 1, text: text.trim() })).filter(({ text }) => text.includes('/api/v1'));

describe('API paths in the web app', () => {
  it('finds a hand-written path, in a template or a string', () => {
    expect(handWrittenApiPaths('const a = 1;\nget(`/api/v1/members/${id}`);\nconst b = \'/api/v1/me\';').map((f) => f.line)).toEqual([2, 3]);
  });

  it('has none under web/src: every call names a route of the contract', () => {
    const found = sources(SRC).flatMap((file) => handWrittenApiPaths(readFileSync(file, 'utf8')).map((f) => `${relative(SRC, file)}:${f.line}: ${f.text}`));
    expect(found).toEqual([]);
  });
});

describe('paths and queries from the contract', () => {
  it('fills and encodes path parameters and refuses a missing one', () => {
    expect(fillPath('/api/v1/devices/:id/keys/:slot/rotate', { id: 'meter 1/a', slot: 'primary' })).toBe('/api/v1/devices/meter%201%2Fa/keys/primary/rotate');
    expect(() => fillPath('/api/v1/members/:id', {})).toThrow(/:id/);
  });

  it('repeats the key of an array and leaves out undefined values', () => {
    expect(queryString({ ids: ['a', 'b'], state: undefined, limit: 20 })).toBe('?ids=a&ids=b&limit=20');
    expect(queryString({})).toBe('');
  });
});
