import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

/**
 * A Y4M video (what Chromium's fake camera plays, --use-file-for-fake-video-capture) of one
 * still: the PNG in grey on a white frame of `width` × `height`, as a phone would see a sticker.
 */
export function pngToY4m(png: Uint8Array, path: string, width = 640, height = 480): void {
  const image = PNG.sync.read(Buffer.from(png));
  const luma = Buffer.alloc(width * height, 235);
  const left = Math.floor((width - image.width) / 2);
  const top = Math.floor((height - image.height) / 2);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const i = (y * image.width + x) * 4;
      const grey = (image.data[i]! * 299 + image.data[i + 1]! * 587 + image.data[i + 2]! * 114) / 1000;
      // BT.601 studio range, as the 4:2:0 stream expects.
      luma[(top + y) * width + left + x] = Math.round(16 + (grey * 219) / 255);
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  writeFileSync(path, Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\nFRAME\n`), luma, chroma]));
}
