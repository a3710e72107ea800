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

/** Brackets and parentheses must close in order, outside quotes: jsonpath-plus quietly reads `$.a[` as `$.a`. */
function unbalanced(path: string): boolean {
  const open: string[] = [];
  let quote: string | undefined;
  for (const c of path) {
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === '[' || c === '(') {
      open.push(c === '[' ? ']' : ')');
    } else if ((c === ']' || c === ')') && open.pop() !== c) {
      return true;
    }
  }
  return open.length > 0 || quote !== undefined;
}

/** A syntax problem of a path, or undefined. */
export function jsonPathProblem(path: string): string | undefined {
  if (!path.startsWith('$')) return `JSONPath "${path}" must start with $`;
  if (unbalanced(path)) return `JSONPath "${path}" has an unclosed bracket, parenthesis or quote`;
  try {
    JSONPath({ path, json: { probe: [{}] }, wrap: true, eval: 'safe' });
    return undefined;
  } catch (error) {
    return `JSONPath "${path}": ${(error as Error).message}`;
  }
}
