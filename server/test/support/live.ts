import { expect } from 'vitest';
import type { TestPlatform } from './platform.js';

/** An open live stream read over real HTTP: the events so far, and whether the server ended it. */
export function openStream(tp: TestPlatform, communityId: string, auth: { token?: string; cookie?: string }) {
  const base = tp.platform.httpUrl.replace('localhost', '127.0.0.1');
  const controller = new AbortController();
  const headers: Record<string, string> = auth.token ? { authorization: `Bearer ${auth.token}` } : { cookie: auth.cookie! };
  const state = { text: '', ended: false };
  const opened = fetch(`${base}/api/v1/communities/${communityId}/live`, { headers, signal: controller.signal }).then(async (response) => {
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    void (async () => {
      for (;;) {
        const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (chunk.done) { state.ended = true; return; }
        state.text += new TextDecoder().decode(chunk.value);
      }
    })();
  });
  return {
    opened,
    state,
    readingsFor: (meteringPointId: string) => state.text.split('\n').filter((l) => l.startsWith('data: ') && l.includes(meteringPointId)).length,
    close: () => controller.abort(),
  };
}

export async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
