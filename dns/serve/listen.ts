// The sockets: UDP and TCP on the same address and port. TCP frames are length-prefixed (RFC 1035 §4.2.2);
// a connection may carry several queries (RFC 7766) and is closed after an idle timeout or a bad frame.

import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { isIP } from 'node:net';
import type { Handler } from './handler.js';

/** The bound sockets. */
export interface Listeners {
  port: number;
  close(): Promise<void>;
}

/** Bind UDP and TCP on host:port (port 0: a free port, the same one for both). */
export async function listen(handler: Handler, host: string, port: number, o: { tcpIdleMs?: number } = {}): Promise<Listeners> {
  const udp: Socket = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', recvBufferSize: 4 << 20 });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, host, () => {
      udp.off('error', reject);
      resolve();
    });
  });
  const bound = udp.address().port;
  udp.on('error', () => undefined); // ICMP errors for vanished clients must not end the server
  udp.on('message', (msg, rinfo) => {
    const r = handler.handle(msg, false);
    if (r === null) return;
    if (r instanceof Promise) r.then((b) => b && udp.send(b, rinfo.port, rinfo.address)).catch(() => undefined);
    else udp.send(r, rinfo.port, rinfo.address);
  });
  const conns = new Set<import('node:net').Socket>();
  const tcp: Server = createServer((c) => {
    conns.add(c);
    c.setTimeout(o.tcpIdleMs ?? 10_000, () => c.destroy());
    c.on('close', () => conns.delete(c));
    c.on('error', () => undefined);
    let pending = Buffer.alloc(0);
    c.on('data', (d) => {
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        const send = (b: Buffer | null) => {
          if (!b || c.destroyed) return;
          const hdr = Buffer.alloc(2);
          hdr.writeUInt16BE(b.length);
          c.write(Buffer.concat([hdr, b]));
        };
        const r = handler.handle(Buffer.from(msg), true);
        if (r instanceof Promise) r.then(send).catch(() => undefined);
        else send(r);
      }
      if (pending.length > 65537) c.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(bound, host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  return {
    port: bound,
    async close() {
      for (const c of conns) c.destroy();
      await new Promise<void>((r) => tcp.close(() => r()));
      await new Promise<void>((r) => udp.close(() => r()));
    },
  };
}
