import { describe, expect, it } from 'vitest';
import { IntlMessageFormat } from 'intl-messageformat';
import { checkBatchName } from '../../src/provisioning/domain/batch-name.js';
import { languageOfLocale, PROVISIONING_CATALOGS, provisioningText } from '../../src/provisioning/domain/catalog.js';
import { drawStickerSheet, winAnsi } from '../../src/provisioning/domain/sticker-sheet.js';
import { pdfPageCount, pdfText } from '../support/pdf.js';

describe('batch names', () => {
  it('keeps a good name, without spaces at either end, composed (NFC)', () => {
    expect(checkBatchName('  Keller Nord ')).toBe('Keller Nord');
    expect(checkBatchName('Cafe\u0301 Nord')).toBe('Caf\u00e9 Nord');
    expect(checkBatchName('x'.repeat(80))).toHaveLength(80);
    // Zero-width joiners hold emoji together: not bidi controls.
    expect(checkBatchName('👩‍🔧 crew')).toBe('👩‍🔧 crew');
  });

  it('counts characters after composing: 80 decomposed é are 80 characters', () => {
    expect([...checkBatchName('e\u0301'.repeat(80))]).toHaveLength(80);
    expect(() => checkBatchName('e\u0301'.repeat(81))).toThrow(/has 81/);
  });

  it('refuses control characters, bidi controls and broken text anywhere, naming the character', () => {
    for (const [name, message] of [
      ['\u0000start', /U\+0000 at character 1/],
      ['end\u009f', /control characters.*U\+009F/],
      ['\u061Carabic mark', /bidi.*U\+061C/],
      ['x\u202Ay', /bidi.*U\+202A/],
      ['x\u2069', /bidi.*U\+2069/],
      ['x\uDC00', /unpaired surrogate/],
      ['', /has 0/],
      ['\u00a0\u3000', /has 0/],
    ] as const) {
      expect(() => checkBatchName(name), JSON.stringify(name)).toThrow(message);
    }
  });
});

describe('provisioning catalogs', () => {
  it('have every key in every language, with the same placeholders', () => {
    const english = PROVISIONING_CATALOGS.en;
    const placeholders = (message: string) => new IntlMessageFormat(message, 'en').getAst().flatMap((el) => ('value' in el && el.type !== 0 ? [el.value] : [])).sort();
    for (const [language, catalog] of Object.entries(PROVISIONING_CATALOGS)) {
      expect(Object.keys(catalog).sort(), language).toEqual(Object.keys(english).sort());
      for (const key of Object.keys(english) as (keyof typeof english)[]) {
        expect(placeholders(catalog[key]), `${language} ${key}`).toEqual(placeholders(english[key]));
        if (language !== 'en') expect(catalog[key], `${language} ${key}`).not.toBe(english[key]);
      }
    }
  });

  it('speak the community\'s language where they can, else English', () => {
    expect(languageOfLocale('de-AT')).toBe('de');
    expect(languageOfLocale('en-GB')).toBe('en');
    expect(languageOfLocale('fr')).toBe('en');
    expect(provisioningText('de', 'batch.defaultName', { number: '1000' })).toBe('Charge 1000');
  });
});

describe('sticker sheet', () => {
  const sheet = (count: number, batchName = 'Batch 1') => ({
    title: 'Stickers', batchName,
    texts: { claimCode: 'Claim code', device: 'Device', instructions: 'Scan the QR code, or enter the claim code at energy.example.org/claim' },
    stickers: Array.from({ length: count }, (_, i) => ({ deviceId: `gs-${String(i).padStart(20, '0')}`, claimCode: 'ABCD-EFGH-JKMN', claimUrl: `https://energy.example.org/claim?code=${i}` })),
  });
  const draw = async (input: ReturnType<typeof sheet>) => {
    const chunks: Uint8Array[] = [];
    await drawStickerSheet(input, (chunk) => chunks.push(chunk));
    return Buffer.concat(chunks);
  };

  it('fills A4 pages of 24 and starts a page only when one is full, whatever the name', async () => {
    for (const name of ['Batch 1', 'long '.repeat(16).trim(), 'x'.repeat(80)]) {
      for (const [count, pages] of [[1, 1], [24, 1], [25, 2], [48, 2], [49, 3]] as const) {
        expect(pdfPageCount(await draw(sheet(count, name))), `${count} stickers named ${name}`).toBe(pages);
      }
    }
  });

  it('prints what the standard fonts cannot as "?", and cuts a long name short on its line', async () => {
    expect(pdfText(await draw(sheet(1, 'Москва Ünïcode €')))).toContain('?????? Ünïcode €');
    expect(winAnsi('Straße – “Nord” 🔌 Москва')).toBe('Straße – “Nord” ? ??????');
    const long = pdfText(await draw(sheet(1, `Start ${'long '.repeat(30)}End`)));
    expect(long).toContain('Start');
    expect(long).not.toContain('End');
    expect(long).toContain('\x85'); // "…" in WinAnsi
  });
});
