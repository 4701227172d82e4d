/**
 * IPv4/IPv6 addresses and CIDR blocks for IpAddress/NotIpAddress. IPv4-mapped IPv6
 * addresses (::ffff:10.0.0.1, what node reports for IPv4 clients on a dual-stack socket)
 * are treated as the IPv4 address, and zone ids (%eth0) are ignored.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddr { v: 4 | 6; bytes: Uint8Array }
export interface Cidr extends IpAddr { bits: number }

function v4bytes(s: string): Uint8Array {
  return Uint8Array.from(s.split('.').map(Number));
}

function v6bytes(s: string): Uint8Array {
  let text = s;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail = [...v4bytes(text.slice(lastColon + 1))];
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const r = rest === undefined ? [] : rest ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array(8 - h.length - r.length).fill('0'), ...r];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { const n = parseInt(g, 16); out[i * 2] = n >> 8; out[i * 2 + 1] = n & 0xff; });
  if (tail.length) out.set(tail, 12);
  return out;
}

function isMapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

export function parseIp(value: string): IpAddr | undefined {
  const s = value.trim().replace(/%.*$/, '').replace(/^\[(.*)\]$/, '$1');
  if (isIPv4(s)) return { v: 4, bytes: v4bytes(s) };
  if (!isIPv6(s)) return undefined;
  const b = v6bytes(s);
  return isMapped(b) ? { v: 4, bytes: b.slice(12) } : { v: 6, bytes: b };
}

export function parseCidr(value: string): Cidr | undefined {
  const slash = value.indexOf('/');
  const addrText = slash < 0 ? value : value.slice(0, slash);
  const ip = parseIp(addrText);
  if (!ip) return undefined;
  const wasV6Text = !isIPv4(addrText.trim());
  let bits = ip.v === 4 ? 32 : 128;
  if (slash >= 0) {
    const t = value.slice(slash + 1);
    if (!/^\d{1,3}$/.test(t)) return undefined;
    bits = Number(t);
    if (ip.v === 4 && wasV6Text) bits -= 96; // ::ffff:a.b.c.d/120 is a.b.c.d/24
    if (bits < 0 || bits > (ip.v === 4 ? 32 : 128)) return undefined;
  }
  return { ...ip, bits };
}

export function cidrContains(c: Cidr, ip: IpAddr): boolean {
  if (c.v !== ip.v) return false;
  const full = c.bits >> 3;
  for (let i = 0; i < full; i++) if (c.bytes[i] !== ip.bytes[i]) return false;
  const rem = c.bits & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return (c.bytes[full] & mask) === (ip.bytes[full] & mask);
}
