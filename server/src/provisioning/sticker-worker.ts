import type { WorkerOutput } from '../platform/workers/worker-thread.js';
import { drawStickerSheet, type StickerSheet } from './domain/sticker-sheet.js';

/**
 * Runs in a worker thread (see ArtefactBuilder.stickers): a batch's sticker sheet, a QR code per
 * device, seconds of CPU for 10,000 devices. The PDF goes back piece by piece as progress.
 */
export async function run(sheet: StickerSheet, progress: (chunk: Uint8Array) => void): Promise<WorkerOutput<null>> {
  await drawStickerSheet(sheet, progress);
  return { value: null };
}
