/**
 * XML in and out. Parsing request bodies goes through fast-xml-parser (with a size cap
 * applied by the caller); responses are built by a small serializer, since they are
 * simple trees and the listing path is hot.
 */
import { XMLParser } from 'fast-xml-parser';
import { S3Error } from './errors.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export type XmlValue = string | number | boolean | Date | undefined | null | XmlNode | XmlValue[];
export interface XmlNode { [name: string]: XmlValue }

export function escapeXml(s: string): string {
  return s.replace(/[&<>"'\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' })[c]!);
}

function text(v: string | number | boolean | Date): string {
  return v instanceof Date ? v.toISOString() : escapeXml(String(v));
}

function element(name: string, v: XmlValue, out: string[]): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) { for (const x of v) element(name, x, out); return; }
  if (typeof v === 'object' && !(v instanceof Date)) {
    out.push(`<${name}>`);
    for (const [k, c] of Object.entries(v)) element(k, c, out);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>${text(v)}</${name}>`);
}

/** Serializes { Root: {...} } with the S3 namespace on the root element. */
export function toXml(root: string, body: XmlNode, xmlns: string | null = S3_XMLNS): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n', xmlns ? `<${root} xmlns="${xmlns}">` : `<${root}>`];
  for (const [k, v] of Object.entries(body)) element(k, v, out);
  out.push(`</${root}>`);
  return out.join('');
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  // Go clients (rclone, mc) escape quotes as &#34;
  htmlEntities: true,
  ignoreDeclaration: true,
});

/** Parses a request body; MalformedXML on anything that is not a single well-formed document. */
export function parseXml(body: Buffer | string): Record<string, any> {
  const s = body.toString();
  if (!s.trim()) throw new S3Error('MalformedXML');
  try {
    const r = parser.parse(s, true);
    if (!r || typeof r !== 'object') throw new Error('empty');
    return r;
  } catch {
    throw new S3Error('MalformedXML');
  }
}

/** Always an array: XML children that may appear once or many times. */
export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
}
