import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type SerializerFactory = ReturnType<typeof SerializerSelector>;
type Serializer = ReturnType<ReturnType<SerializerFactory>>;

const buildSerializer = SerializerSelector();

/**
 * Compiled response serializers by schema text (and the shared schemas and options they were built
 * with). A serializer is a pure function of its schema, so the same route in the next platform this
 * process starts (every test file starts its own) reuses it: fast-json-stringify's code generation is
 * a third of a start's CPU time.
 */
const compiled = new Map<string, Serializer>();

/** Fastify's own serializer factory (fast-json-stringify), remembering what it compiled. */
export const cachingSerializerFactory: SerializerFactory = (externalSchemas, options) => {
  const build = buildSerializer(externalSchemas, options);
  const shared = JSON.stringify([externalSchemas, options]);
  return (route) => {
    const key = `${shared}:${JSON.stringify(route.schema)}`;
    let serializer = compiled.get(key);
    if (!serializer) {
      serializer = build(route);
      compiled.set(key, serializer);
    }
    return serializer;
  };
};
