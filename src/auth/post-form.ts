/**
 * Streaming multipart/form-data reader for browser POST uploads (S3 PostObject).
 *
 * S3's rules: the fields that matter come before the `file` field; the file is the
 * object body; fields after the file are ignored. So `parsePostForm` resolves as soon as
 * the file part's headers have been read, with the fields seen so far and the file as a
 * Readable that streams straight from the request (no buffering; pieces are views of the
 * incoming buffers, with back-pressure to the request). Everything after the file's
 * closing boundary is read and discarded.
 *
 * Limits keep a hostile form from costing memory: per-field and total size of what
 * precedes the file (MaxPostPreDataLengthExceededError, as S3 names it), field count and
 * part-header size (MalformedPOSTRequest). A body with no `file` part gets
 * IncorrectNumberOfFilesInPostRequest; a body cut short inside the file makes the file
 * stream error with MalformedPOSTRequest, so a consumer never commits a truncated upload.
 *
 * Field names are case-insensitive in S3 forms; they are returned lower-cased, and a field
 * given twice is refused (two values would let the policy check one and the upload use
 * the other).
 */
import { Readable, Writable } from 'node:stream';
import { S3Error } from '../server/errors.js';

export interface PostFormLimits {
  /** Largest single field value (default 64 KiB). */
  maxFieldBytes?: number;
  /** All bytes before the file's content: preamble, part headers, fields (default 256 KiB). */
  maxPreFileBytes?: number;
  /** Most fields before the file (default 200). */
  maxFields?: number;
  /** Largest header block of one part (default 8 KiB). */
  maxPartHeaderBytes?: number;
}

export interface PostForm {
  /** Fields before the file, names lower-cased, values UTF-8. */
  fields: Record<string, string>;
  /** The object body. Errors if the request ends before the file part is closed. */
  file: Readable;
  /** The file part's filename parameter ('' when absent). */
  filename: string;
  /** The file part's own Content-Type, if it had one. */
  fileContentType?: string;
}

/** The boundary parameter of a multipart/form-data Content-Type, or MalformedPOSTRequest. */
export function parseMultipartBoundary(contentType: string | undefined): string {
  const ct = contentType ?? '';
  if (!/^\s*multipart\/form-data\s*(;|$)/i.test(ct)) {
    throw new S3Error('PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data', { extra: { Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' } });
  }
  const m = /;\s*boundary=(?:"([^"]{1,200})"|([^\s;"]{1,200}))/i.exec(ct);
  const b = m?.[1] ?? m?.[2];
  if (!b) throw new S3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data: no boundary.');
  return b;
}

/** Parameters of a header value like `form-data; name="a"; filename="b.txt"`. */
function headerParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  // Browsers percent-encode quotes in names (HTML form encoding) and never backslash-escape,
  // so a Windows path like C:\dir\f.jpg arrives as it is.
  const re = /;\s*([^=;\s]+)\s*=\s*(?:"([^"]*)"|([^;]*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value)) !== null) {
    const name = m[1]!.toLowerCase();
    const v = m[2] !== undefined ? m[2] : m[3]!.trim();
    if (!(name in out)) out[name] = v;
  }
  // RFC 5987 filename*=UTF-8''percent-encoded wins over the plain form.
  const ext = out['filename*'];
  if (ext) {
    const em = /^UTF-8''(.*)$/i.exec(ext);
    if (em) {
      try {
        out.filename = decodeURIComponent(em[1]!);
      } catch {
        /* keep the plain filename */
      }
    }
  }
  return out;
}

interface PartHeaders {
  name: string;
  filename?: string;
  contentType?: string;
}

function parsePartHeaders(block: string): PartHeaders {
  let disposition: string | undefined;
  let contentType: string | undefined;
  for (const line of block.split('\r\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed('bad part header');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-disposition') disposition = value;
    else if (name === 'content-type') contentType = value;
  }
  if (!disposition || !/^form-data\s*(;|$)/i.test(disposition)) throw malformed('part without Content-Disposition: form-data');
  const params = headerParams(disposition);
  if (params.name === undefined) throw malformed('part without a name');
  return { name: params.name, filename: params.filename, contentType };
}

function malformed(why: string): S3Error {
  return new S3Error('MalformedPOSTRequest', `The body of your POST request is not well-formed multipart/form-data: ${why}.`);
}

function tooLarge(): S3Error {
  return new S3Error('MaxPostPreDataLengthExceededError', 'Your POST request fields preceding the upload file were too large.');
}

