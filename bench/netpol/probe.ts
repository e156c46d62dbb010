// bench/netpol/probe: the tight probe loop, run inside the client pod's network namespace
// (`ip netns exec <netns> node probe.js <ip> <port> <intervalMs> <timeoutMs>`). Every interval it opens a
// new TCP connection (new source port, so conntrack never carries an old verdict) and reports one line
// `<start ns, CLOCK_MONOTONIC> <1|0>` per probe: 1 = connected, 0 = refused or timed out. Probes overlap
// (a dropped SYN does not stall the loop), each is reset on completion (no TIME_WAIT build-up), and the
// loop stops when stdin closes, so the parent's exit always ends it.

import { connect } from 'node:net';

const [ip, portText, intervalText, timeoutText] = process.argv.slice(2);
const port = Number(portText);
const intervalMs = Number(intervalText ?? 2);
const timeoutMs = Number(timeoutText ?? 150);
if (!ip || !(port > 0) || !(intervalMs > 0) || !(timeoutMs > 0)) {
  process.stderr.write('usage: probe.js <ip> <port> [intervalMs=2] [timeoutMs=150]\n');
  process.exit(64);
}

const MAX_IN_FLIGHT = Math.ceil((timeoutMs / intervalMs) * 1.5);
let inFlight = 0;
let lines: string[] = [];

function probe(): void {
  if (inFlight >= MAX_IN_FLIGHT) return;
  inFlight++;
  const start = process.hrtime.bigint();
  const s = connect({ host: ip!, port, noDelay: true });
  let done = false;
  const finish = (ok: boolean) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    inFlight--;
    lines.push(`${start} ${ok ? 1 : 0}`);
    // connected: RST, so no TIME_WAIT piles up; still connecting: close the fd, so no SYN is retried
    if (ok) s.resetAndDestroy();
    else s.destroy();
  };
  const timer = setTimeout(() => finish(false), timeoutMs);
  s.once('connect', () => finish(true));
  s.once('error', () => finish(false));
}

const loop = setInterval(probe, intervalMs);
const flush = setInterval(() => {
  if (!lines.length) return;
  process.stdout.write(`${lines.join('\n')}\n`);
  lines = [];
}, 10);
process.stdin.on('end', () => {
  clearInterval(loop);
  clearInterval(flush);
  process.exit(0);
});
process.stdin.resume();
