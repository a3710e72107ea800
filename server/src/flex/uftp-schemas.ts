import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ParseOption, XmlDocument, XmlValidateError, XsdValidator } from 'libxml2-wasm';
import { UftpTransportError } from './domain/uftp/errors.js';
import { SCHEMA_VERSIONS, type SchemaValidator, type SchemaVersion } from './domain/uftp/inbound.js';
import { PAYLOAD_LIMITS, readXml } from './domain/uftp/xml.js';

/**
 * Validation against the official UFTP XSDs with libxml2 (compiled to WebAssembly: the
 * `libxml2-wasm` package ships the .wasm inside the npm tarball, so it installs from the npm
 * registry alone, on any Node ≥ 18, without a compiler or a download at install time).
 *
 * The XSD files of one version include each other by relative schemaLocation. Instead of
 * registering a process-wide input provider so libxml2 can resolve those, the files are merged
 * into one schema in memory (they share the no-namespace target, so this is the same schema):
 * libxml2 never opens a file or a URL. Documents are parsed with network access and external
 * entities disabled, and only after the safe reader (domain/uftp/xml.ts) has refused DOCTYPEs
 * and other hostile constructs — libxml2 is the second line, not the first.
 */

/** The directory holding `3.0.0/` and `3.1.0/` with the UFTP-*.xsd files: overrides the copy shipped in `uftp-xsd/`. */
export const SCHEMA_DIRECTORY_VARIABLE = 'UFTP_XSD_DIR';

/** The official 3.0.0 and 3.1.0 schemas shipped with Gridshare (Apache-2.0, see uftp-xsd/NOTICE). */
export const VENDORED_SCHEMA_DIRECTORY = fileURLToPath(new URL('./uftp-xsd', import.meta.url));

/** `$UFTP_XSD_DIR` when set, else the vendored copy. */
export function defaultSchemaDirectory(): string {
  return process.env[SCHEMA_DIRECTORY_VARIABLE] || VENDORED_SCHEMA_DIRECTORY;
}

const PARSE_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;

function mergedSchema(directory: string): string {
  const files = readdirSync(directory).filter((name) => /^UFTP-.*\.xsd$/.test(name)).sort();
  if (files.length === 0) throw new Error(`no UFTP-*.xsd files in ${directory}`);
  const parts = files.map((name) => {
    const xsd = readFileSync(join(directory, name), 'utf8');
    const open = xsd.indexOf('>', xsd.indexOf('<xs:schema')) + 1;
    const close = xsd.lastIndexOf('</xs:schema>');
    if (open <= 0 || close < open) throw new Error(`${name} is not an xs:schema document`);
    return xsd.slice(open, close).replace(/<xs:include\b[^>]*\/>/g, '');
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified" attributeFormDefault="unqualified">${parts.join('\n')}</xs:schema>`;
}

export interface LoadedSchemas extends SchemaValidator {
  /** Frees the compiled schemas (WebAssembly memory). */
  dispose(): void;
}

export function loadUftpSchemas(directory: string): LoadedSchemas {
  const validators = new Map<SchemaVersion, XsdValidator>();
  try {
    for (const version of SCHEMA_VERSIONS) {
      const schemaDocument = XmlDocument.fromString(mergedSchema(join(directory, version)), { option: PARSE_OPTIONS });
      try {
        validators.set(version, XsdValidator.fromDoc(schemaDocument));
      } finally {
        schemaDocument.dispose();
      }
    }
  } catch (error) {
    for (const validator of validators.values()) validator.dispose();
    throw error;
  }

  return {
    validate(xml, version, limits = PAYLOAD_LIMITS, expectedRoot) {
      // The safe reader first: nothing hostile reaches libxml2.
      const tree = readXml(xml, limits, expectedRoot);
      const schemaVersion = typeof version === 'function' ? version(tree) : version;
      let document: XmlDocument;
      try {
        document = XmlDocument.fromString(typeof xml === 'string' ? xml : Buffer.from(xml).toString('utf8'), { option: PARSE_OPTIONS });
      } catch (error) {
        throw new UftpTransportError('malformed_xml', `malformed XML: ${(error as Error).message.trim()}`);
      }
      try {
        if (document.dtd !== null) throw new UftpTransportError('forbidden_xml', 'a DOCTYPE is not allowed in a UFTP message');
        validators.get(schemaVersion)!.validate(document);
        return tree;
      } catch (error) {
        if (error instanceof XmlValidateError) {
          const first = error.details[0];
          const where = first ? ` (line ${first.line})` : '';
          throw new UftpTransportError('not_schema_valid', `not valid against the UFTP ${schemaVersion} schema${where}: ${(first?.message ?? error.message).trim()}`);
        }
        throw error;
      } finally {
        document.dispose();
      }
    },
    dispose() {
      for (const validator of validators.values()) validator.dispose();
      validators.clear();
    },
  };
}
