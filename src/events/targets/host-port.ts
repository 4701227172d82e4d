/**
 * "host:port" parsing for target addresses (IPv6 in brackets: "[::1]:6379").
 */

export interface HostPort {
  host: string;
  port: number;
}

/** Parses host[:port]; returns an error text (for the caller to name the key) on bad input. */
export function parseHostPort(text: string, defaultPort: number): HostPort | string {
  let host: string;
  let portText: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (v6) {
    host = v6[1];
    portText = v6[2];
  } else {
    const parts = text.split(':');
    if (parts.length > 2) return `must be host:port (put IPv6 addresses in brackets), got '${text}'`;
    host = parts[0];
    portText = parts[1];
  }
  if (host === '' || /[\s/]/.test(host)) return `has a bad host in '${text}'`;
  if (portText === undefined || portText === '') return { host, port: defaultPort };
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return `has a bad port '${portText}'`;
  return { host, port: Number(portText) };
}
