/**
 * XML for the AWS Query protocol responses (STS and IAM): a tiny element builder with
 * escaping, the success envelope (<XResponse xmlns><XResult>..</XResult><ResponseMetadata>)
 * and the error envelope (<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>).
 * Values are always escaped; element names are ours and never come from a client.
 */
export interface QueryResponse {
  status: number;
  contentType: string;
  body: string;
}

/** An XML fragment: a string already escaped/assembled. */
export type Xml = { readonly xml: string };

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

type Child = Xml | string | number | boolean | Date | undefined | null;

/** <name>children</name>; undefined/null children are left out, Dates as ISO 8601 UTC. */
export function el(name: string, ...children: Child[]): Xml {
  let inner = '';
  for (const c of children) {
    if (c === undefined || c === null) continue;
    if (typeof c === 'object' && 'xml' in c) inner += c.xml;
    else if (c instanceof Date) inner += escapeXml(isoSeconds(c));
    else inner += escapeXml(String(c));
  }
  return { xml: `<${name}>${inner}</${name}>` };
}

/** Escaped text as a fragment (for lists of plain values). */
export function text(s: string): Xml {
  return { xml: escapeXml(s) };
}

/** An element only when the value is present. */
export function opt(name: string, value: Child): Xml | undefined {
  return value === undefined || value === null ? undefined : el(name, value);
}

/** <name><member>..</member>...</name> */
export function members(name: string, items: readonly Xml[]): Xml {
  return el(name, ...items.map((i) => el('member', i)));
}

export function frag(...parts: (Xml | undefined)[]): Xml {
  return { xml: parts.map((p) => p?.xml ?? '').join('') };
}

/** RFC 3339 UTC without fractional seconds, as AWS writes timestamps. */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function successResponse(namespace: string, action: string, result: Xml | undefined, requestId: string): QueryResponse {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${namespace}">`
    + (result ? el(`${action}Result`, result).xml : '')
    + el('ResponseMetadata', el('RequestId', requestId)).xml
    + `</${action}Response>`;
  return { status: 200, contentType: 'text/xml', body };
}

export function errorResponse(namespace: string, status: number, code: string, message: string, requestId: string): QueryResponse {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${namespace}">`
    + el('Error', el('Type', type), el('Code', code), el('Message', message)).xml
    + el('RequestId', requestId).xml
    + '</ErrorResponse>';
  return { status, contentType: 'text/xml', body };
}
