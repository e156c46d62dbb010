// Keep-alive upstream connections per endpoint (address:port): an exchange acquires an idle socket or a
// new one, and releases it when the response ended cleanly and both sides allow reuse. Idle sockets carry
// an error/close listener only (a socket the upstream closes while idle leaves the pool) and time out
// after `idleMs` (Istio's connectionPool.http.idleTimeout default is 1 h; we default lower, 60 s, as the
// HBONE pool). The dialer is a seam: tests and the sidecar pass their own (plain TCP, the mesh tunnel).
import { connect } from 'node:net';
import type { Conn } from './connection.js';

/** Opens a connection to an endpoint; calls back once connected or failed. */
export type Dialer = (address: string, port: number, cb: (err: Error | null, sock?: Conn) => void) => void;

/** Plain TCP with TCP_NODELAY. */
export const tcpDialer: Dialer = (address, port, cb) => {
  const s = connect({ host: address, port, noDelay: true });
  const onErr = (e: Error) => cb(e);
  s.once('error', onErr);
  s.once('connect', () => { s.off('error', onErr); cb(null, s); });
};

export interface PoolOptions {
  idleMs?: number;
  /** Idle sockets kept per endpoint. */
  maxIdle?: number;
  dial?: Dialer;
}

/** A socket from the pool; `reused` says whether it carried an earlier exchange, `uses` how many it carries with this one. */
export interface Lease { sock: Conn; key: string; reused: boolean; uses: number }

export class UpstreamPool {
  private readonly idle = new Map<string, Conn[]>();
  private readonly idleMs: number;
  private readonly maxIdle: number;
  private readonly dial: Dialer;
  private readonly drops = new WeakMap<Conn, () => void>();
  private readonly uses = new WeakMap<Conn, number>();

  constructor(o: PoolOptions = {}) {
    this.idleMs = o.idleMs ?? 60_000;
    this.maxIdle = o.maxIdle ?? 256;
    this.dial = o.dial ?? tcpDialer;
  }

  /** An idle connection to address:port, or a new one. */
  acquire(address: string, port: number, cb: (err: Error | null, lease?: Lease) => void, fresh = false): void {
    const key = `${address}:${port}`;
    const list = fresh ? undefined : this.idle.get(key);
    while (list && list.length > 0) {
      const sock = list.pop()!;
      if (sock.destroyed || !sock.writable) continue;
      const drop = this.drops.get(sock);
      if (drop) sock.off('error', drop).off('close', drop).off('end', drop).off('data', drop).off('timeout', drop);
      this.drops.delete(sock);
      sock.setTimeout?.(0);
      const uses = (this.uses.get(sock) ?? 0) + 1;
      this.uses.set(sock, uses);
      return cb(null, { sock, key, reused: true, uses });
    }
    this.dial(address, port, (err, sock) => {
      if (err) return cb(err);
      this.uses.set(sock!, 1);
      cb(null, { sock: sock!, key, reused: false, uses: 1 });
    });
  }

  /** Returns a connection whose last exchange ended cleanly. */
  release(lease: Lease): void {
    const { sock, key } = lease;
    let list = this.idle.get(key);
    if (!list) this.idle.set(key, (list = []));
    if (list.length >= this.maxIdle || sock.destroyed) return void sock.destroy();
    const drop = () => {
      const i = list!.indexOf(sock);
      if (i !== -1) list!.splice(i, 1);
      sock.destroy();
    };
    sock.once('error', drop).once('close', drop).once('end', drop);
    // Bytes from an idle upstream are a protocol error: the connection cannot be reused.
    sock.once('data', drop);
    sock.setTimeout?.(this.idleMs);
    sock.once('timeout', drop);
    this.drops.set(sock, drop);
    if (sock.isPaused()) sock.resume();
    list.push(sock);
  }

  /** Idle connections per endpoint (admin, tests). */
  idleCount(address: string, port: number): number {
    return this.idle.get(`${address}:${port}`)?.length ?? 0;
  }

  /** Closes every idle connection. */
  close(): void {
    for (const list of this.idle.values()) for (const s of list.splice(0)) s.destroy();
  }
}
