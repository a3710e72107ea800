import { inflateSync } from 'node:zlib';

/**
 * The inflated content streams of a PDF pdfkit wrote, in file order (one per page, in page order).
 * Each is read by its /Length: compressed bytes may end in a CR that a search for "endstream" would
 * take for part of the line break.
 */
export function pdfContentStreams(pdf: Buffer): string[] {
  const raw = pdf.toString('latin1');
  const streams: string[] = [];
  for (const match of raw.matchAll(/<<\s*\/Length (\d+)\s*\/Filter \/FlateDecode\s*>>\s*stream\r?\n/g)) {
    const start = match.index + match[0].length;
    streams.push(inflateSync(pdf.subarray(start, start + Number(match[1]))).toString('latin1'));
  }
  return streams;
}

/** The text of one content stream: hex strings with the standard fonts, WinAnsi bytes. */
export function contentText(content: string): string {
  let text = '';
  for (const hex of content.matchAll(/<([0-9a-fA-F]+)>/g)) {
    text += Buffer.from(hex[1]!, 'hex').toString('latin1').replace(/\x80/g, '€');
  }
  return text;
}

/** The text pdfkit wrote with the standard fonts: hex strings in the (deflated) content streams, WinAnsi bytes. */
export function pdfText(pdf: Buffer): string {
  return pdfContentStreams(pdf).map((content) => `${contentText(content)}\n`).join('');
}

/** How many pages the PDF has (its page objects). */
export function pdfPageCount(pdf: Buffer): number {
  return pdf.toString('latin1').match(/\/Type \/Page\b(?!s)/g)?.length ?? 0;
}

/**
 * The QR codes a content stream draws as filled rectangles in module units (one `q … Q` block per
 * code, each run of dark modules `x y w 1 re`), as module matrices: true for dark.
 */
export function qrMatricesIn(content: string): boolean[][][] {
  const matrices: boolean[][][] = [];
  for (const block of content.split(/\nQ\n/)) {
    const runs = [...block.matchAll(/^(\d+) (\d+) (\d+) 1 re$/gm)].map((m) => m.slice(1, 4).map(Number) as [number, number, number]);
    if (runs.length === 0) continue;
    const size = Math.max(...runs.map(([x, , w]) => x + w), ...runs.map(([, y]) => y + 1));
    const matrix = Array.from({ length: size }, () => Array<boolean>(size).fill(false));
    for (const [x, y, w] of runs) for (let i = x; i < x + w; i++) matrix[y]![i] = true;
    matrices.push(matrix);
  }
  return matrices;
}
