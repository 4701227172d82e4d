/**
 * libpq connection strings, the form MinIO's connection_string takes:
 *   "host=127.0.0.1 port=5432 user=postgres dbname=test sslmode=disable"
 * (keyword=value pairs, spaces around '=' allowed, values optionally in single quotes
 * with \' and \\ escapes), or the URL form "postgres://user:pass@host:5432/db?sslmode=...".
 */

export interface PgEndpoint {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** disable | allow | prefer | require | verify-ca | verify-full */
  sslmode?: string;
  sslrootcert?: string;
  sslcert?: string;
  sslkey?: string;
  connectTimeoutMs?: number;
  applicationName?: string;
  /** URL form: handed to pg as is. */
  url?: string;
}

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** Parses either form; returns an error text (never echoing a password) on bad input. */
export function parsePgConnectionString(text: string): PgEndpoint | string {
  if (/^postgres(ql)?:\/\//.test(text)) {
    try {
      new URL(text);
    } catch {
      return 'is not a valid postgres:// URL';
    }
    return { url: text };
  }
  const pairs = splitKeywords(text);
  if (typeof pairs === 'string') return pairs;
  const out: PgEndpoint = {};
  for (const [k, v] of pairs) {
    switch (k) {
      case 'host': case 'hostaddr': out.host = v; break;
      case 'port':
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) return `has a bad port '${v}'`;
        out.port = Number(v);
        break;
      case 'user': out.user = v; break;
      case 'password': out.password = v; break;
      case 'dbname': out.database = v; break;
      case 'sslmode':
        if (!SSL_MODES.includes(v)) return `has a bad sslmode '${v}' (one of ${SSL_MODES.join(', ')})`;
        out.sslmode = v;
        break;
      case 'sslrootcert': out.sslrootcert = v; break;
      case 'sslcert': out.sslcert = v; break;
      case 'sslkey': out.sslkey = v; break;
      case 'connect_timeout':
        if (!/^\d+$/.test(v)) return `has a bad connect_timeout '${v}' (seconds)`;
        out.connectTimeoutMs = Number(v) * 1000;
        break;
      case 'application_name': out.applicationName = v; break;
      default: return `has an unsupported keyword '${k}'`;
    }
  }
  return out;
}

function splitKeywords(text: string): Array<[string, string]> | string {
  const out: Array<[string, string]> = [];
  let i = 0;
  const skipSpace = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  while (true) {
    skipSpace();
    if (i >= text.length) return out;
    const keyStart = i;
    while (i < text.length && /[A-Za-z0-9_]/.test(text[i])) i++;
    const key = text.slice(keyStart, i);
    skipSpace();
    if (key === '' || text[i] !== '=') return `must be 'keyword=value ...' pairs or a postgres:// URL (near position ${keyStart})`;
    i++;
    skipSpace();
    let value = '';
    if (text[i] === "'") {
      i++;
      while (i < text.length && text[i] !== "'") {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
      if (i >= text.length) return `has an unterminated quoted value for '${key}'`;
      i++;
    } else {
      while (i < text.length && !/\s/.test(text[i])) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i++];
      }
    }
    out.push([key, value]);
  }
}
