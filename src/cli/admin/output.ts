/**
 * Output as mc prints it: plain lines, or with --json one JSON object per message,
 * indented by one space and carrying "status":"success" (errors: "status":"error").
 */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (t) => { process.stdout.write(t); },
  err: (t) => { process.stderr.write(t); },
};

export class Printer {
  constructor(readonly io: Io, readonly json: boolean) {}

  /** Prints `plain` or, in JSON mode, {"status":"success", ...fields}. */
  message(plain: string, fields: Record<string, unknown> = {}): void {
    if (this.json) this.io.out(`${JSON.stringify({ status: 'success', ...fields }, null, ' ')}\n`);
    else this.io.out(plain.endsWith('\n') || plain === '' ? plain : `${plain}\n`);
  }

  error(message: string, code?: string): void {
    if (this.json) this.io.out(`${JSON.stringify({ status: 'error', error: { message, ...(code ? { cause: { error: { Code: code } } } : {}) } }, null, ' ')}\n`);
    else this.io.err(`s3gate: <ERROR> ${message}\n`);
  }
}
