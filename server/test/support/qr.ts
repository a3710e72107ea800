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
