import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { energyCost, formatMinor, minorDigits, MoneyError, parsePrice, roundToMinor } from '../../src/kernel/money.js';

describe('exact money', () => {
  it('parses prices to micro-units and refuses what it cannot represent exactly', () => {
    expect(parsePrice('0.1425')).toBe(142_500n);
    expect(parsePrice('12')).toBe(12_000_000n);
    expect(parsePrice('-0.000001')).toBe(-1n);
    for (const bad of ['0.1234567', '1e-3', '', ' 1', '1,5', 'NaN']) expect(() => parsePrice(bad)).toThrow(MoneyError);
  });

  it('costs whole Wh exactly: 1 kWh at 0.1425 is 0.1425 exactly', () => {
    expect(energyCost(1000, parsePrice('0.1425'))).toBe(142_500_000n);
    expect(energyCost(1, parsePrice('0.000001'))).toBe(1n);
    expect(() => energyCost(0.5, 1n)).toThrow(MoneyError);
  });

  it('rounds half away from zero to the minor unit', () => {
    expect(roundToMinor(5_000_000n, 2)).toBe(1n); // 0.005 → 0.01
    expect(roundToMinor(4_999_999n, 2)).toBe(0n);
    expect(roundToMinor(-5_000_000n, 2)).toBe(-1n);
    expect(roundToMinor(1_499_999_999n, 0)).toBe(1n);
    expect(formatMinor(1728n, 2)).toBe('17.28');
    expect(formatMinor(-5n, 2)).toBe('-0.05');
    expect(formatMinor(42n, 0)).toBe('42');
  });

  it('knows the minor unit of currencies', () => {
    expect(minorDigits('EUR')).toBe(2);
    expect(minorDigits('JPY')).toBe(0);
    expect(minorDigits('CHF')).toBe(2);
  });

  it('rounding is off by at most half a minor unit', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), (nano) => {
      const cents = roundToMinor(nano, 2);
      const diff = cents * 10_000_000n - nano;
      expect(diff <= 5_000_000n && diff >= -5_000_000n).toBe(true);
    }));
  });
});
