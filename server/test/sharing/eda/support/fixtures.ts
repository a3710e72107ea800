/**
 * The XML fixtures in ../fixtures, built from the community scenario in messages.ts. They are
 * committed so that `gridshare eda inspect` can be tried on them; a test checks they are still
 * what this builder makes. Regenerate with `npx tsx server/test/sharing/eda/support/fixtures.ts`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { communityDay, communityMessages, consumptionRecordXml, CONSUMER_A, kwh } from './messages.js';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixtureFiles(): Record<string, string> {
  const june = communityMessages(communityDay('2025-06-01', 1));
  const autumn = communityDay('2025-10-26', 2);
  const spring = communityDay('2025-03-30', 3);
  const before = communityDay('2025-03-29', 4);
  const consumption = (day: typeof spring) => ({
    startMs: day.startMs, count: day.count,
    series: [
      { code: '1-1:1.9.0 G.01', values: day.consumptionWh[0]!.map((wh) => kwh(wh * 1000, 3)) },
      { code: '1-1:2.9.0 G.02', values: day.shareMilliWh[0]!.map((v) => kwh(v)) },
      { code: '1-1:2.9.0 G.03', values: day.coverageMilliWh[0]!.map((v) => kwh(v)) },
    ],
  });
  return {
    'consumer-a-2025-06-01.xml': june.consumerA,
    'consumer-b-2025-06-01.xml': june.consumerB,
    'producer-2025-06-01.xml': june.producer,
    'consumer-a-2025-10-26-100qh.xml': communityMessages(autumn).consumerA,
    'consumer-a-2025-03-30-92qh.xml': communityMessages(spring).consumerA,
    'consumer-a-2025-03-29-and-30-two-blocks.xml': consumptionRecordXml({
      meteringPoint: CONSUMER_A, prefix: 'ns0', commonPrefix: 'ns1', energy: [consumption(before), consumption(spring)],
    }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, text] of Object.entries(fixtureFiles())) writeFileSync(`${FIXTURE_DIR}${name}`, text);
}
