import { describe, expect, it } from 'vitest';
import { flagsFromText, numbersFromText } from '../../src/platform/store/text-lists.js';

describe('SQL arrays as the database sends them as text', () => {
  it('are read as whole numbers with an empty item for a NULL element, and anything else is refused', () => {
    expect(numbersFromText('0,17,-5,,2147483647,')).toEqual([0, 17, -5, null, 2147483647, null]);
    expect(numbersFromText('9007199254740991,-9007199254740991')).toEqual([Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]);
    expect(numbersFromText('')).toEqual([null]);
    expect(flagsFromText('t,,f')).toEqual([true, null, false]);
    for (const bad of ['1.5', '1e3', '--1', '1-', 'NULL', '-,1', ' 1', '1,+2']) expect(() => numbersFromText(bad)).toThrow(/not a list of whole numbers/);
    for (const big of ['9007199254740992', '1,-99999999999999999999']) expect(() => numbersFromText(big)).toThrow(/exceeds the safe integer range/);
    for (const bad of ['true', 't,x', '1']) expect(() => flagsFromText(bad)).toThrow(/not a list of flags/);
  });
});
