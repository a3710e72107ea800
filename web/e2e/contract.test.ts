/** The web app's own copies of the server's vocabularies stay equal to the server's (no browser needed). */
import { describe, expect, it } from 'vitest';
import { ruleDefinitions } from '../../server/src/sharing/domain/allocation/index.js';
import { ALLOCATION_RULES as SERVER_RULES } from '../../server/src/registry/allocation-rules.js';
import { ALLOCATION_MODES as SERVER_MODES } from '../../server/src/registry/communities.js';
import { DEVICE_KINDS as SERVER_KINDS } from '../../server/src/registry/devices.js';
import { ALLOCATION_MODES, ALLOCATION_RULES, DEVICE_KINDS } from '@gridshare/contract/registry';
import { MODE_NAMES, ruleName, RULES_WITH_SHARES } from '../src/lib/rules.js';
import { loadMessages, translator } from '../src/lib/i18n/index.js';

const t = translator('en', await loadMessages('en'));

describe('vocabularies shared with the server', () => {
  it('offers every allocation rule and mode and device kind the server takes, each with a name', () => {
    expect([...ALLOCATION_RULES]).toEqual([...SERVER_RULES]);
    expect([...ALLOCATION_MODES]).toEqual([...SERVER_MODES]);
    expect([...DEVICE_KINDS]).toEqual([...SERVER_KINDS]);
    for (const rule of ALLOCATION_RULES) expect(ruleName(rule, t), rule).not.toBe(rule);
    for (const mode of ALLOCATION_MODES) expect(t(MODE_NAMES[mode])).not.toBe(MODE_NAMES[mode]);
  });

  it('edits shares exactly for the rules that split by a key', () => {
    const keyed = ruleDefinitions().filter((r) => r.needs !== 'nothing').map((r) => r.name);
    expect([...RULES_WITH_SHARES].sort()).toEqual(keyed.filter((name) => (SERVER_RULES as readonly string[]).includes(name)).sort());
  });
});
