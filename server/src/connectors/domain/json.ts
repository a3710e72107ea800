import { JSONPath } from 'jsonpath-plus';

/**
 * JSONPath over API responses (jsonpath-plus, with its safe evaluator for filters: a path from
 * a connector's configuration never runs code).
 */
export function jsonPathAll(path: string, document: unknown): unknown[] {
  if (document === null || typeof document !== 'object') return [];
  const found: unknown = JSONPath({ path, json: document, wrap: true, eval: 'safe' });
  return Array.isArray(found) ? found : [];
}

export function jsonPathFirst(path: string, document: unknown): unknown {
  return jsonPathAll(path, document)[0];
}

/** A syntax problem of a path, or undefined. */
export function jsonPathProblem(path: string): string | undefined {
  if (!path.startsWith('$')) return `JSONPath "${path}" must start with $`;
  try {
    JSONPath({ path, json: { probe: [{}] }, wrap: true, eval: 'safe' });
    return undefined;
  } catch (error) {
    return `JSONPath "${path}": ${(error as Error).message}`;
  }
}
