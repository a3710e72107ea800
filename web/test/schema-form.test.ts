import { describe, expect, it } from 'vitest';
import { chosenBranch, controlOf, initialValue, parseNumber, pointerOf, setAt, type JsonSchema } from '../src/lib/schema-form.js';

/** A configuration schema shaped like a connector kind's (TypeBox output): a union told apart by `type`, a secret, a list of groups, a record. */
const schema: JsonSchema = {
  type: 'object',
  required: ['auth', 'steps', 'port'],
  properties: {
    auth: {
      anyOf: [
        { type: 'object', required: ['type'], properties: { type: { type: 'string', const: 'none' } } },
        { type: 'object', required: ['type', 'token'], properties: { type: { type: 'string', const: 'bearer' }, token: { type: 'string', writeOnly: true } } },
      ],
    },
    steps: { type: 'array', items: { type: 'object', required: ['url'], properties: { url: { type: 'string' }, headers: { type: 'object', patternProperties: { '^.*$': { type: 'string' } } } } } },
    port: { type: 'integer', default: 502 },
    unit: { enum: ['kWh', 'Wh'] },
  },
};

describe('the form generated from a connector kind\'s schema', () => {
  it('gives each schema its control: a choice for a union named by a constant, a password for a secret, JSON for a record', () => {
    const auth = controlOf(schema.properties!.auth!);
    expect(auth.kind).toBe('choice');
    expect(auth.kind === 'choice' && auth.branches.map((b) => b.value)).toEqual(['none', 'bearer']);
    expect(auth.kind === 'choice' && chosenBranch(auth, { type: 'bearer' }).value).toBe('bearer');
    expect(auth.kind === 'choice' && chosenBranch(auth, {}).value).toBe('none');
    expect(controlOf(schema.properties!.auth!.anyOf![1]!.properties!.token!)).toEqual({ kind: 'text', secret: true });
    expect(controlOf(schema.properties!.steps!)).toEqual({ kind: 'list' });
    expect(controlOf(schema.properties!.steps!.items!.properties!.headers!)).toEqual({ kind: 'json' });
    expect(controlOf(schema.properties!.port!)).toEqual({ kind: 'number', integer: true });
    expect(controlOf(schema.properties!.unit!)).toEqual({ kind: 'enum', options: ['kWh', 'Wh'] });
  });

  it('starts a new configuration with the required groups and the first choice, and sets and clears fields by path', () => {
    expect(initialValue(schema)).toEqual({ auth: { type: 'none' }, steps: [], port: 502 });
    const config = setAt(setAt(initialValue(schema), ['steps', 0, 'url'], 'http://x'), ['auth'], { type: 'bearer', token: 't' });
    expect(config).toEqual({ auth: { type: 'bearer', token: 't' }, steps: [{ url: 'http://x' }], port: 502 });
    expect(setAt(config, ['auth', 'token'], undefined)).toEqual({ auth: { type: 'bearer' }, steps: [{ url: 'http://x' }], port: 502 });
    expect(pointerOf(['auth', 'token'])).toBe('/auth/token');
    expect([parseNumber('12', true), parseNumber('1.5', true), parseNumber('1.5', false), parseNumber('', false)]).toEqual([12, undefined, 1.5, undefined]);
  });
});
