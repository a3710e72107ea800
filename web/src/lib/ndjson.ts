/** Reads a newline-delimited JSON stream, handing over each complete line as it arrives. */
export async function readNdjson(body: ReadableStream<Uint8Array>, onValue: (value: unknown) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    buffered += decoder.decode(value, { stream: !done });
    buffered = emitLines(buffered, onValue);
    if (done) break;
  }
  if (buffered.trim()) onValue(JSON.parse(buffered));
}

/** Emits every complete line of `text` and returns the unfinished rest. */
export function emitLines(text: string, onValue: (value: unknown) => void): string {
  let start = 0;
  for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
    const line = text.slice(start, end).trim();
    if (line) onValue(JSON.parse(line));
    start = end + 1;
  }
  return text.slice(start);
}
