import { PNG } from 'pngjs';
import jsQRModule from 'jsqr';

// jsqr is CommonJS with a `default` export in its typings: resolve the function either way.
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ?? jsQRModule) as unknown as
  (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;

/** Reads a QR code out of a PNG with a real decoder (jsQR), as a phone camera would. */
export function decodeQrPng(png: Uint8Array): string | undefined {
  const image = PNG.sync.read(Buffer.from(png));
  return jsQR(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height)?.data;
}

/** Reads a QR code given as a module matrix (true for dark), drawn with a quiet zone, with the same decoder. */
export function decodeQrModules(modules: readonly (readonly boolean[])[]): string | undefined {
  const scale = 4;
  const quiet = 4;
  const side = (modules.length + 2 * quiet) * scale;
  const pixels = new Uint8ClampedArray(side * side * 4).fill(255);
  for (const [row, line] of modules.entries()) {
    for (const [column, dark] of line.entries()) {
      if (!dark) continue;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const at = (((row + quiet) * scale + dy) * side + (column + quiet) * scale + dx) * 4;
          pixels.fill(0, at, at + 3);
        }
      }
    }
  }
  return jsQR(pixels, side, side)?.data;
}
