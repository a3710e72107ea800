import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { once } from 'node:events';

/**
 * Just enough CSV for Gridshare's interval files: comma-separated, one record per line,
 * optional RFC 4180 quoting (a quoted field may contain commas and doubled quotes, not line
 * breaks). Streaming in both directions, because a year of 1,000 members is 35 million lines.
 */
export class CsvSyntaxError extends Error {
  constructor(message: string, readonly line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

/** Splits one line into fields (quotes only cost when the line has one). */
export function splitCsvLine(line: string, lineNo: number): string[] {
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new CsvSyntaxError('unterminated quoted field', lineNo);
        value += line.slice(i, q);
        if (line[q + 1] === '"') { value += '"'; i = q + 2; continue; }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === line.length) return fields;
      if (line[i] !== ',') throw new CsvSyntaxError('text after a closing quote', lineNo);
      i++;
    } else {
      const comma = line.indexOf(',', i);
      const field = comma < 0 ? line.slice(i) : line.slice(i, comma);
      if (field.includes('"')) throw new CsvSyntaxError('quote inside an unquoted field', lineNo);
      fields.push(field);
      if (comma < 0) return fields;
      i = comma + 1;
    }
  }
}

export interface ReadProgress {
  readonly bytesRead: number;
  readonly totalBytes: number;
  readonly lines: number;
}

/**
 * Calls `onLine(text, start, end, lineNo)` for every non-blank line of a file, where the line
 * is `text.slice(start, end)` (without the line end). Handing out offsets instead of strings
 * lets a parser read fields in place: at tens of millions of lines, the garbage of a string
 * and an array per line costs more than the parsing. A byte-order mark and CRLF are accepted.
 */
export async function readLines(
  path: string,
  onLine: (text: string, start: number, end: number, line: number) => void,
  onProgress?: (progress: ReadProgress) => void,
): Promise<void> {
  const totalBytes = (await stat(path)).size;
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let lineNo = 0;
  let bytesRead = 0;
  const handle = (text: string, start: number, end: number) => {
    lineNo++;
    if (end > start && text.charCodeAt(end - 1) === 13) end--;
    if (lineNo === 1 && text.charCodeAt(start) === 0xfeff) start++;
    for (let k = start; k < end; k++) {
      const c = text.charCodeAt(k);
      if (c !== 32 && c !== 9) return onLine(text, start, end, lineNo);
    }
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buffer = chunk as Buffer;
    bytesRead += buffer.length;
    const text = pending + decoder.write(buffer);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      handle(text, start, nl);
      start = nl + 1;
    }
    pending = text.slice(start);
    onProgress?.({ bytesRead, totalBytes, lines: lineNo });
  }
  pending += decoder.end();
  if (pending !== '') handle(pending, 0, pending.length);
}


/**
 * A writer for large generated files: rows are assembled as bytes in a buffer (no string per
 * row), handed to the file stream in ~1 MB pieces. `flushIfFull` honours back-pressure.
 */
export class ByteWriter {
  private readonly stream: WriteStream;
  private buffer = Buffer.allocUnsafe(1 << 20);
  private pos = 0;
  private readonly digits = new Uint8Array(20);

  constructor(path: string) {
    this.stream = createWriteStream(path);
  }

  /** Makes room for `n` more bytes (grows the buffer; flushing is `flushIfFull`'s job). */
  reserve(n: number): void {
    if (this.pos + n <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.pos + n));
    this.buffer.copy(bigger, 0, 0, this.pos);
    this.buffer = bigger;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buffer.set(b, this.pos);
    this.pos += b.length;
  }

  byte(c: number): void {
    this.reserve(1);
    this.buffer[this.pos++] = c;
  }

  /** A whole number ≥ 0 in decimal. */
  uint(value: number): void {
    this.reserve(20);
    if (value === 0) {
      this.buffer[this.pos++] = 48;
      return;
    }
    let k = 0;
    let v = value;
    while (v > 0) {
      const q = Math.floor(v / 10);
      this.digits[k++] = 48 + (v - q * 10);
      v = q;
    }
    while (k > 0) this.buffer[this.pos++] = this.digits[--k]!;
  }

  async flushIfFull(threshold = 1 << 20): Promise<void> {
    if (this.pos >= threshold - 4096) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pos === 0) return;
    // The stream keeps the chunk until written, so the next rows go to a fresh buffer.
    const chunk = this.buffer.subarray(0, this.pos);
    this.buffer = Buffer.allocUnsafe(Math.max(1 << 20, this.buffer.length));
    this.pos = 0;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }

  async abort(): Promise<void> {
    this.pos = 0;
    this.stream.destroy();
    await once(this.stream, 'close').catch(() => undefined);
  }
}
