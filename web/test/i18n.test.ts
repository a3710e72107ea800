/**
 * The message catalogs and the locale plumbing: complete catalogs with the same placeholders in
 * every language, every key used and every call passing what its message needs, and numbers,
 * dates and names formatted and sorted in the person's language, not the community's.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { IntlMessageFormat } from 'intl-messageformat';
import { formatter } from '../src/lib/format.js';
import { LANGUAGES, loadMessages, preferredLanguage, translator, userLocale, type MessageKey, type Messages } from '../src/lib/i18n/index.js';

const SRC = join(import.meta.dirname, '../src');
const catalogs = Object.fromEntries(await Promise.all(LANGUAGES.map(async (l) => [l, await loadMessages(l)] as const))) as Record<string, Messages>;
const english = catalogs.en!;
const keys = Object.keys(english) as MessageKey[];

type Element = ReturnType<IntlMessageFormat['getAst']>[number];

/**
 * What a message needs from its caller, by name: "plural", "select" (with its options), "tag"
 * or "text" for a simple `{name}`. Plural categories differ by language (German has no "few"),
 * so only the names of select options are compared.
 */
function placeholders(message: string, locale: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (elements: Element[]) => {
    for (const el of elements) {
      if ('options' in el) {
        const plural = 'pluralType' in el;
        found.set(el.value, plural ? 'plural' : `select(${Object.keys(el.options).sort().join(',')})`);
        for (const option of Object.values(el.options)) walk(option.value);
      } else if ('children' in el) {
        found.set(el.value, 'tag');
        walk(el.children);
      } else if ('value' in el && el.type !== 0) {
        found.set(el.value, 'text');
      }
    }
  };
  walk(new IntlMessageFormat(message, locale).getAst());
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

describe('message catalogs', () => {
  it('have the same keys in every language, and no empty message', () => {
    expect(keys.length).toBeGreaterThan(300);
    for (const language of LANGUAGES) {
      expect(Object.keys(catalogs[language]!).sort(), language).toEqual([...keys].sort());
      for (const key of keys) expect(catalogs[language]![key].trim(), `${language} ${key}`).not.toBe('');
    }
  });

  it('parse as ICU messages with the same placeholders, plurals, selects and tags in every language', () => {
    for (const key of keys) {
      const expected = placeholders(english[key], 'en');
      for (const language of LANGUAGES) expect(placeholders(catalogs[language]![key], language), `${language} ${key}`).toEqual(expected);
    }
  });

  it('are really translated: German differs from English except for names and symbols', () => {
    const same = keys.filter((key) => catalogs.de![key] === english[key]);
    // Product name, file formats, "PV", "{page} · {community}" and the like read the same in German.
    expect(same.length).toBeLessThan(keys.length * 0.05);
  });

  it('are all used, and every translated call passes exactly the placeholders its message takes', () => {
    const used = new Set<string>();
    const problems: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
      const visit = (node: ts.Node) => {
        if (ts.isStringLiteral(node) && node.text in english) used.add(node.text);
        const callee = ts.isCallExpression(node) ? node.expression.getText(source) : '';
        if (ts.isCallExpression(node) && (callee === 't' || callee === 't.rich') && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
          const key = node.arguments[0].text as MessageKey;
          const values = node.arguments[1];
          const given = values && ts.isObjectLiteralExpression(values)
            ? values.properties.map((p) => p.name?.getText(source) ?? '?').sort()
            : values ? ['(not a literal)'] : [];
          const needed = key in english ? [...placeholders(english[key], 'en').keys()].sort() : ['(no such key)'];
          if (given.join() !== needed.join()) {
            const { line } = source.getLineAndCharacterOfPosition(node.getStart());
            problems.push(`${file.slice(SRC.length + 1)}:${line + 1} ${key}: passes [${given}], the message takes [${needed}]`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(problems).toEqual([]);
    expect(keys.filter((key) => !used.has(key))).toEqual([]);
  });
});

describe('translating', () => {
  const en = translator('en-GB', english);
  const de = translator('de', catalogs.de!);

  it('fills placeholders and plurals in each language', () => {
    expect(en('communities.memberCount', { count: 1 })).toBe('1 member');
    expect(en('communities.memberCount', { count: 1234 })).toBe('1,234 members');
    expect(de('communities.memberCount', { count: 1234 })).toBe('1.234 Mitglieder');
    expect(en('energy.noteMissing', { count: 2, unit: 'day' })).toBe('No readings for 2 past days.');
    expect(de('energy.noteMissing', { count: 1, unit: 'day' })).toBe('Keine Messwerte für 1 vergangenen Tag.');
    expect(de('energy.bySource', { unit: 'hour' })).toBe('Nach Herkunft, je Stunde');
    // ICU quoting: a file name pattern with angle brackets, an apostrophe in English text.
    expect(en('coefficients.yearHint')).toBe('Empty: from a file named <CAU>_<year>.txt');
    expect(en('allocation.operatorFigures')).toBe('the grid operator\'s figures');
  });

  it('renders tags with the caller\'s elements', () => {
    const parts = en.rich('login.newHere', { a: (chunks: unknown[]) => ({ link: chunks.join('') }) });
    expect(parts).toEqual(['New here? ', { link: 'Create an account' }]);
  });

  it('falls back to English for a message a catalog lacks, never to the bare key', () => {
    const partial = translator('de', { ...catalogs.de!, 'nav.menu': undefined } as unknown as Messages);
    expect(partial('nav.menu')).toBe('Menu');
    expect(partial('nav.account')).toBe('Konto');
  });
});

describe('the language and locale of a person', () => {
  it('takes their choice, else the browser\'s first language the app speaks, else English', () => {
    expect(preferredLanguage('de', ['en-GB'])).toBe('de');
    expect(preferredLanguage(null, ['fr-FR', 'de-AT', 'en'])).toBe('de');
    expect(preferredLanguage(null, ['fr-FR'])).toBe('en');
    expect(preferredLanguage('xx', [])).toBe('en');
  });

  it('writes numbers and dates in the browser\'s variant of the chosen language', () => {
    expect(userLocale('en', ['en-GB', 'de-AT'])).toBe('en-GB');
    expect(userLocale('de', ['en-GB', 'de-AT'])).toBe('de-AT');
    expect(userLocale('de', ['en-GB'])).toBe('de');
    expect(userLocale('en', ['en_broken!'])).toBe('en');
  });
});

describe('formatting in the person\'s language with the community\'s currency and zone', () => {
  // An English reader and a German reader of the same Austrian community.
  const en = formatter({ locale: 'en-GB', currency: 'EUR', timeZone: 'Europe/Vienna' });
  const de = formatter({ locale: 'de', currency: 'EUR', timeZone: 'Europe/Vienna' });

  it('writes months, money and prices in the reader\'s language', () => {
    expect(en.month('2026-12')).toBe('December 2026');
    expect(de.month('2026-12')).toBe('Dezember 2026');
    expect(en.money('0.14')).toBe('€0.14');
    expect(de.money('0.14')).toMatch(/^0,14\s€$/);
    expect(en.pricePerKWh('0.2450')).toBe('€0.245/kWh');
    expect(de.pricePerKWh('0.30')).toMatch(/^0,30\s€\/kWh$/);
  });

  it('writes units with the reader\'s numbers', () => {
    expect(en.peakPower(6000)).toBe('6 kWp');
    expect(de.energy(1_830)).toBe('1,83 kWh');
    expect(de.co2Intensity(215.5)).toBe('215,5 g CO₂/kWh');
    expect(en.distance(3.14159)).toBe('3.1 km');
    expect(de.distance(3)).toBe('3,0 km');
  });

  it('writes dates, days and chart buckets in the community\'s zone', () => {
    // 23:30 UTC on 31 December is already New Year's Day in Vienna.
    expect(de.date('2026-12-31T23:30:00Z')).toBe('01.01.2027');
    expect(en.date('2026-12-31T23:30:00Z')).toBe('1 Jan 2027');
    expect(de.dateTime('2026-06-01T10:05:00Z')).toBe('01.06.2026, 12:05');
    expect(de.day('2026-01-01')).toBe('01.01.2026');
    expect(de.bucket('2026-06-01T10:00:00Z', 'hour')).toBe('12:00');
    expect(en.bucket('2026-06-01T10:00:00Z', 'day')).toBe('1 Jun');
  });

  it('says how long ago in the reader\'s language', () => {
    const now = Date.parse('2026-06-01T10:00:30Z');
    expect(en.ago('2026-06-01T10:00:18Z', now)).toBe('12 seconds ago');
    expect(de.ago('2026-06-01T09:57:30Z', now)).toBe('vor 3 Minuten');
    expect(de.ago('2026-06-01T08:00:30Z', now)).toBe('vor 2 Stunden');
    // A clock slightly ahead of the browser's never reads "in 2 seconds".
    expect(en.ago('2026-06-01T10:00:32Z', now)).toBe('0 seconds ago');
  });

  it('sorts names by the reader\'s collation: accents with their letter, numbers by value, case ignored', () => {
    const names = ['Zoë', 'home 10', 'Österreich Schule', 'Anna', 'home 9', 'Oskar', 'anton'];
    expect(de.sortBy(names, (n) => n)).toEqual(['Anna', 'anton', 'home 9', 'home 10', 'Oskar', 'Österreich Schule', 'Zoë']);
    // Plain text order (what a database's C collation or Array.sort gives) puts these elsewhere.
    expect([...names].sort()).not.toEqual(de.sortBy(names, (n) => n));
  });
});
