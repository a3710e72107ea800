import { useEffect, useRef, useState } from 'preact/hooks';
import type { MessageKey, MessageValues } from '../lib/i18n/index.js';
import { useI18n } from '../lib/i18n/provider.js';

interface Detector {
  detect(source: HTMLVideoElement): Promise<string | undefined>;
}

interface BarcodeDetectorLike {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}
declare global {
  interface Window {
    BarcodeDetector?: { new (options: { formats: string[] }): BarcodeDetectorLike; getSupportedFormats(): Promise<string[]> };
  }
}

/** The browser's own BarcodeDetector where it reads QR codes, else jsQR on camera frames (loaded only then). */
async function createDetector(): Promise<Detector> {
  const Native = window.BarcodeDetector;
  if (Native && (await Native.getSupportedFormats().catch((): string[] => [])).includes('qr_code')) {
    const native = new Native({ formats: ['qr_code'] });
    return { detect: async (video) => (await native.detect(video))[0]?.rawValue };
  }
  const { default: jsQR } = await import('jsqr');
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  return {
    detect: async (video) => {
      if (!video.videoWidth) return undefined;
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0);
      const frame = context.getImageData(0, 0, canvas.width, canvas.height);
      return jsQR(frame.data, frame.width, frame.height, { inversionAttempts: 'dontInvert' })?.data;
    },
  };
}

/** Reads QR codes from the camera until `onText` accepts one (returns true) or the person stops. */
export function QrScanner({ onText, onClose }: { onText: (text: string) => boolean; onClose: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const { t } = useI18n();
  // A key, not text: the status follows a change of language while the camera runs.
  const [message, setMessage] = useState<{ key: MessageKey; values?: MessageValues }>({ key: 'qr.starting' });
  const accept = useRef(onText);
  accept.current = onText;

  useEffect(() => {
    let stream: MediaStream | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const stop = () => {
      stopped = true;
      clearTimeout(timer);
      for (const track of stream?.getTracks() ?? []) track.stop();
    };
    (async () => {
      if (!navigator.mediaDevices?.getUserMedia) {
        setMessage({ key: 'qr.noCamera' });
        return;
      }
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
      if (stopped) return stop();
      const element = video.current!;
      element.srcObject = stream;
      await element.play();
      const detector = await createDetector();
      setMessage({ key: 'qr.point' });
      const scan = async () => {
        if (stopped) return;
        const text = await detector.detect(element).catch(() => undefined);
        if (text && accept.current(text)) {
          stop();
          onClose();
          return;
        }
        if (text) setMessage({ key: 'qr.notClaimCode' });
        timer = setTimeout(() => void scan(), 150);
      };
      void scan();
    })().catch((error: Error) => {
      setMessage(error.name === 'NotAllowedError' ? { key: 'qr.notAllowed' } : { key: 'qr.failed', values: { message: error.message } });
    });
    return stop;
  }, []);

  return (
    <div class="scanner">
      <video ref={video} muted playsInline aria-label={t('qr.cameraView')} />
      <p role="status">{t(message.key, message.values)}</p>
      <button type="button" class="secondary" onClick={onClose}>{t('qr.stop')}</button>
    </div>
  );
}
