import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { FrameError } from './domain/decoder.js';
import { decodeFrame, decoderNames } from './domain/registry.js';
import './domain/decoders/index.js';

/**
 * A file's frame: leading `#` comment lines (the header of a shared test vector) are dropped; hex
 * text (whitespace ignored) becomes bytes; anything else is taken as it is.
 */
function frameBytes(input: Buffer): Buffer {
  const text = input.toString('latin1');
  const body = text.replace(/^(?:#[^\n]*\n)+/, '');
  const compact = body.replace(/\s+/g, '');
  if (compact.length > 0 && compact.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(compact)) return Buffer.from(compact, 'hex');
  return body.length === text.length ? input : Buffer.from(body, 'latin1');
}

/** Text whose lines end in a bare LF, as DSMR telegrams saved by editors and vector files are. */
const hasBareLineFeeds = (frame: Buffer) => /(?<!\r)\n/.test(frame.toString('latin1'));
const withCrLf = (frame: Buffer) => Buffer.from(frame.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');

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
    .description('Decode a meter frame (DSMR P1, Smarty, DLMS/COSEM, M-Bus, SML, IEC 62056-21 D0) to normalised readings as JSON; "-" reads stdin. Hex text is read as bytes; leading # comment lines are skipped.')
    .addOption(new Option('--format <format>', 'frame format').choices(['auto', ...decoderNames()]).default('auto'))
    .option('--key <hex>', 'AES-128 encryption key (GUEK)')
    .option('--auth-key <hex>', 'authentication key (GAK)')
    .option('--ignore-crc', 'decode even when the checksum is wrong (published examples only)')
    .action(async (file: string, options: { format: string; key?: string; authKey?: string; ignoreCrc?: boolean }) => {
      const frame = frameBytes(await readInput(file));
      const decode = (bytes: Buffer) => decodeFrame(bytes, {
        format: options.format,
        key: options.key ? hexKey(options.key) : undefined,
        authKey: options.authKey ? hexKey(options.authKey) : undefined,
        ignoreCrc: options.ignoreCrc ?? false,
        receivedAt: new Date(),
      });
      try {
        let decoded;
        try {
          decoded = decode(frame);
        } catch (error) {
          // DSMR sums its CRC over CR LF line ends; a telegram saved with LF alone is tried that way.
          if (!(error instanceof FrameError && error.code === 'crc' && hasBareLineFeeds(frame))) throw error;
          try {
            decoded = decode(withCrLf(frame));
          } catch (again) {
            if (again instanceof FrameError && again.code === 'crc') {
              throw new FrameError('crc', `${again.message} (with the line ends made CR LF, as DSMR needs; with LF alone: ${error.message})`);
            }
            throw again;
          }
          process.stderr.write('note: the line ends were made CR LF, over which DSMR computes its CRC\n');
        }
        process.stdout.write(`${JSON.stringify({ format: decoded.format, meterId: decoded.meterId ?? null, readings: decoded.readings, extra: decoded.extra ?? {} }, null, 2)}\n`);
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        process.stderr.write(`error: ${error.code}: ${error.message}\n`);
        process.exit(2);
      }
    });
}
