import { BadRequestError } from '../../kernel/errors.js';
import { BATCH_NAME_MAX } from '@gridshare/contract/provisioning';

// Line breaks and other control characters would break a list row or a sticker line; bidi
// controls (RLO, isolates, marks) make a name read differently from what it is ("Trojan Source");
// an unpaired surrogate is not text at all.
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
const BIDI_CONTROL = /\p{Bidi_Control}/u;
const UNPAIRED_SURROGATE = /\p{Cs}/u;

const codePoint = (character: string) => `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

function refuse(name: string, pattern: RegExp, what: string): void {
  const characters = [...name];
  const index = characters.findIndex((c) => pattern.test(c));
  if (index >= 0) {
    throw new BadRequestError(`body/name: a batch name may not contain ${what} (${codePoint(characters[index]!)} at character ${index + 1})`, 'body/name');
  }
}

/**
 * A batch name as it is stored: NFC, without spaces at either end, 1 to BATCH_NAME_MAX characters (code points, as
 * PostgreSQL's char_length counts them), no control or bidi control characters. Bad input is a
 * BadRequestError on `body/name` that says what is wrong and where.
 */
export function checkBatchName(input: string): string {
  refuse(input, UNPAIRED_SURROGATE, 'a broken character (an unpaired surrogate)');
  refuse(input, CONTROL, 'control characters or line breaks');
  refuse(input, BIDI_CONTROL, 'characters that change the writing direction (bidi controls)');
  const name = input.normalize('NFC').trim();
  const length = [...name].length;
  if (length < 1 || length > BATCH_NAME_MAX) {
    throw new BadRequestError(`body/name: a batch name has 1 to ${BATCH_NAME_MAX} characters (not counting spaces at either end); this one has ${length}`, 'body/name');
  }
  return name;
}
