/**
 * A connection opened on first use and re-opened after it fails: what every target
 * needs so that init()/send() can be called again after the service was down,
 * without a background reconnect loop of its own (the delivery loop retries).
 */
import { withTimeout } from './deadline.js';

export class LazyConnection<C> {
  private live: C | undefined;
  private pending: Promise<C> | undefined;
  private closed = false;

  constructor(
    private readonly what: string,
    private readonly timeoutMs: number,
    private readonly open: () => Promise<C>,
    private readonly dispose: (conn: C) => Promise<void> | void,
  ) {}

  /** The live connection, connecting (bounded by the timeout) if there is none. */
  get(): Promise<C> {
    if (this.closed) return Promise.reject(new Error(`${this.what}: target is closed`));
    if (this.live !== undefined) return Promise.resolve(this.live);
    if (this.pending === undefined) {
      let abandoned = false;
      const opening = this.open();
      // A connect that completes after we gave up must not leak its socket.
      opening.then((c) => { if (abandoned) void this.safeDispose(c); }, () => {});
      const attempt = withTimeout(opening, this.timeoutMs, `${this.what}: connect`).then(
        (c) => {
          if (this.closed) { void this.safeDispose(c); throw new Error(`${this.what}: target is closed`); }
          this.live = c;
          return c;
        },
        (err) => { abandoned = true; throw err; },
      ).finally(() => { if (this.pending === attempt) this.pending = undefined; });
      this.pending = attempt;
    }
    return this.pending;
  }

  /** The connection if one is up, without connecting. */
  peek(): C | undefined {
    return this.live;
  }

  /** Forgets a broken connection (if it is still the current one) and disposes it. */
  drop(conn?: C): void {
    if (this.live === undefined || (conn !== undefined && conn !== this.live)) return;
    const c = this.live;
    this.live = undefined;
    void this.safeDispose(c);
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.live;
    this.live = undefined;
    if (c !== undefined) await this.safeDispose(c);
  }

  private async safeDispose(c: C): Promise<void> {
    try { await this.dispose(c); } catch { /* already broken; nothing to release */ }
  }
}
