/** Claim codes as printed on a sticker: 7K2Q-M9XD-4RTA (server/src/provisioning/keys.ts). */
const CODE = /^[0-9A-Z]{4}-?[0-9A-Z]{4}-?[0-9A-Z]{4}$/;

/**
 * The claim code in what a QR code or a person gave: the sticker's claim URL
 * (https://host/claim?code=…) or the code itself. Undefined when it is neither.
 */
export function claimCodeFrom(text: string): string | undefined {
  const trimmed = text.trim();
  if (CODE.test(trimmed.toUpperCase())) return trimmed.toUpperCase();
  try {
    const url = new URL(trimmed);
    const code = url.searchParams.get('code');
    if (url.pathname.endsWith('/claim') && code && CODE.test(code.toUpperCase())) return code.toUpperCase();
  } catch {
    // Not a URL either.
  }
  return undefined;
}
