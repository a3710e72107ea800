import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ParseOption, XmlDocument, XmlValidateError, XsdValidator } from 'libxml2-wasm';
import { BadRequestError } from '../../kernel/errors.js';
import { refuseHostileMarkup } from './camt053.js';

/**
 * Validation of SEPA files against the official ISO 20022 XSDs with libxml2 (WebAssembly, from
 * the npm registry alone). The six schemas are vendored unchanged as test material in
 * `server/src/billing/sepa/iso20022` (where they come from and their SHA-256: its README.md), one
 * file per message version named as ISO publishes it (`pain.008.001.02.xsd`, …). Each is a single
 * self-contained file, parsed with network access and external entities off; documents are
 * screened for DOCTYPEs and entities before libxml2 sees them.
 */
export const SEPA_SCHEMA_DIRECTORY_VARIABLE = 'SEPA_XSD_DIR';

export const SEPA_SCHEMA_VERSIONS = [
  'pain.001.001.03', 'pain.001.001.09', 'pain.008.001.02', 'pain.008.001.08', 'camt.053.001.02', 'camt.053.001.08',
] as const;
export type SepaSchemaVersion = (typeof SEPA_SCHEMA_VERSIONS)[number];

export const isSepaSchemaVersion = (version: string): version is SepaSchemaVersion => (SEPA_SCHEMA_VERSIONS as readonly string[]).includes(version);

/** The ISO originals vendored with the checkout. */
export const VENDORED_SEPA_SCHEMA_DIRECTORY = fileURLToPath(new URL('./iso20022', import.meta.url));

/** `$SEPA_XSD_DIR` when set, else the vendored copy, else `../shared/sepa` next to the checkout. */
export function defaultSepaSchemaDirectory(): string | undefined {
  const configured = process.env[SEPA_SCHEMA_DIRECTORY_VARIABLE];
  if (configured) return configured;
  const shared = fileURLToPath(new URL('../../../../../shared/sepa', import.meta.url));
  return [VENDORED_SEPA_SCHEMA_DIRECTORY, shared].find((directory) => existsSync(directory));
}

const PARSE_OPTIONS = ParseOption.XML_PARSE_NONET | ParseOption.XML_PARSE_NO_XXE;

export interface SepaSchemas {
  /** The versions whose XSD was found. */
  readonly versions: readonly SepaSchemaVersion[];
  /** Throws a BadRequestError naming the first violation (with its line). */
  validate(xml: string, version: SepaSchemaVersion): void;
  dispose(): void;
}

/** Compiles the XSDs of `only` (default: every version) found in `directory`. */
export function loadSepaSchemas(directory: string, only: readonly SepaSchemaVersion[] = SEPA_SCHEMA_VERSIONS): SepaSchemas {
  const validators = new Map<SepaSchemaVersion, XsdValidator>();
  try {
    for (const version of only) {
      const file = join(directory, `${version}.xsd`);
      if (!existsSync(file)) continue;
      const schema = XmlDocument.fromString(readFileSync(file, 'utf8'), { option: PARSE_OPTIONS });
      try {
        validators.set(version, XsdValidator.fromDoc(schema));
      } finally {
        schema.dispose();
      }
    }
  } catch (error) {
    for (const validator of validators.values()) validator.dispose();
    throw error;
  }
  return {
    versions: [...validators.keys()],
    validate(xml, version) {
      const validator = validators.get(version);
      if (!validator) throw new Error(`no ${version}.xsd in ${directory}`);
      refuseHostileMarkup(xml);
      let document: XmlDocument;
      try {
        document = XmlDocument.fromString(xml, { option: PARSE_OPTIONS });
      } catch (error) {
        throw new BadRequestError(`malformed XML: ${(error as Error).message.trim()}`);
      }
      try {
        validator.validate(document);
      } catch (error) {
        if (!(error instanceof XmlValidateError)) throw error;
        const first = error.details[0];
        throw new BadRequestError(`not valid against ${version}${first ? ` (line ${first.line})` : ''}: ${(first?.message ?? error.message).trim()}`);
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
