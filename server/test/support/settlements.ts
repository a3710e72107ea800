import type { TestPlatform } from './platform.js';

/**
 * The close of a settlement confirming what its month lacks, as the manager is shown it before
 * closing (billing's closing guard): tests that close a month with gaps on purpose say so here.
 */
export async function confirmedCloseUrl(tp: TestPlatform, token: string, settlementId: string): Promise<string> {
  const gaps = await tp.call('GET', `/api/v1/settlements/${settlementId}/gaps`, { token });
  if (gaps.status !== 200) throw new Error(`gaps: ${gaps.status} ${JSON.stringify(gaps.body)}`);
  return `/api/v1/settlements/${settlementId}/close?confirmMissing=${gaps.body.missingQuarterHours}`;
}
