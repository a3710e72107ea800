import { Bonjour } from 'bonjour-service';

/**
 * `_gridshare._tcp` on the LAN: a phone's browser (or the Gridshare app) finds the reader's
 * local page without knowing its address. The TXT record names the device, never a key.
 */
export function advertise(deviceId: string, port: number): { stop(): Promise<void> } {
  const bonjour = new Bonjour();
  const service = bonjour.publish({ name: `Gridshare reader ${deviceId}`, type: 'gridshare', protocol: 'tcp', port, txt: { id: deviceId, path: '/' } });
  return {
    stop: () => new Promise((resolve) => {
      const destroy = () => bonjour.destroy(() => resolve());
      if (service.stop) service.stop(destroy);
      else destroy();
    }),
  };
}
