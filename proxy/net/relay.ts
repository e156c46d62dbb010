// Copies bytes both ways between two duplex streams (sockets, TLS sockets, HTTP/2 streams) with
// half-close passed through (end → end), and tears both down when either fails or closes.
import type { Duplex } from 'node:stream';

/** Relays a ⇄ b; `done` runs once, after both are destroyed, with the first error if any. */
export function relay(a: Duplex, b: Duplex, done: (err?: Error) => void): void {
  let finished = false;
  const finish = (err?: Error): void => {
    if (finished) return;
    finished = true;
    a.destroy();
    b.destroy();
    done(err);
  };
  a.on('error', finish);
  b.on('error', finish);
  a.on('close', () => finish());
  b.on('close', () => finish());
  a.pipe(b);
  b.pipe(a);
}
