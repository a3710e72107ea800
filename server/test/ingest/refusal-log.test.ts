import { describe, expect, it } from 'vitest';
import { RefusalLog } from '../../src/ingest/index.js';

describe('the log of refused device messages', () => {
  it('writes the first refusal of a device at once, then one line a window with how many it kept quiet', () => {
    const lines: string[] = [];
    let now = 0;
    const log = new RefusalLog({ write: (line) => lines.push(line), now: () => now, windowMs: 60_000 });
    log.refused('meter-1', 'bad-shape: not JSON');
    for (let i = 0; i < 500; i++) log.refused('meter-1', 'bad-shape: not JSON');
    log.refused('meter-2', 'future: 2 h ahead');
    expect(lines).toEqual([
      'gridshare: device meter-1: message refused: bad-shape: not JSON',
      'gridshare: device meter-2: message refused: future: 2 h ahead',
    ]);
    now = 60_000;
    log.refused('meter-1', 'out-of-range: power.import 1e12 W');
    expect(lines[2]).toBe('gridshare: device meter-1: message refused: out-of-range: power.import 1e12 W (and 500 more since the last line about it)');
    now = 61_000;
    log.refused('meter-1', 'again');
    expect(lines).toHaveLength(3);
  });

  it('keeps what a device sent from forging log lines, and bounds how many devices it tracks', () => {
    const lines: string[] = [];
    const log = new RefusalLog({ write: (line) => lines.push(line), now: () => 0, maxDevices: 2 });
    log.refused('meter-1', 'bad-shape: "x\ngridshare: admin logged in\r"');
    expect(lines).toEqual(['gridshare: device meter-1: message refused: bad-shape: "x gridshare: admin logged in "']);
    log.refused('meter-2', 'a');
    log.refused('meter-3', 'b');
    // meter-1 was forgotten (the oldest of three over a bound of two), so it is logged again at once.
    log.refused('meter-1', 'c');
    expect(lines).toHaveLength(4);
    log.refused('meter-3', 'd');
    expect(lines).toHaveLength(4);
  });
});
