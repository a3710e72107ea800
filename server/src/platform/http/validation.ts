import { Ajv, _, type KeywordCxt, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { FastifySchemaCompiler } from 'fastify';
import { isWithinDateRange } from '../../kernel/time.js';

/** The keyword every string schema gets at compile time (see `withoutNul`). */
const NO_NUL = 'x-no-nul';

const validDateTime = fullFormats['date-time'] as { validate: (text: string) => boolean };
const validDate = fullFormats.date as { validate: (text: string) => boolean };

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: false, removeAdditional: false, useDefaults: true, strict: false, ...options });
  addFormats.default(ajv);
  // One date range for everything the API reads (kernel/time.ts): year 0000, 0001 or 9999 is a
  // typing error or a probe, never energy data, and PostgreSQL or the calendar would choke on it.
  ajv.addFormat('date-time', { type: 'string', validate: (text: string) => validDateTime.validate(text) && isWithinDateRange(Date.parse(text)) });
  ajv.addFormat('date', { type: 'string', validate: (text: string) => validDate.validate(text) && isWithinDateRange(Date.parse(text)) });
  // A NUL cannot be stored in PostgreSQL text and has no place in a name, an address or a query.
  ajv.addKeyword({
    keyword: NO_NUL,
    type: 'string',
    schemaType: 'boolean',
    error: { message: 'must not contain a NUL character (\\u0000)' },
    code(cxt: KeywordCxt) {
      cxt.fail(_`${cxt.data}.includes("\\u0000")`);
    },
  });
  return ajv;
}

type Schema = Record<string, unknown>;

const SUBSCHEMA = new Set(['items', 'additionalItems', 'additionalProperties', 'not', 'contains', 'propertyNames', 'if', 'then', 'else']);
const SUBSCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
const SUBSCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);

/**
 * A copy of a route's schema in which every string schema also refuses NUL characters: done once
 * here, when a route is compiled, so no route can forget it.
 */
export function withoutNul(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutNul);
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: Schema = { ...(schema as Schema) };
  for (const [key, value] of Object.entries(copy)) {
    if (SUBSCHEMA.has(key) || SUBSCHEMA_LISTS.has(key)) copy[key] = withoutNul(value);
    else if (SUBSCHEMA_MAPS.has(key) && value && typeof value === 'object') {
      copy[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, withoutNul(sub)]));
    }
  }
  if (copy.type === 'string' || (Array.isArray(copy.type) && copy.type.includes('string'))) copy[NO_NUL] = true;
  return copy;
}

// Bodies are JSON and must already have the right types ("5" is not a number); query strings
// and path parameters are text by nature, so they are coerced.
const strict = makeAjv({ coerceTypes: false });
const coercing = makeAjv({ coerceTypes: 'array' });

type Validator = ReturnType<FastifySchemaCompiler<object>>;

/**
 * Compiled validators by part and schema text. A validator is a pure function of its schema, so a
 * schema met again (the same route in the next platform this process starts: every test file starts
 * its own, and ajv's code generation is most of a start's CPU time) reuses the compiled one, and ajv
 * no longer keeps a new copy of every schema per start.
 */
const compiled = new Map<string, Validator>();

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  const coerce = httpPart !== 'body';
  const key = `${coerce ? 'coercing' : 'strict'}:${JSON.stringify(schema)}`;
  let validator = compiled.get(key);
  if (!validator) {
    validator = (coerce ? coercing : strict).compile(withoutNul(schema) as object) as Validator;
    compiled.set(key, validator);
  }
  return validator;
};
