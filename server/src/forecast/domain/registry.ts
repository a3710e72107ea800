import { BadRequestError } from '../../kernel/errors.js';
import type { ModelAdapter, SeriesKind } from './model.js';

/**
 * Forecast models by name. Each model module registers itself when imported (like the meter
 * decoders and allocation rules); `./models/index.ts` imports them all. `auto` is not a model
 * but a choice among them (see auto.ts).
 */
const models = new Map<string, ModelAdapter>();

export const AUTO = 'auto';
/** Everything is scored against this one. */
export const REFERENCE_MODEL = 'persistence';

export function registerModel(model: ModelAdapter): void {
  if (models.has(model.name) || model.name === AUTO) throw new Error(`forecast model ${model.name} registered twice`);
  models.set(model.name, model);
}

export function getModel(name: string): ModelAdapter | undefined {
  return models.get(name);
}

export function modelNames(): string[] {
  return [...models.keys()];
}

export function modelsFor(kind: SeriesKind): ModelAdapter[] {
  return [...models.values()].filter((m) => m.kinds.includes(kind));
}

/** The named model, or a clear error naming the choices. */
export function requireModel(name: string, kind?: SeriesKind): ModelAdapter {
  const model = models.get(name);
  if (!model) throw new BadRequestError(`unknown forecast model "${name}" (known: ${[AUTO, ...modelNames()].join(', ')})`, 'model');
  if (kind && !model.kinds.includes(kind)) throw new BadRequestError(`model ${name} does not forecast ${kind} (it forecasts ${model.kinds.join(', ')})`, 'model');
  return model;
}
