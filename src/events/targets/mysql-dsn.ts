/**
 * Go-MySQL-Driver DSNs, the form MinIO's dsn_string takes:
 *   [user[:password]@][net[(address)]]/dbname[?param=value&...]
 * e.g. "root:123456@tcp(172.17.0.1:3306)/miniodb" or "u:p@unix(/run/mysqld/mysqld.sock)/db".
 * Like the Go driver, the password may contain '@' and ':' (the last '@' before the
 * last '/' ends the credentials). Params other than `timeout` are accepted and ignored.
 */
import { parseHostPort } from './host-port.js';
import { parseDuration } from './options.js';

export interface MysqlEndpoint {
  user: string;
  password: string;
  host?: string;
  port?: number;
  socketPath?: string;
  database: string;
  /** connect timeout from ?timeout=, ms */
  connectTimeoutMs?: number;
}

/** Parses a DSN; returns an error text on bad input (never echoing the password). */
export function parseMysqlDsn(dsn: string): MysqlEndpoint | string {
  const slash = dsn.lastIndexOf('/');
  if (slash < 0) return "must look like '<user>:<password>@tcp(<host>:<port>)/<database>' (no '/<database>' found)";
  const head = dsn.slice(0, slash);
  let tail = dsn.slice(slash + 1);
  let params = '';
  const q = tail.indexOf('?');
  if (q >= 0) { params = tail.slice(q + 1); tail = tail.slice(0, q); }
  if (tail === '') return 'must name a database after the last /';

  const at = head.lastIndexOf('@');
  const creds = at >= 0 ? head.slice(0, at) : '';
  const netPart = at >= 0 ? head.slice(at + 1) : head;
  const colon = creds.indexOf(':');
  const out: MysqlEndpoint = {
    user: colon >= 0 ? creds.slice(0, colon) : creds,
    password: colon >= 0 ? creds.slice(colon + 1) : '',
    database: tail,
  };

  const m = /^([a-z0-9]*)(?:\((.*)\))?$/.exec(netPart);
  if (!m) return `has a bad network part '${netPart}' (expected tcp(host:port) or unix(/path))`;
  const net = m[1] || 'tcp';
  const addr = m[2] ?? '';
  if (net === 'unix') {
    if (addr === '') return 'needs a socket path in unix(...)';
    out.socketPath = addr;
  } else if (net === 'tcp' || net === 'tcp4' || net === 'tcp6') {
    const hp = parseHostPort(addr || '127.0.0.1:3306', 3306);
    if (typeof hp === 'string') return hp;
    out.host = hp.host;
    out.port = hp.port;
  } else {
    return `has an unsupported network '${net}' (use tcp or unix)`;
  }

  for (const pair of params.split('&').filter(Boolean)) {
    const [k, v = ''] = pair.split('=');
    if (k === 'timeout') {
      const ms = parseDuration(decodeURIComponent(v));
      if (ms === undefined) return `has a bad timeout parameter '${v}'`;
      out.connectTimeoutMs = ms;
    }
  }
  return out;
}
