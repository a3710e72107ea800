import { UftpTransportError } from './errors.js';
import type { ValueType } from './values.js';
import type { XmlNode } from './xml.js';

/**
 * A small schema language for UFTP elements, in the style of Zod: one declaration gives the
 * TypeScript type (via `Shape`), the reader and the writer, so the typed model, what is parsed
 * and what is written cannot drift apart. Reading is strict: an unknown attribute or child, a
 * missing required one, a value of the wrong type or a count out of range is an
 * `invalid_message` error naming the path (`/FlexRequest/ISP[3]/@MinPower`).
 */
export interface Field<T> {
  readonly optional: boolean;
  /** The XML attribute or child element name this field maps to. */
  readonly xmlName: string;
  readonly isChildren: boolean;
  read(node: XmlNode, path: string): T;
  write(value: T, attributes: Record<string, string>, children: XmlNode[]): void;
}

export interface OptionalField<T> extends Field<T | undefined> {
  readonly optional: true;
}

export type Fields = Readonly<Record<string, Field<unknown>>>;

type ValueOf<F> = F extends Field<infer T> ? T : never;
type OptionalKeys<F extends Fields> = { [K in keyof F]: F[K] extends OptionalField<unknown> ? K : never }[keyof F];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The value type a set of fields reads to: optional attributes become optional properties. */
export type Shape<F extends Fields> = Simplify<
  { readonly [K in Exclude<keyof F, OptionalKeys<F>>]: ValueOf<F[K]> } & { readonly [K in OptionalKeys<F>]?: Exclude<ValueOf<F[K]>, undefined> }
>;

const invalid = (path: string, message: string) => new UftpTransportError('invalid_message', `${path}: ${message}`);

function readAttribute<T>(node: XmlNode, path: string, name: string, type: ValueType<T>): T | undefined {
  const text = node.attributes[name];
  if (text === undefined) return undefined;
  const value = type.parse(text);
  if (value === undefined) throw invalid(`${path}/@${name}`, `not ${type.describe}: ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)}`);
  return value;
}

export function required<T>(xmlName: string, type: ValueType<T>): Field<T> {
  return {
    optional: false,
    xmlName,
    isChildren: false,
    read(node, path) {
      const value = readAttribute(node, path, xmlName, type);
      if (value === undefined) throw invalid(path, `the attribute ${xmlName} is required`);
      return value;
    },
    write(value, attributes) {
      attributes[xmlName] = type.format(value);
    },
  };
}

export function optional<T>(xmlName: string, type: ValueType<T>): OptionalField<T> {
  return {
    optional: true,
    xmlName,
    isChildren: false,
    read: (node, path) => readAttribute(node, path, xmlName, type),
    write(value, attributes) {
      if (value !== undefined) attributes[xmlName] = type.format(value);
    },
  };
}

/** An optional attribute with the schema's default: reads as the default when absent, always written. */
export function withDefault<T>(xmlName: string, type: ValueType<T>, fallback: T): Field<T> {
  return {
    optional: false,
    xmlName,
    isChildren: false,
    read: (node, path) => readAttribute(node, path, xmlName, type) ?? fallback,
    write(value, attributes) {
      attributes[xmlName] = type.format(value);
    },
  };
}

export interface ElementCodec<T> {
  read(node: XmlNode, path: string): T;
  write(name: string, value: T): XmlNode;
}

/** A repeated child element, `min` to `max` times (the schema's minOccurs/maxOccurs). */
export function children<T>(xmlName: string, codec: ElementCodec<T>, min = 1, max = Number.POSITIVE_INFINITY): Field<readonly T[]> {
  return {
    optional: false,
    xmlName,
    isChildren: true,
    read(node, path) {
      const items: T[] = [];
      for (const child of node.children) {
        if (child.name === xmlName) items.push(codec.read(child, `${path}/${xmlName}[${items.length + 1}]`));
      }
      if (items.length < min || items.length > max) {
        throw invalid(path, `${items.length} <${xmlName}> elements where ${min}${max === Number.POSITIVE_INFINITY ? ' or more' : `–${max}`} are allowed`);
      }
      return items;
    },
    write(value, _attributes, out) {
      if (value.length < min || value.length > max) throw invalid(`<${xmlName}>`, `${value.length} elements where at least ${min} are needed`);
      for (const item of value) out.push(codec.write(xmlName, item));
    },
  };
}

export function element<F extends Fields>(fields: F): ElementCodec<Shape<F>> {
  const entries = Object.entries(fields);
  const attributeNames = new Set(entries.filter(([, f]) => !f.isChildren).map(([, f]) => f.xmlName));
  const childNames = new Set(entries.filter(([, f]) => f.isChildren).map(([, f]) => f.xmlName));
  return {
    read(node, path) {
      for (const name of Object.keys(node.attributes)) {
        if (!attributeNames.has(name)) throw invalid(path, `unknown attribute ${name}`);
      }
      for (const child of node.children) {
        if (!childNames.has(child.name)) throw invalid(path, `unknown element <${child.name}>`);
      }
      const value: Record<string, unknown> = {};
      for (const [key, field] of entries) {
        const read = field.read(node, path);
        if (read !== undefined) value[key] = read;
      }
      return value as Shape<F>;
    },
    write(name, value) {
      const attributes: Record<string, string> = {};
      const kids: XmlNode[] = [];
      const record = value as Record<string, unknown>;
      for (const [key, field] of entries) field.write(record[key], attributes, kids);
      return { name, attributes, children: kids };
    },
  };
}
