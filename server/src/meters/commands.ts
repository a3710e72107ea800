import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { FrameError } from './domain/decoder.js';
import { decodeFrame, decoderNames } from './domain/registry.js';
import './domain/decoders/index.js';

/** Hex text (whitespace ignored) becomes bytes; anything else is taken as it is. */
export function frameBytes(input: Buffer): Uint8Array {
  const text = input.toString('latin1');
  const compact = text.replace(/\s+/g, '');
  if (compact.length > 0 && compact.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(compact)) return Buffer.from(compact, 'hex');
  return input;
}

function hexKey(value: string): Buffer {
  if (!/^[0-9a-fA-F]{32}$/.test(value)) throw new Error('a key is 32 hex digits (AES-128)');
  return Buffer.from(value, 'hex');
}

async function readInput(path: string): Promise<Buffer> {
  if (path !== '-') return readFile(path);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export function registerDecodeCommand(program: Command): void {
  program
    .command('decode <file>')
    .description('Decode a meter frame (DSMR P1, Smarty, DLMS/COSEM, M-Bus, SML) to normalised readings as JSON; "-" reads stdin')
    .addOption(new Option('--format <format>', 'frame format').default('auto'))
    .option('--key <hex>', 'AES-128 encryption key (GUEK)')
    .option('--auth-key <hex>', 'authentication key (GAK)')
    .option('--ignore-crc', 'decode even when the checksum is wrong (published examples only)')
    .action(async (file: string, options: { format: string; key?: string; authKey?: string; ignoreCrc?: boolean }) => {
      if (options.format !== 'auto' && !decoderNames().includes(options.format)) {
        process.stderr.write(`error: unsupported: --format is one of auto, ${decoderNames().join(', ')}\n`);
        process.exit(2);
      }
      try {
        const decoded = decodeFrame(frameBytes(await readInput(file)), {
          format: options.format,
          key: options.key ? hexKey(options.key) : undefined,
          authKey: options.authKey ? hexKey(options.authKey) : undefined,
          ignoreCrc: options.ignoreCrc ?? false,
          receivedAt: new Date(),
        });
        process.stdout.write(`${JSON.stringify({ format: decoded.format, meterId: decoded.meterId ?? null, readings: decoded.readings, extra: decoded.extra ?? {} }, null, 2)}\n`);
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        process.stderr.write(`error: ${error.code}: ${error.message}\n`);
        process.exit(2);
      }
    });
}
