// bench/netpol/wrk: run wrk (Debian package `wrk`) inside a pod's network namespace and read its figures.

import { execFileSync } from 'node:child_process';

/** wrk's figures: requests/s, p99 latency (ms), socket errors plus non-2xx responses. */
export interface WrkResult {
  rps: number;
  p99: number;
  errors: number;
}

/**
 * `ip netns exec <netns> wrk -t2 -c<conns> -d<secs>s --latency <url>`; `close` adds `Connection: close`, so
 * every request is a new connection whose SYN crosses the policy chains (keep-alive traffic is accepted by
 * the conntrack rule after the first packet).
 */
export function wrkFromNetns(netns: string, url: string, secs: number, conns: number, close = false): WrkResult {
  const args = ['netns', 'exec', netns, 'wrk', '-t2', `-c${conns}`, `-d${secs}s`, '--timeout', '2s', '--latency', ...(close ? ['-H', 'Connection: close'] : []), url];
  const out = execFileSync('ip', args, {
    encoding: 'utf8', timeout: (secs + 30) * 1000,
  });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const m = /99%\s+([\d.]+)(us|ms|s)\b/.exec(out);
  const p99 = m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2] as 'ms'] : NaN;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = non2xx + (sock ? sock.slice(1).reduce((s, x) => s + Number(x), 0) : 0);
  return { rps, p99, errors };
}
