import QRCode from 'qrcode';

/** A QR code's modules: `size` × `size`, `dark(row, column)`. */
export interface QrMatrix {
  readonly size: number;
  dark(row: number, column: number): boolean;
}

/**
 * The QR code of a claim URL, the one matrix every sticker draws (PNG, SVG, the PDF sheet).
 * Level M: a sticker that is scuffed or a little dirty still scans.
 */
export function qrMatrix(text: string): QrMatrix {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  return { size: modules.size, dark: (row, column) => Boolean(modules.get(row, column)) };
}
