/** Who may talk to the local page: clients on the home network, by names that really are the reader's. */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7}(%[\w.-]+)?$/i;

const isIpLiteral = (text: string): boolean => IPV4.test(text) || IPV6.test(text);

/** An IP, localhost or a .local name: a page reached by any other name came through DNS rebinding. */
export function allowedHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return isIpLiteral(name) || name === 'localhost' || /^[a-z0-9-]+(\.[a-z0-9-]+)*\.local$/.test(name);
}

export function isLoopback(address: string): boolean {
  const v4 = address.replace(/^::ffff:/, '');
  return v4.startsWith('127.') || address === '::1';
}

/** Loopback, RFC 1918, link-local, IPv6 unique-local and link-local addresses. */
export function isLocalAddress(address: string): boolean {
  const v4 = address.replace(/^::ffff:/, '');
  if (IPV4.test(v4)) {
    const [a, b] = v4.split('.').map(Number) as [number, number];
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  const v6 = address.toLowerCase();
  return v6 === '::1' || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6);
}