type State = 'preamble' | 'after-delimiter' | 'headers' | 'field' | 'file' | 'discard';

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** The Writable the request is piped into; see parsePostForm. */
class FormParser extends Writable {
  private state: State = 'preamble';
  private readonly delimiter: Buffer;
  // Bytes not yet consumed in the non-file states (bounded by the limits).
  private acc: Buffer = CRLF; // lets the first boundary match without a leading CRLF
  private preBytes = 0;
  private part?: PartHeaders;
  private readonly fields: Record<string, string> = {};
  private fieldCount = 0;
  private file?: Readable;
  private fileCarry?: Buffer;
  private fileFinished = false;
  private waiting?: (err?: Error | null) => void;
  private readonly limits: Required<PostFormLimits>;

  constructor(boundary: string, limits: PostFormLimits, private readonly onFile: (form: PostForm) => void, private readonly onFail: (err: Error) => void) {
    super();
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    this.limits = {
      maxFieldBytes: limits.maxFieldBytes ?? 64 * 1024,
      maxPreFileBytes: limits.maxPreFileBytes ?? 256 * 1024,
      maxFields: limits.maxFields ?? 200,
      maxPartHeaderBytes: limits.maxPartHeaderBytes ?? 8 * 1024,
    };
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      const mustWait = this.consume(chunk);
      if (mustWait) this.waiting = cb;
      else cb();
    } catch (e) {
      this.fail(e as Error);
      cb(e as Error);
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    // A well-formed form without a file part ends in 'discard' (closing "--" seen).
    if (this.state === 'file') this.file!.destroy(malformed('the request ended inside the file'));
    else if (this.state === 'preamble') this.onFail(malformed('no multipart boundary found'));
    else if (this.state !== 'discard') this.onFail(malformed('the request ended before the file'));
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (err) this.fail(err);
    cb(err);
  }

  private fail(err: Error): void {
    if (this.file && !this.fileFinished) this.file.destroy(err);
    else if (!this.file) this.onFail(err);
  }

  /** Processes one chunk; returns true when the file reader wants us to wait. */
  private consume(chunk: Buffer): boolean {
    if (this.state === 'discard') return false;
    if (this.state === 'file') return this.fileData(chunk);
    this.acc = this.acc.length === 0 ? chunk : Buffer.concat([this.acc, chunk]);
    while (true) {
      switch (this.state) {
        case 'preamble': {
          const i = this.acc.indexOf(this.delimiter);
          if (i === -1) {
            this.countPre(this.acc.length - this.delimiter.length);
            this.acc = this.acc.subarray(Math.max(0, this.acc.length - this.delimiter.length));
            return false;
          }
          this.countPre(i + this.delimiter.length);
          this.acc = this.acc.subarray(i + this.delimiter.length);
          this.state = 'after-delimiter';
          break;
        }
        case 'after-delimiter': {
          // "--" closes the multipart; otherwise optional blanks then CRLF start a part
          // (the CRLF stays in acc so an empty header block is "\r\n\r\n" too).
          if (this.acc.length < 2) return false;
          if (this.acc[0] === 0x2d && this.acc[1] === 0x2d) {
            this.state = 'discard';
            this.onFail(new S3Error('IncorrectNumberOfFilesInPostRequest'));
            return false;
          }
          let j = 0;
          while (j < this.acc.length && (this.acc[j] === 0x20 || this.acc[j] === 0x09)) j++;
          if (j > 64) throw malformed('bad boundary line');
          if (this.acc.length < j + 2) return false;
          if (this.acc[j] !== 0x0d || this.acc[j + 1] !== 0x0a) throw malformed('bad boundary line');
          this.acc = this.acc.subarray(j);
          this.state = 'headers';
          break;
        }
        case 'headers': {
          const i = this.acc.indexOf(HEADER_END);
          if (i === -1) {
            if (this.acc.length > this.limits.maxPartHeaderBytes) throw malformed('part headers too large');
            return false;
          }
          if (i > this.limits.maxPartHeaderBytes) throw malformed('part headers too large');
          this.countPre(i + 4);
          this.part = parsePartHeaders(this.acc.subarray(2, i).toString('utf8'));
          this.acc = this.acc.subarray(i + 4);
          if (this.part.name.toLowerCase() === 'file') return this.startFile();
          if (++this.fieldCount > this.limits.maxFields) throw malformed('too many fields');
          this.state = 'field';
          break;
        }
        case 'field': {
          const i = this.acc.indexOf(this.delimiter);
          if (i === -1) {
            if (this.acc.length > this.limits.maxFieldBytes + this.delimiter.length) throw tooLarge();
            return false;
          }
          if (i > this.limits.maxFieldBytes) throw tooLarge();
          this.countPre(i + this.delimiter.length);
          const name = this.part!.name.toLowerCase();
          if (name in this.fields) throw new S3Error('InvalidArgument', `POST form field ${name} appears more than once.`, { extra: { ArgumentName: name } });
          this.fields[name] = this.acc.subarray(0, i).toString('utf8');
          this.acc = this.acc.subarray(i + this.delimiter.length);
          this.state = 'after-delimiter';
          break;
        }
        default:
          return false;
      }
    }
  }

