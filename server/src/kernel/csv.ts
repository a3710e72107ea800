/** One CSV field as RFC 4180 writes it: quoted only when it holds a quote, a comma or a line break. */
export function escapeField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

/**
 * Text that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
 * return: "CSV injection") with a ' in front, so it is shown as the text it is; plain decimals
 * such as "-17.28" are figures, not formulas, and stay as they are.
 */
export function formulaSafe(text: string): string {
  return /^[=+\-@\t\r]/.test(text) && !PLAIN_NUMBER.test(text) ? `'${text}` : text;
}

/** One CSV record (without its line end): text made formula-safe and quoted where needed, numbers and booleans as written by String. */
export function csvRecord(cells: readonly (string | number | boolean)[]): string {
  return cells.map((cell) => (typeof cell === 'string' ? escapeField(formulaSafe(cell)) : String(cell))).join(',');
}
