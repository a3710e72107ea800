/**
 * IEC 62056-21 sign-on, as a mode C meter expects it on its optical port: the agent sends
 * "/?!" CR LF at 300 Bd 7E1, the meter answers with its identification "/XXXZ…" CR LF, where the
 * baud character Z tells its speed; the agent acknowledges with ACK "0" Z "0" CR LF (data
 * readout) and both switch to that speed for the readout. Mode B switches without the ACK;
 * mode A stays at 300 Bd.
 */
export const SIGN_ON_BAUD = 300;
const ACK = 0x06;

export type D0Mode = 'A' | 'B' | 'C';

export interface D0Identification {
  readonly manufacturer: string;
  readonly baudChar: string;
  readonly mode: D0Mode;
  /** The speed of the readout. */
  readonly baudRate: number;
  /** The rest of the line: the meter's type. */
  readonly identification: string;
}

const MODE_C_RATES = [300, 600, 1_200, 2_400, 4_800, 9_600, 19_200];
const MODE_B_RATES: Record<string, number> = { A: 600, B: 1_200, C: 2_400, D: 4_800, E: 9_600, F: 19_200 };

/** The request message: "/?!" CR LF, or "/?<address>!" CR LF for one meter on a shared bus. */
export function signOnRequest(address = ''): Uint8Array {
  if (!/^[0-9A-Za-z ]{0,32}$/.test(address)) throw new Error('a device address is up to 32 letters, digits or spaces');
  return ascii(`/?${address}!\r\n`);
}

/** Reads the meter's identification line (without its CR LF); undefined when it is none. */
export function parseIdentification(line: string): D0Identification | undefined {
  const match = /^\/([A-Za-z]{2}[A-Za-z0-9])([0-9A-I])(\\\d)?(.{1,16})$/.exec(line.replace(/\r?\n$/, ''));
  if (!match) return undefined;
  const baudChar = match[2]!;
  const digit = /^\d$/.test(baudChar);
  const mode: D0Mode = digit ? 'C' : baudChar in MODE_B_RATES ? 'B' : 'A';
  const baudRate = digit ? MODE_C_RATES[Number(baudChar)] : MODE_B_RATES[baudChar];
  return { manufacturer: match[1]!, baudChar, mode, baudRate: baudRate ?? SIGN_ON_BAUD, identification: match[4]! };
}

/** What the agent sends after the identification (nothing in modes A and B). */
export function acknowledgement(id: D0Identification): Uint8Array {
  if (id.mode !== 'C') return new Uint8Array(0);
  const out = ascii(`?0${id.baudChar}0\r\n`);
  out[0] = ACK;
  return out;
}

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}