  private countPre(n: number): void {
    this.preBytes += Math.max(0, n);
    if (this.preBytes > this.limits.maxPreFileBytes) throw tooLarge();
  }

  private startFile(): boolean {
    this.state = 'file';
    this.file = new Readable({
      read: () => {
        const cb = this.waiting;
        this.waiting = undefined;
        cb?.();
      },
      destroy: (err, cb) => {
        // The consumer gave up (or we failed it): keep draining the request so the
        // connection can still carry the error response.
        if (!this.fileFinished) {
          this.fileFinished = true;
          this.state = 'discard';
          const w = this.waiting;
          this.waiting = undefined;
          w?.();
        }
        cb(err);
      },
    });
    // The file may fail (truncated body) before its consumer has attached: keep that from
    // being an uncaught 'error'; readers still see it (stream.errored, pipeline, for await).
    this.file.on('error', () => {});
    const part = this.part!;
    this.onFile({ fields: { ...this.fields }, file: this.file, filename: part.filename ?? '', fileContentType: part.contentType });
    const rest = this.acc;
    this.acc = Buffer.alloc(0);
    return rest.length > 0 ? this.fileData(rest) : false;
  }

  /** File bytes: forward everything that cannot be the start of the closing delimiter. */
  private fileData(chunk: Buffer): boolean {
    const d = this.delimiter;
    let data = chunk;
    let more = true;
    if (this.fileCarry && chunk.length < d.length) {
      // A small chunk: join it to the carry (a copy of under two delimiters' length).
      data = Buffer.concat([this.fileCarry, chunk]);
      this.fileCarry = undefined;
    } else if (this.fileCarry) {
      // The carry (< delimiter length, starting with CR) may begin a delimiter that ends
      // in this chunk, within its first d.length - 1 bytes: look in that window only.
      const carry = this.fileCarry;
      this.fileCarry = undefined;
      const window = Buffer.concat([carry, chunk.subarray(0, d.length - 1)]);
      const i = window.indexOf(d);
      if (i !== -1 && i < carry.length) {
        if (i > 0) more = this.file!.push(carry.subarray(0, i));
        this.endFile();
        return false;
      }
      more = this.file!.push(carry);
    }
    const i = data.indexOf(d);
    if (i !== -1) {
      if (i > 0) this.file!.push(data.subarray(0, i));
      this.endFile();
      return false;
    }
    // Keep back a tail that could be a delimiter prefix (it would start with CR).
    const tailStart = data.indexOf(0x0d, Math.max(0, data.length - d.length + 1));
    if (tailStart !== -1) {
      this.fileCarry = data.subarray(tailStart);
      data = data.subarray(0, tailStart);
    }
    if (data.length > 0) more = this.file!.push(data) && more;
    return !more && !this.fileFinished;
  }

  private endFile(): void {
    this.fileFinished = true;
    this.state = 'discard';
    this.file!.push(null);
  }
}

/**
 * Reads a PostObject body. Resolves when the file part starts; rejects with an S3Error
 * for a malformed body, oversized fields, or no file part. `contentType` is the request's
 * Content-Type header (it carries the boundary).
 */
export function parsePostForm(body: Readable, contentType: string | undefined, limits: PostFormLimits = {}): Promise<PostForm> {
  const boundary = parseMultipartBoundary(contentType);
  return new Promise<PostForm>((resolve, reject) => {
    let settled = false;
    const parser = new FormParser(boundary, limits, (form) => {
      settled = true;
      resolve(form);
    }, (err) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
    parser.on('error', () => { /* reported through the promise or the file stream */ });
    body.on('error', (e) => parser.destroy(e));
    body.pipe(parser);
  });
}
