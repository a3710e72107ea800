import type { EventParams, NotificationEvent } from '../../src/notifications/domain/events.js';

export const PDF = new TextEncoder().encode('%PDF-1.4\n%test\n');
const at = Date.parse('2026-11-03T17:30:00Z');

/** One valid parameter set per event. */
export const SAMPLE: { [E in NotificationEvent]: EventParams[E] } = {
  'invitation': { communityName: 'EEG Sonnenstraße', inviterName: 'Maria Huber', link: 'https://gridshare.example/join/abc' },
  'join-approved': { communityName: 'EEG Sonnenstraße', link: 'https://gridshare.example/' },
  'join-rejected': { communityName: 'EEG Sonnenstraße', reason: 'Outside our grid area' },
  'statement-ready': { communityName: 'EEG Sonnenstraße', period: '2026-10', invoiceNumber: 'SUN-2026-00042', total: '1234.56', currency: 'EUR', dueDate: '2026-11-17', link: 'https://gridshare.example/statements/42', pdf: { filename: 'SUN-2026-00042.pdf', content: PDF } },
  'payment-due': { communityName: 'EEG Sonnenstraße', invoiceNumber: 'SUN-2026-00042', total: '11.56', currency: 'EUR', dueDate: '2026-11-17', link: 'https://gridshare.example/statements/42' },
  'payment-failed': { communityName: 'EEG Sonnenstraße', invoiceNumber: 'SUN-2026-00042', total: '11.56', currency: 'EUR', reasonCode: 'AM04', link: 'https://gridshare.example/statements/42' },
  'device-offline': { communityName: 'EEG Sonnenstraße', deviceName: 'Meter reader 07', sinceMs: at, thresholdMinutes: 1, link: 'https://gridshare.example/devices/7' },
  'quarantined-quarter-hour': { communityName: 'EEG Sonnenstraße', meteringPoint: 'AT0010000000000000001000000000042', quarterHourStartMs: at, reason: 'reading from the future', link: 'https://gridshare.example/quality' },
  'wallet-low-balance': { communityName: 'EEG Sonnenstraße', balance: '4.5', threshold: '10.00', currency: 'EUR', link: 'https://gridshare.example/market' },
  'password-reset': { link: 'https://gridshare.example/reset#t=abc', expiresAtMs: at },
  'email-verification': { link: 'https://gridshare.example/verify#t=abc', expiresAtMs: at },
};

