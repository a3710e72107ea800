/**
 * The customer interfaces of the meters the agent reads, by name: how the serial line is set,
 * how frames are delimited on it, and which decoder reads them. A config may override the line
 * settings (some interfaces ship at other speeds), never the framing.
 */
export type Parity = 'none' | 'even' | 'odd';

export interface LineSettings {
  readonly baudRate: number;
  readonly dataBits: 7 | 8;
  readonly parity: Parity;
  readonly stopBits: 1 | 2;
}

export interface MeterProfile {
  readonly name: string;
  readonly description: string;
  readonly line: LineSettings;
  /** Framer name (framing/registry.ts). */
  readonly framing: string;
  /** Decoder name of the platform's meters capability, or 'auto'. */
  readonly format: string;
  /** The meter talks only when asked: an IEC 62056-21 sign-on, then a baud switch (mode C). */
  readonly handshake?: 'iec62056-21';
}

const line = (baudRate: number, dataBits: 7 | 8, parity: Parity, stopBits: 1 | 2 = 1): LineSettings => ({ baudRate, dataBits, parity, stopBits });

const profiles: readonly MeterProfile[] = [
  { name: 'dsmr-p1', description: 'DSMR 4/5 P1 port, Belgian e-MUCS (115200 8N1)', line: line(115_200, 8, 'none'), framing: 'text', format: 'dsmr' },
  { name: 'dsmr-p1-v2', description: 'DSMR 2.2/3 P1 port (9600 7E1)', line: line(9_600, 7, 'even'), framing: 'text', format: 'dsmr' },
  { name: 'at-mbus', description: 'Austrian customer interface: DLMS/COSEM over wired M-Bus or IR, AES-128-GCM (2400 8E1)', line: line(2_400, 8, 'even'), framing: 'mbus', format: 'dlms' },
  { name: 'mbus', description: 'EN 13757-3 M-Bus meter pushing RSP_UD long frames (2400 8E1)', line: line(2_400, 8, 'even'), framing: 'mbus', format: 'mbus' },
  { name: 'sml', description: 'SML 1.04 optical head, German eHZ/EDL meters (9600 8N1)', line: line(9_600, 8, 'none'), framing: 'sml', format: 'sml' },
  { name: 'd0-push', description: 'IEC 62056-21 mode D push on the optical interface (9600 7E1)', line: line(9_600, 7, 'even'), framing: 'text', format: 'd0' },
  { name: 'd0', description: 'IEC 62056-21 mode C readout: sign-on at 300 Bd 7E1, then the meter\'s speed', line: line(300, 7, 'even'), framing: 'text', format: 'd0', handshake: 'iec62056-21' },
];

const byName = new Map(profiles.map((p) => [p.name, p]));

export function meterProfile(name: string): MeterProfile | undefined {
  return byName.get(name);
}

export function profileNames(): string[] {
  return profiles.map((p) => p.name);
}

export function meterProfiles(): readonly MeterProfile[] {
  return profiles;
}

/** The standard rates a serial line may be set to (termios). */
export const BAUD_RATES: readonly number[] = [300, 600, 1_200, 2_400, 4_800, 9_600, 19_200, 38_400, 57_600, 115_200];
