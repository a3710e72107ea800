import type { Framer, FramerKind, FramerOptions } from './framer.js';
import { textFraming } from './text.js';
import { mbusFraming } from './mbus.js';
import { smlFraming } from './sml.js';

const framings = new Map<string, FramerKind>();

export function registerFraming(kind: FramerKind): void {
  if (framings.has(kind.name)) throw new Error(`framing ${kind.name} registered twice`);
  framings.set(kind.name, kind);
}

export function framingNames(): string[] {
  return [...framings.keys()];
}

export function createFramer(name: string, options?: FramerOptions): Framer {
  const kind = framings.get(name);
  if (!kind) throw new Error(`unknown framing "${name}"; one of ${framingNames().join(', ')}`);
  return kind.create(options);
}

registerFraming(textFraming);
registerFraming(mbusFraming);
registerFraming(smlFraming);
