import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { UftpTransportError } from './domain/uftp/errors.js';
import { generateSigningKey, parsePublicKey, secretKeyBytes, unseal, decodeSignedMessage } from './domain/uftp/envelope.js';
import { readPayload, schemaVersionOf } from './domain/uftp/inbound.js';
import type { UftpMessage } from './domain/uftp/messages.js';
import { ENVELOPE_LIMITS, PAYLOAD_LIMITS, readXml, type XmlLimits } from './domain/uftp/xml.js';
import { defaultSchemaDirectory, loadUftpSchemas, SCHEMA_DIRECTORY_VARIABLE } from './uftp-schemas.js';

/**
 * `gridshare uftp inspect`: reads a UFTP message or SignedMessage offline, validates it against
 * the official XSDs, verifies the signature when given the sender's public key, and prints what
 * it says. `gridshare uftp keygen`: a new Ed25519 signing key pair in libsodium's format, as
 * UFTP participants exchange them.
 */

export interface InspectResult {
  readonly envelope?: { readonly senderDomain: string; readonly senderRole: string; readonly signature: 'verified' | 'not checked' };
  readonly schema: string;
  readonly message: UftpMessage;
}

/** Either a payload or an envelope: the size of an envelope, the shape of a payload. */
const EITHER: XmlLimits = { ...PAYLOAD_LIMITS, maxBytes: ENVELOPE_LIMITS.maxBytes, maxAttributeLength: ENVELOPE_LIMITS.maxAttributeLength };

export function inspectUftp(input: Uint8Array, schemaDirectory: string, publicKey?: string): InspectResult {
  const schemas = loadUftpSchemas(schemaDirectory);
  try {
    if (readXml(input, EITHER).name !== 'SignedMessage') {
      const text = new TextDecoder().decode(input);
      const message = readPayload(text, schemas);
      return { schema: schemaVersionOf(message.version), message };
    }
    const envelope = decodeSignedMessage(schemas.validate(input, '3.1.0', ENVELOPE_LIMITS, 'SignedMessage'));
    // Without the sender's key the payload is read from behind the (unchecked) signature.
    const payload = publicKey === undefined ? envelope.body.subarray(64) : unseal(envelope.body, [parsePublicKey(publicKey)]);
    const message = readPayload(new TextDecoder('utf-8', { fatal: true }).decode(payload), schemas);
    return {
      envelope: { senderDomain: envelope.senderDomain, senderRole: envelope.senderRole, signature: publicKey === undefined ? 'not checked' : 'verified' },
      schema: schemaVersionOf(message.version),
      message,
    };
  } finally {
    schemas.dispose();
  }
}

const toJson = (value: unknown) => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);

function summary(result: InspectResult): string {
  const m = result.message;
  const lines = [
    `${m.type} (UFTP ${m.version}, valid against the ${result.schema} schema)`,
    `  from ${m.senderDomain} to ${m.recipientDomain} at ${new Date(m.timeStamp).toISOString()}`,
    `  MessageID ${m.messageId}, ConversationID ${m.conversationId}`,
  ];
  if (result.envelope) lines.unshift(`SignedMessage from ${result.envelope.senderRole} ${result.envelope.senderDomain}, signature ${result.envelope.signature}`);
  if ('period' in m && 'congestionPoint' in m) lines.push(`  Period ${m.period} (${m.timeZone}), congestion point ${m.congestionPoint}`);
  if ('isps' in m) lines.push(`  ${m.isps.length} ISP elements`);
  if ('result' in m) lines.push(`  Result ${m.result}${m.rejectionReason ? `: ${m.rejectionReason}` : ''}`);
  return lines.join('\n');
}

export function registerUftpCommands(program: Command): void {
  const uftp = program.command('uftp').description('UFTP (Shapeshifter) tools for flexibility trading with the grid operator');
  uftp
    .command('inspect <file>')
    .description('Validate a UFTP message or SignedMessage against the official XSDs and show it; "-" reads stdin')
    .option('--xsd <dir>', `directory with 3.0.0/ and 3.1.0/ UFTP-*.xsd files (default: $${SCHEMA_DIRECTORY_VARIABLE}, else the schemas shipped with Gridshare)`)
    .option('--public-key <base64>', 'the sender\'s Ed25519 public key: verify the SignedMessage signature')
    .option('--json', 'print the decoded message as JSON (amounts as exact decimal strings of nano-units)')
    .action((file: string, options: { xsd?: string; publicKey?: string; json?: boolean }) => {
      const directory = options.xsd ?? defaultSchemaDirectory();
      try {
        const result = inspectUftp(readFileSync(file === '-' ? 0 : file), directory, options.publicKey);
        process.stdout.write(`${options.json ? toJson(result) : summary(result)}\n`);
      } catch (error) {
        if (!(error instanceof UftpTransportError)) throw error;
        process.stderr.write(`error: ${error.refusal}: ${error.message}\n`);
        process.exit(2);
      }
    });
  uftp
    .command('keygen')
    .description('Generate an Ed25519 signing key pair in libsodium format (secret key = seed ‖ public key), base64')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }) => {
      const key = generateSigningKey();
      const pair = { publicKey: Buffer.from(key.publicKey).toString('base64'), secretKey: Buffer.from(secretKeyBytes(key)).toString('base64') };
      process.stdout.write(options.json ? `${JSON.stringify(pair, null, 2)}\n` : `public key  ${pair.publicKey}\nsecret key  ${pair.secretKey}\n(keep the secret key secret; give the public key to the other participants)\n`);
    });
}
