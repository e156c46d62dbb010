// Names outside the zone go to the upstream resolvers from the config, in order (the next one on timeout
// or error; TCP when an upstream truncates). Answers are cached for their TTL — the smallest in the answer,
// or for negative answers the SOA's min(TTL, MINIMUM) (RFC 2308) — and served with TTLs counted down.
// When every upstream fails the client gets SERVFAIL, which is never cached. The socket is a seam
// (`Transport`) so the cache rules are tested without a network.

import { createSocket, type Socket } from 'node:dgram';
import { connect } from 'node:net';
import { randomInt } from 'node:crypto';
import DNS, { Packet } from 'dns2';
import { optRecord } from '../answer/encode.js';

/** One upstream resolver. */
export interface Upstream {
  host: string;
  port: number;
}

/** Send one query to one upstream; resolves with the raw answer. */
export interface Transport {
  udp(u: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer>;
  tcp(u: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer>;
  close(): void;
}

/** Forwarder settings. */
export interface ForwardConfig {
  upstreams: Upstream[];
  timeoutMs: number;
  /** longest time any answer is kept (s) */
  maxTtl: number;
  maxEntries: number;
}

interface Cached {
  packet: Packet;
  storedAt: number;
  expires: number;
}

/** Counters the metrics module reads. */
export interface ForwardStats {
  hits: number;
  misses: number;
  requests: Map<string, number>;
  failures: number;
}

/** The forwarding plugin with its cache. */
export class Forwarder {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<Packet | undefined>>();
  readonly stats: ForwardStats = { hits: 0, misses: 0, requests: new Map(), failures: 0 };

  constructor(private readonly cfg: ForwardConfig, private readonly transport: Transport = udpTransport(), private readonly now: () => number = Date.now) {}

  /** Answer a question from the cache or the upstreams; a SERVFAIL packet when all upstreams fail. */
  async forward(name: string, qtype: number, qclass: number): Promise<{ packet: Packet; rcode: number; cached: boolean }> {
    const key = `${name}|${qtype}|${qclass}`;
    const hit = this.cache.get(key);
    const now = this.now();
    if (hit && hit.expires > now) {
      this.stats.hits++;
      return { packet: aged(hit.packet, Math.floor((now - hit.storedAt) / 1000)), rcode: hit.packet.header.rcode, cached: true };
    }
    if (hit) this.cache.delete(key);
    this.stats.misses++;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.ask(name, qtype, qclass).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    const got = await p;
    if (!got) {
      this.stats.failures++;
      const fail = new Packet();
      fail.header.rcode = 2;
      return { packet: fail, rcode: 2, cached: false };
    }
    const ttl = cacheTtl(got, this.cfg.maxTtl);
    if (ttl > 0) {
      if (this.cache.size >= this.cfg.maxEntries) this.cache.clear();
      this.cache.set(key, { packet: got, storedAt: this.now(), expires: this.now() + ttl * 1000 });
    }
    return { packet: got, rcode: got.header.rcode, cached: false };
  }

  /** Drop cached answers for names the zone now answers itself (a PTR that appeared). */
  invalidate(names: Iterable<string>): void {
    for (const n of names) for (const k of this.cache.keys()) if (k.startsWith(n + '|')) this.cache.delete(k);
  }

  /** Close the upstream sockets. */
  close(): void {
    this.transport.close();
  }

  private async ask(name: string, qtype: number, qclass: number): Promise<Packet | undefined> {
    for (const u of this.cfg.upstreams) {
      const to = `${u.host}:${u.port}`;
      this.stats.requests.set(to, (this.stats.requests.get(to) ?? 0) + 1);
      const q = new Packet();
      q.header.id = randomInt(65536);
      q.header.rd = 1;
      q.questions.push({ name, type: qtype, class: qclass } as DNS.Packet.Question);
      q.additionals.push(optRecord() as DNS.Packet.Resource);
      const wire = q.toBuffer();
      try {
        let raw = await this.transport.udp(u, wire, this.cfg.timeoutMs);
        let res = Packet.parse(raw);
        if (res.header.tc) {
          raw = await this.transport.tcp(u, wire, this.cfg.timeoutMs);
          res = Packet.parse(raw);
        }
        if (res.header.id !== q.header.id || res.questions[0]?.name.toLowerCase() !== name) continue; // not our answer
        if (res.header.rcode === 2 || res.header.rcode === 5) continue; // SERVFAIL/REFUSED: try the next one
        return res;
      } catch {
        continue;
      }
    }
    return undefined;
  }
}

/** How long an answer may be cached (s): min answer TTL; for NXDOMAIN/NODATA the SOA's negative TTL; 0 = never. */
export function cacheTtl(p: Packet, maxTtl: number): number {
  const rcode = p.header.rcode;
  const answers = p.answers.filter((r) => r.type !== 41);
  if (rcode === 0 && answers.length) return Math.min(maxTtl, ...answers.map((r) => r.ttl));
  if (rcode === 0 || rcode === 3) {
    const soa = p.authorities.find((r) => r.type === 6);
    return soa ? Math.min(maxTtl, soa.ttl, soa.minimum ?? soa.ttl) : 0;
  }
  return 0;
}

function aged(p: Packet, elapsed: number): Packet {
  const out = new Packet();
  out.header = { ...p.header } as DNS.Packet.Header;
  const age = (rs: DNS.Packet.Resource[]) => rs.map((r) => (r.type === 41 ? r : { ...r, ttl: Math.max(0, r.ttl - elapsed) }));
  out.questions = p.questions;
  out.answers = age(p.answers);
  out.authorities = age(p.authorities);
  out.additionals = age(p.additionals);
  return out;
}

/** The real transport: one UDP socket per upstream query, TCP with the 2-byte length prefix. */
export function udpTransport(): Transport {
  const open = new Set<Socket>();
  return {
    udp(u, query, timeoutMs) {
      return new Promise((resolve, reject) => {
        const s = createSocket(u.host.includes(':') ? 'udp6' : 'udp4');
        open.add(s);
        const done = (err: Error | null, b?: Buffer) => {
          clearTimeout(timer);
          open.delete(s);
          s.close();
          if (err) reject(err);
          else resolve(b!);
        };
        const timer = setTimeout(() => done(new Error(`upstream ${u.host}:${u.port}: timeout after ${timeoutMs} ms`)), timeoutMs);
        s.on('error', (e) => done(e));
        s.on('message', (m, r) => {
          if (r.port === u.port) done(null, m);
        });
        s.send(query, u.port, u.host);
      });
    },
    tcp(u, query, timeoutMs) {
      return new Promise((resolve, reject) => {
        const c = connect({ host: u.host, port: u.port });
        const chunks: Buffer[] = [];
        const timer = setTimeout(() => c.destroy(new Error(`upstream ${u.host}:${u.port}: TCP timeout`)), timeoutMs);
        const len = Buffer.alloc(2);
        len.writeUInt16BE(query.length);
        c.on('connect', () => c.end(Buffer.concat([len, query])));
        c.on('data', (d) => chunks.push(d));
        c.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        c.on('close', () => {
          clearTimeout(timer);
          const all = Buffer.concat(chunks);
          if (all.length >= 2 && all.length >= 2 + all.readUInt16BE(0)) resolve(all.subarray(2, 2 + all.readUInt16BE(0)));
          else reject(new Error(`upstream ${u.host}:${u.port}: short TCP answer`));
        });
      });
    },
    close() {
      for (const s of open) s.close();
      open.clear();
    },
  };
}
