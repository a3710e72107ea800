/** One CSV field as RFC 4180 writes it: quoted only when it holds a quote, a comma or a line break. */
export function escapeField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
