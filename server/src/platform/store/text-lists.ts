/**
 * SQL arrays sent as text (`array_to_string(column, ',', '')`) and read character by character,
 * with no string per value: the drivers' SQL-array parser makes one per element, and for a
 * 1,000-member month that garbage was most of settlement's client time (and a tenth of the
 * sharing job's). Both drivers send text alike, so what a store reads does not depend on which.
 */

/** A list of whole numbers as the database sends it: an empty item for a NULL element. */
export function numbersFromText(list: string): (number | null)[] {
  const values: (number | null)[] = [];
  let value = 0;
  let negative = false;
  let digits = 0;
  for (let i = 0; i <= list.length; i++) {
    const code = i === list.length ? 44 : list.charCodeAt(i);
    if (code === 44) {
      if (negative && digits === 0) throw new Error(`not a list of whole numbers: "${list.slice(0, 40)}"`);
      if (value > Number.MAX_SAFE_INTEGER) throw new RangeError(`a whole number in "${list.slice(0, 40)}" exceeds the safe integer range`);
      values.push(digits === 0 ? null : negative ? -value : value);
      value = 0;
      negative = false;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      value = value * 10 + (code - 48);
      digits += 1;
    } else if (code === 45 && digits === 0 && !negative) {
      negative = true;
    } else {
      throw new Error(`not a list of whole numbers: "${list.slice(0, 40)}"`);
    }
  }
  return values;
}

/** A boolean list as the database sends it: `t`, `f`, or empty for a NULL element. */
export function flagsFromText(list: string): (boolean | null)[] {
  return list.split(',').map((item) => {
    if (item === 't') return true;
    if (item === 'f') return false;
    if (item === '') return null;
    throw new Error(`not a list of flags: "${list.slice(0, 40)}"`);
  });
}
