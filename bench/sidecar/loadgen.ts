// A small, bounded HTTP/1.1 load generator (the benchmark's client; not a general tool). Raw sockets,
// keep-alive, one request in flight per connection, latency from the *scheduled* send time at a fixed
// rate (wrk2's correction for coordinated omission). Prints one JSON line.
//   loadgen rate HOST PORT RPS SECONDS CONNS     fixed rate
//   loadgen max HOST PORT SECONDS CONNS          closed loop, as fast as it goes
//   loadgen connect HOST PORT RATE SECONDS       a new connection per request at a fixed rate
//   loadgen bulk HOST PORT MB                    one GET /bulk?mb=MB, throughput
import { connect, type Socket } from 'node:net';

// LOADGEN_HOST: the Host header (layer-7 routes match on it; default `bench`).
const HOST = process.env.LOADGEN_HOST || 'bench';
const REQ = Buffer.from(`GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
const now = (): number => performance.now();

/** One keep-alive connection that runs one request at a time. */
class Conn {
  private buf: Buffer = Buffer.alloc(0);
  private want = -1;
  private done: ((ok: boolean) => void) | null = null;
  busy = false;
  constructor(readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d) => this.onData(d));
    sock.on('error', () => this.finish(false));
    sock.on('close', () => this.finish(false));
  }
  static open(host: string, port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      s.once('connect', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }
  request(path?: string): Promise<boolean> {
    this.busy = true;
    return new Promise((resolve) => {
      this.done = resolve;
      this.sock.write(path ? `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\n\r\n` : REQ);
    });
  }
  /** Headers are buffered; the body is only counted (a bulk body is never copied). */
  private onData(d: Buffer): void {
    while (d.length) {
      if (this.want < 0) {
        this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const m = /content-length: *(\d+)/i.exec(this.buf.subarray(0, end).toString('latin1'));
        this.want = Number(m?.[1] ?? 0);
        d = this.buf.subarray(end + 4);
        this.buf = Buffer.alloc(0);
      }
      const take = Math.min(this.want, d.length);
      this.want -= take;
      d = d.subarray(take);
      if (this.want > 0) return;
      this.want = -1;
      this.finish(true);
    }
  }
  private finish(ok: boolean): void {
    const d = this.done;
    this.done = null;
    this.busy = false;
    d?.(ok);
  }
}

function pct(xs: number[]): { p50: number; p90: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => (s.length ? +s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(3) : NaN);
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) };
}

async function rate(host: string, port: number, rps: number, seconds: number, conns: number): Promise<object> {
  const pool = await Promise.all(Array.from({ length: conns }, () => Conn.open(host, port)));
  const lat: number[] = [];
  let errors = 0;
  const total = Math.round(rps * seconds);
  const interval = 1000 / rps;
  const start = now() + 10;
  let next = 0;
  const queue: number[] = [];
  let inflight = 0;
  await new Promise<void>((resolve) => {
    const dispatch = (): void => {
      for (const c of pool) {
        if (!queue.length) break;
        if (c.busy) continue;
        const scheduled = queue.shift()!;
        inflight++;
        c.request().then((ok) => {
          inflight--;
          if (ok) lat.push(now() - scheduled); else errors++;
          dispatch();
          if (next >= total && inflight === 0 && !queue.length) resolve();
        });
      }
    };
    const tick = (): void => {
      const t = now();
      while (next < total && start + next * interval <= t) queue.push(start + next++ * interval);
      dispatch();
      if (next < total) setTimeout(tick, Math.max(0, Math.min(1, start + next * interval - now())));
    };
    setTimeout(tick, 10);
  });
  pool.forEach((c) => c.sock.destroy());
  return { mode: 'rate', rps, seconds, conns, done: lat.length, errors, ...pct(lat) };
}

async function max(host: string, port: number, seconds: number, conns: number): Promise<object> {
  const pool = await Promise.all(Array.from({ length: conns }, () => Conn.open(host, port)));
  const lat: number[] = [];
  let errors = 0;
  const end = now() + seconds * 1000;
  const t0 = now();
  await Promise.all(pool.map(async (c) => {
    while (now() < end) {
      const s = now();
      if (await c.request()) lat.push(now() - s); else { errors++; break; }
    }
  }));
  const elapsed = (now() - t0) / 1000;
  pool.forEach((c) => c.sock.destroy());
  return { mode: 'max', conns, rps: Math.round(lat.length / elapsed), errors, ...pct(lat) };
}

async function connectRate(host: string, port: number, rps: number, seconds: number): Promise<object> {
  const lat: number[] = [];
  let errors = 0;
  const total = Math.round(rps * seconds);
  const start = now() + 10;
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const at = start + (i * 1000) / rps;
    await new Promise((r) => setTimeout(r, Math.max(0, at - now())));
    jobs.push((async () => {
      try {
        const c = await Conn.open(host, port);
        if (await c.request()) lat.push(now() - at); else errors++;
        c.sock.destroy();
      } catch { errors++; }
    })());
  }
  await Promise.all(jobs);
  return { mode: 'connect', rps, seconds, done: lat.length, errors, ...pct(lat) };
}

async function bulk(host: string, port: number, mb: number): Promise<object> {
  const c = await Conn.open(host, port);
  const t0 = now();
  const ok = await c.request(`/bulk?mb=${mb}`);
  const s = (now() - t0) / 1000;
  c.sock.destroy();
  return { mode: 'bulk', mb, ok, seconds: +s.toFixed(3), mbps: Math.round(mb / s) };
}

const [mode, host, port, ...rest] = process.argv.slice(2);
const n = rest.map(Number);
const out = mode === 'rate' ? await rate(host, Number(port), n[0], n[1], n[2])
  : mode === 'max' ? await max(host, Number(port), n[0], n[1])
    : mode === 'connect' ? await connectRate(host, Number(port), n[0], n[1])
      : mode === 'bulk' ? await bulk(host, Number(port), n[0])
        : null;
if (!out) { process.stderr.write('usage: loadgen rate|max|connect|bulk HOST PORT ...\n'); process.exit(64); }
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);
