import PDFDocument from 'pdfkit';
import { qrMatrix } from './qr-matrix.js';

/** One device's sticker: its claim URL as a QR code, the claim code to type and the device id. */
export interface Sticker {
  readonly deviceId: string;
  readonly claimCode: string;
  readonly claimUrl: string;
}

/** A batch's sticker sheet, its words already in the reader's language. */
export interface StickerSheet {
  readonly title: string;
  readonly batchName: string;
  readonly texts: { readonly claimCode: string; readonly device: string; readonly instructions: string };
  readonly stickers: readonly Sticker[];
}

/**
 * The common A4 label sheet (Avery 3475, Herma 4453 and their kin): 3 columns of 70 mm by 8 rows
 * of 37 mm, flush left and right, 0.5 mm spare at the top and the bottom.
 */
export const STICKER_LAYOUT = { columns: 3, rows: 8, widthMm: 70, heightMm: 37 } as const;
export const STICKERS_PER_PAGE = STICKER_LAYOUT.columns * STICKER_LAYOUT.rows;

const MM = 72 / 25.4;
const A4 = { width: 210 * MM, height: 297 * MM };
const WIDTH = STICKER_LAYOUT.widthMm * MM;
const HEIGHT = STICKER_LAYOUT.heightMm * MM;
const TOP = (A4.height - STICKER_LAYOUT.rows * HEIGHT) / 2;
const LEFT = (A4.width - STICKER_LAYOUT.columns * WIDTH) / 2;
/** Kept clear at a sticker's edges: die-cut labels sit a little off, printers shift a little. */
const PAD = 3 * MM;
const QR_SIDE = 28 * MM;
const TEXT_LEFT = PAD + QR_SIDE + 2.5 * MM;
const TEXT_WIDTH = WIDTH - TEXT_LEFT - PAD;
/** Courier's glyphs are all 0.6 em wide, so an id's width is known before it is drawn. */
const COURIER_ADVANCE = 0.6;

/**
 * The standard PDF fonts speak WinAnsi (Latin letters with accents, € and typographic quotes);
 * anything else (a batch named in Cyrillic, an emoji) is printed as "?", never dropped silently.
 */
export const winAnsi = (text: string) => text.replace(/[^\u0020-\u007e\u00a0-\u00ff€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]/gu, '?');

type Doc = InstanceType<typeof PDFDocument>;

/** The QR code in a square of `side` points at (x, y), a module of quiet zone inside, one fill of horizontal runs. */
function drawQr(doc: Doc, text: string, x: number, y: number, side: number): void {
  const matrix = qrMatrix(text);
  const module = side / (matrix.size + 2);
  // Drawn in module units: the content stream carries small integers instead of long decimals.
  doc.save().translate(x + module, y + module).scale(module);
  for (let row = 0; row < matrix.size; row++) {
    for (let column = 0; column < matrix.size; column++) {
      if (!matrix.dark(row, column)) continue;
      let end = column + 1;
      while (end < matrix.size && matrix.dark(row, end)) end++;
      doc.rect(column, row, end - column, 1);
      column = end;
    }
  }
  doc.fill('black').restore();
}

/** One line of monospaced text at up to `size` points, smaller if it would not fit the text column. */
function monospaced(doc: Doc, font: string, text: string, x: number, y: number, size: number): void {
  doc.font(font).fontSize(Math.min(size, TEXT_WIDTH / (COURIER_ADVANCE * text.length))).text(text, x, y, { lineBreak: false });
}

/** The text column's lines, top to bottom, in points from its top; the instructions take up to three lines. */
const LINES = { batch: 0, claimLabel: 11, claimCode: 19, deviceLabel: 35, deviceId: 43, instructions: 57 } as const;
const INSTRUCTIONS_HEIGHT = 21;
/** The text column is centred beside the QR code. */
const TEXT_TOP = (HEIGHT - LINES.instructions - INSTRUCTIONS_HEIGHT) / 2;

function drawSticker(doc: Doc, sheet: StickerSheet, sticker: Sticker, x: number, y: number): void {
  drawQr(doc, sticker.claimUrl, x + PAD, y + (HEIGHT - QR_SIDE) / 2, QR_SIDE);
  const left = x + TEXT_LEFT;
  const top = y + TEXT_TOP;
  doc.font('Helvetica-Bold').fontSize(7).text(winAnsi(sheet.batchName), left, top + LINES.batch, { width: TEXT_WIDTH, height: 12, ellipsis: true });
  doc.font('Helvetica').fontSize(6).text(winAnsi(sheet.texts.claimCode), left, top + LINES.claimLabel, { lineBreak: false });
  monospaced(doc, 'Courier-Bold', sticker.claimCode, left, top + LINES.claimCode, 10.5);
  doc.font('Helvetica').fontSize(6).text(winAnsi(sheet.texts.device), left, top + LINES.deviceLabel, { lineBreak: false });
  monospaced(doc, 'Courier', sticker.deviceId, left, top + LINES.deviceId, 7);
  doc.font('Helvetica').fontSize(5.5)
    .text(winAnsi(sheet.texts.instructions), left, top + LINES.instructions, { width: TEXT_WIDTH, height: INSTRUCTIONS_HEIGHT, ellipsis: true });
}

/** A turn of the event loop: what pdfkit wrote so far goes out to `onChunk` (its stream emits on the next tick). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Draws the sheet, one sticker per device in the order given, `STICKERS_PER_PAGE` to an A4 page,
 * and hands the PDF to `onChunk` piece by piece: each page goes out when the next one starts, so a
 * client reads the first pages while the last are drawn. Resolves when the last piece is out.
 */
export async function drawStickerSheet(sheet: StickerSheet, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  const doc = new PDFDocument({ size: 'A4', margin: 0, info: { Title: sheet.title, Author: 'Gridshare' } });
  const finished = new Promise<void>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => onChunk(chunk));
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  for (const [index, sticker] of sheet.stickers.entries()) {
    const place = index % STICKERS_PER_PAGE;
    if (index > 0 && place === 0) {
      doc.addPage();
      await nextTurn();
    }
    const column = place % STICKER_LAYOUT.columns;
    const row = Math.floor(place / STICKER_LAYOUT.columns);
    drawSticker(doc, sheet, sticker, LEFT + column * WIDTH, TOP + row * HEIGHT);
  }
  doc.end();
  return finished;
}
