import { brokerPassword } from '../../src/provisioning/broker-password.js';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { decodeQrPng as decodeQr } from '../support/qr.js';
import { unzipSync, strFromU8 } from 'fflate';
import { deviceResource, parseSasToken, signSasToken, verifySasToken, MAX_TOKEN_LIFETIME_S } from '../../src/provisioning/sas.js';
import { ConnectionStringError, formatConnectionString, parseConnectionString } from '../../src/provisioning/connection-string.js';
import { generateClaimCode, generateDeviceKey, hashClaimCode, normaliseClaimCode } from '../../src/provisioning/keys.js';
import { renderQr } from '../../src/provisioning/qr.js';
import { batchZip, fileFromZip, zipWithoutDevices, type Endpoints } from '../../src/provisioning/artefacts.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const OTHER_KEY = Buffer.alloc(32, 9).toString('base64');
const RESOURCE = deviceResource('energy.example.org', 'gs-0001');
const NOW = new Date('2026-11-22T12:00:00Z');
const IN_AN_HOUR = new Date('2026-11-22T13:00:00Z');

describe('SAS tokens', () => {
  it('match an independently computed IoT Hub signature', () => {
    const expiry = Math.floor(IN_AN_HOUR.getTime() / 1000);
    const encoded = encodeURIComponent(RESOURCE);
    const expected = createHmac('sha256', Buffer.from(KEY, 'base64')).update(`${encoded}\n${expiry}`).digest('base64');
    expect(signSasToken({ resource: RESOURCE, key: KEY, expiresAt: IN_AN_HOUR }))
      .toBe(`SharedAccessSignature sr=energy.example.org%2Fdevices%2Fgs-0001&sig=${encodeURIComponent(expected)}&se=${expiry}`);
  });

  it('verify with either key and say which', () => {
    const token = signSasToken({ resource: RESOURCE, key: OTHER_KEY, expiresAt: IN_AN_HOUR });
    expect(verifySasToken(token, { expectedResource: RESOURCE, keys: [KEY, OTHER_KEY], now: NOW })).toEqual({ ok: true, keyIndex: 1 });
    expect(verifySasToken(token, { expectedResource: RESOURCE, keys: [KEY], now: NOW })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuse expired, too long-lived and other devices\' tokens', () => {
    const token = signSasToken({ resource: RESOURCE, key: KEY, expiresAt: IN_AN_HOUR });
    expect(verifySasToken(token, { expectedResource: RESOURCE, keys: [KEY], now: IN_AN_HOUR })).toEqual({ ok: false, reason: 'expired' });
    const forever = signSasToken({ resource: RESOURCE, key: KEY, expiresAt: new Date(NOW.getTime() + (MAX_TOKEN_LIFETIME_S + 60) * 1000) });
    expect(verifySasToken(forever, { expectedResource: RESOURCE, keys: [KEY], now: NOW })).toEqual({ ok: false, reason: 'too-long-lived' });
    expect(verifySasToken(token, { expectedResource: deviceResource('energy.example.org', 'gs-0002'), keys: [KEY], now: NOW }))
      .toEqual({ ok: false, reason: 'wrong-resource' });
    // Host names compare case-insensitively, device ids exactly.
    expect(verifySasToken(token, { expectedResource: deviceResource('ENERGY.example.org', 'gs-0001'), keys: [KEY], now: NOW }).ok).toBe(true);
    expect(verifySasToken(token, { expectedResource: deviceResource('energy.example.org', 'GS-0001'), keys: [KEY], now: NOW }).ok).toBe(false);
  });

  it.each([
    '', 'Bearer abc', 'SharedAccessSignature ', 'SharedAccessSignature sr=a&sig=b', 'SharedAccessSignature sr=a&sig=b&se=soon',
    'SharedAccessSignature sr=a&sr=b&sig=c&se=1', 'SharedAccessSignature sr=%E0%A4%A&sig=c&se=1', 'SharedAccessSignature sr=a&sig=c&se=1&x=y',
    `SharedAccessSignature sr=${'a'.repeat(5000)}&sig=c&se=1`,
  ])('treat %j as malformed', (text) => {
    expect(parseSasToken(text)).toBeUndefined();
    expect(verifySasToken(text, { expectedResource: RESOURCE, keys: [KEY], now: NOW })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('fail for any single-character change', () => {
    const token = signSasToken({ resource: RESOURCE, key: KEY, expiresAt: IN_AN_HOUR });
    fc.assert(fc.property(fc.nat(token.length - 1), fc.string({ minLength: 1, maxLength: 1 }), (index, char) => {
      fc.pre(token[index] !== char);
      const mutated = token.slice(0, index) + char + token.slice(index + 1);
      const verdict = verifySasToken(mutated, { expectedResource: RESOURCE, keys: [KEY], now: NOW });
      // Base64 padding bits and equivalent percent-encodings aside, a change never verifies.
      if (verdict.ok) expect(parseSasToken(mutated)).toEqual(parseSasToken(token));
    }), { numRuns: 3000 });
  });
});

describe('connection strings', () => {
  it('round-trip', () => {
    const cs = { hostName: 'energy.example.org', deviceId: 'gs-0001', sharedAccessKey: KEY };
    expect(parseConnectionString(formatConnectionString(cs))).toEqual(cs);
  });

  it.each([
    'HostName=a;DeviceId=b', 'HostName=a;DeviceId=b;SharedAccessKey=', 'HostName=a;HostName=b;DeviceId=c;SharedAccessKey=' + KEY,
    'HostName=a;DeviceId=b;SharedAccessKey=' + KEY + ';Owner=x', 'garbage', 'HostName=a;DeviceId=b;SharedAccessKey=short',
  ])('refuse %j', (text) => {
    expect(() => parseConnectionString(text)).toThrow(ConnectionStringError);
  });
});

describe('claim codes', () => {
  it('are typeable, normalised and hashed', () => {
    const code = generateClaimCode();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(normaliseClaimCode(code.toLowerCase().replace(/-/g, ' '))).toBe(code);
    expect(normaliseClaimCode('7k2q-m9xd-4rta')).toBe('7K2Q-M9XD-4RTA');
    expect(normaliseClaimCode('oooo-iiii-llll')).toBe('0000-1111-1111');
    expect(normaliseClaimCode('7K2Q-M9XD-4RT')).toBeUndefined();
    expect(normaliseClaimCode('7K2Q-M9XD-4RTU')).toBeUndefined();
    expect(hashClaimCode(code)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashClaimCode(code)).not.toContain(code);
  });

  it('keys are 256 random bits', () => {
    const keys = new Set(Array.from({ length: 100 }, generateDeviceKey));
    expect(keys.size).toBe(100);
    for (const key of keys) expect(Buffer.from(key, 'base64')).toHaveLength(32);
  });
});

describe('artefacts', () => {
  const endpoints: Endpoints = { publicUrl: 'https://energy.example.org', mqttUrl: 'mqtts://energy.example.org:8883', hostName: 'energy.example.org' };
  const devices = [
    { id: 'gs-aaaa', kind: 'meter-reader', primaryKey: KEY, claimCode: '7K2Q-M9XD-4RTA' },
    { id: 'gs-bbbb', kind: 'meter-reader', primaryKey: OTHER_KEY, claimCode: 'ABCD-EFGH-JKMN' },
  ];

  it('QR stickers decode (with a real decoder) to the claim URL and never hold the key', () => {
    const { png, svg } = renderQr('https://energy.example.org/claim?code=7K2Q-M9XD-4RTA');
    expect(decodeQr(png)).toBe('https://energy.example.org/claim?code=7K2Q-M9XD-4RTA');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="0 0 \d+ \d+"/);
  });

  it('the batch ZIP has every config, both QR images and a manifest', () => {
    const zip = batchZip(endpoints, devices);
    const files = unzipSync(zip);
    expect(Object.keys(files).sort()).toEqual([
      'devices/gs-aaaa/config.json', 'devices/gs-aaaa/qr.png', 'devices/gs-aaaa/qr.svg',
      'devices/gs-bbbb/config.json', 'devices/gs-bbbb/qr.png', 'devices/gs-bbbb/qr.svg', 'manifest.csv',
    ]);
    const config = JSON.parse(strFromU8(files['devices/gs-aaaa/config.json']!));
    expect(config).toMatchObject({
      deviceId: 'gs-aaaa',
      connectionString: `HostName=energy.example.org;DeviceId=gs-aaaa;SharedAccessKey=${KEY}`,
      mqtt: {
        url: 'mqtts://energy.example.org:8883', username: 'gs-aaaa',
        topics: { events: 'devices/gs-aaaa/messages/events', commands: 'devices/gs-aaaa/commands', commandAck: 'devices/gs-aaaa/commands/ack' },
      },
      http: { readingsUrl: 'https://energy.example.org/api/v1/devices/gs-aaaa/readings', commandsUrl: 'https://energy.example.org/api/v1/devices/gs-aaaa/commands' },
    });
    // The external broker's password comes from the key: a device that holds it derives the same.
    expect(config.mqtt.brokerPassword).toBe(brokerPassword(KEY, 'gs-aaaa'));
    expect(JSON.stringify(config)).not.toContain('7K2Q');
    const qrText = decodeQr(files['devices/gs-bbbb/qr.png']!);
    expect(qrText).toBe('https://energy.example.org/claim?code=ABCD-EFGH-JKMN');
    expect(qrText).not.toContain(OTHER_KEY);
    const manifest = strFromU8(files['manifest.csv']!).trim().split('\r\n');
    expect(manifest[0]).toBe('device_id,kind,connection_string,claim_url');
    expect(manifest[1]).toBe(`gs-aaaa,meter-reader,HostName=energy.example.org;DeviceId=gs-aaaa;SharedAccessKey=${KEY},https://energy.example.org/claim?code=7K2Q-M9XD-4RTA`);
    expect(batchZip(endpoints, devices)).toEqual(zip);
  });

  it('a trimmed ZIP leaves no trace of removed devices', () => {
    const trimmed = zipWithoutDevices(batchZip(endpoints, devices), new Set(['gs-aaaa']));
    const files = unzipSync(trimmed);
    expect(Object.keys(files).some((name) => name.includes('gs-aaaa'))).toBe(false);
    expect(strFromU8(files['manifest.csv']!)).not.toContain('gs-aaaa');
    expect(strFromU8(files['manifest.csv']!)).not.toContain(KEY);
    expect(fileFromZip(trimmed, 'devices/gs-bbbb/qr.svg')).toBeDefined();
  });
});
