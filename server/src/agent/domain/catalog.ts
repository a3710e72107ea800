/**
 * The local page's words, English and German, one key per message; `{name}` placeholders are
 * filled by `message`. The page shows no other text.
 */
export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

const en = {
  'page.title': 'Gridshare reader {deviceId}',
  'login.heading': 'Enter the reader\'s PIN',
  'login.hint': 'The PIN is on the reader\'s label or in its log (journalctl -u gridshare-agent).',
  'login.pin': 'PIN',
  'login.submit': 'Unlock',
  'login.wrong': 'Wrong PIN.',
  'login.locked': 'Too many wrong PINs: try again in {minutes} minutes.',
  'status.heading': 'Status',
  'status.connection': 'Connection to the platform',
  'status.transport.mqtt': 'connected (MQTT)',
  'status.transport.http': 'connected (HTTP, MQTT blocked)',
  'status.transport.offline': 'offline: readings are kept on the reader',
  'status.queue': 'Waiting to be sent',
  'status.queueValue': '{readings} readings in {messages} messages',
  'status.lastAck': 'Last acknowledged',
  'status.lastError': 'Last problem',
  'status.never': 'never',
  'meter.heading': 'Meter',
  'meter.port': 'Serial port',
  'meter.profile': 'Meter interface',
  'meter.lastFrame': 'Last frame',
  'meter.rate': 'Frames per minute',
  'meter.errors': 'Checksum errors',
  'meter.portNone': 'not chosen',
  'readings.heading': 'Readings now',
  'readings.none': 'No readings yet.',
  'readings.quantity': 'Quantity',
  'readings.value': 'Value',
  'readings.time': 'Time',
  'claim.heading': 'Claim this reader',
  'claim.text': 'Open this link on your phone and log in to add the reader to your home:',
  'claim.code': 'Claim code',
  'settings.heading': 'Settings',
  'settings.key': 'Meter key (from your grid operator\'s portal)',
  'settings.keySet': 'A key is stored. Leave empty to keep it.',
  'settings.authKey': 'Authentication key (only if your grid operator gives one)',
  'settings.language': 'Language',
  'settings.save': 'Save',
  'settings.saved': 'Saved. The reader uses the new settings now.',
  'settings.invalid': 'Not saved: {reason}',
  'settings.logout': 'Lock',
} as const;

export type MessageKey = keyof typeof en;

const de: Record<MessageKey, string> = {
  'page.title': 'Gridshare-Zähleradapter {deviceId}',
  'login.heading': 'PIN des Adapters eingeben',
  'login.hint': 'Die PIN steht auf dem Etikett des Adapters oder in seinem Protokoll (journalctl -u gridshare-agent).',
  'login.pin': 'PIN',
  'login.submit': 'Entsperren',
  'login.wrong': 'Falsche PIN.',
  'login.locked': 'Zu viele falsche PINs: in {minutes} Minuten wieder versuchen.',
  'status.heading': 'Status',
  'status.connection': 'Verbindung zur Plattform',
  'status.transport.mqtt': 'verbunden (MQTT)',
  'status.transport.http': 'verbunden (HTTP, MQTT gesperrt)',
  'status.transport.offline': 'offline: Messwerte bleiben im Adapter gespeichert',
  'status.queue': 'Noch zu senden',
  'status.queueValue': '{readings} Messwerte in {messages} Nachrichten',
  'status.lastAck': 'Zuletzt bestätigt',
  'status.lastError': 'Letztes Problem',
  'status.never': 'nie',
  'meter.heading': 'Zähler',
  'meter.port': 'Serielle Schnittstelle',
  'meter.profile': 'Kundenschnittstelle',
  'meter.lastFrame': 'Letztes Telegramm',
  'meter.rate': 'Telegramme pro Minute',
  'meter.errors': 'Prüfsummenfehler',
  'meter.portNone': 'nicht gewählt',
  'readings.heading': 'Aktuelle Messwerte',
  'readings.none': 'Noch keine Messwerte.',
  'readings.quantity': 'Größe',
  'readings.value': 'Wert',
  'readings.time': 'Zeit',
  'claim.heading': 'Adapter zuordnen',
  'claim.text': 'Öffnen Sie diesen Link am Handy und melden Sie sich an, um den Adapter Ihrem Zuhause zuzuordnen:',
  'claim.code': 'Zuordnungscode',
  'settings.heading': 'Einstellungen',
  'settings.key': 'Zählerschlüssel (aus dem Portal Ihres Netzbetreibers)',
  'settings.keySet': 'Ein Schlüssel ist gespeichert. Leer lassen, um ihn zu behalten.',
  'settings.authKey': 'Authentifizierungsschlüssel (nur wenn Ihr Netzbetreiber einen angibt)',
  'settings.language': 'Sprache',
  'settings.save': 'Speichern',
  'settings.saved': 'Gespeichert. Der Adapter verwendet die neuen Einstellungen.',
  'settings.invalid': 'Nicht gespeichert: {reason}',
  'settings.logout': 'Sperren',
};

const catalogs: Record<Language, Record<MessageKey, string>> = { en, de };

export function message(language: Language, key: MessageKey, params: Record<string, string | number> = {}): string {
  return catalogs[language][key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export function catalogKeys(language: Language): string[] {
  return Object.keys(catalogs[language]).sort();
}

/** The first of the browser's languages the page has (Accept-Language), else English. */
export function pickLanguage(acceptLanguage: string | undefined, fallback: Language = 'en'): Language {
  for (const part of (acceptLanguage ?? '').split(',')) {
    const tag = part.split(';')[0]!.trim().toLowerCase().slice(0, 2);
    if ((LANGUAGES as readonly string[]).includes(tag)) return tag as Language;
  }
  return fallback;
}
