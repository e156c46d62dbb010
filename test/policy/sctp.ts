// SCTP probes for the policy kernel tests (root only), without SCTP sockets: this kernel refuses
// socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP) (EPROTONOSUPPORT) but nftables and conntrack still parse
// SCTP packets. So a python3 helper writes a well-formed SCTP INIT by hand (common header: ports,
// verification tag 0, CRC32c checksum; one INIT chunk) and sends it over a raw IP socket (protocol 132).
// One helper runs per pod, in the pod's netns, for the whole test: it sends the INITs it is told to on
// stdin and prints every protocol-132 packet its raw socket receives (source IP, ports, whether the
// checksum verifies, first chunk type). A probe counts as allowed when its INIT, matched by a source port
// unique to that probe, reached the destination's helper. Helpers are killed by the PID we started, in
// t.teardown, and exit on their own when stdin closes or after 60 s.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Test } from 'tap';
import type { NetnsEnv } from './netns.js';

/**
 * The helper. `python3 -c HELPER crc <text>` prints crc32c(text) in hex (to check it against published
 * vectors). `python3 -c HELPER agent <seconds>` opens a raw protocol-132 socket, prints `["ready"]`, then
 * for each stdin line
 *   ["send", [[dstIp, dport, sport, bad], ...]]  sends one INIT per entry (bad=1 flips a checksum bit) → ["sent"]
 *   ["drain", n]                                  prints every packet already queued on the socket → ["drained", n]
 * and, as packets arrive, ["pkt", srcIp, sport, dport, crcOk, chunkType]. Output order is arrival order, so
 * every packet queued before a drain is printed before its ["drained", n].
 */
export const HELPER = String.raw`
import json, os, select, socket, struct, sys, time
TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    TABLE.append(c)
def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
def checksum(pkt):
    # RFC 4960 appendix B: computed with the checksum field zeroed, stored least significant byte first
    return struct.pack('<I', crc32c(pkt[:8] + bytes(4) + pkt[12:]))
def init(sport, dport, tag):
    # INIT chunk: type 1, flags 0, length 20, initiate tag, a_rwnd, outbound streams, inbound streams, initial TSN
    chunk = struct.pack('!BBHIIHHI', 1, 0, 20, tag, 65536, 1, 1, tag)
    pkt = struct.pack('!HHI', sport, dport, 0) + bytes(4) + chunk
    return pkt[:8] + checksum(pkt) + pkt[12:]
def out(*v):
    sys.stdout.write(json.dumps(v) + '\n')
    sys.stdout.flush()
def receive(s):
    d, _ = s.recvfrom(65535)
    p = d[(d[0] & 15) * 4:]
    if len(p) >= 13:
        out('pkt', socket.inet_ntoa(d[12:16]), *struct.unpack('!HH', p[:4]), p[8:12] == checksum(p), p[12])
if sys.argv[1] == 'crc':
    print('%08x' % crc32c(sys.argv[2].encode()))
    sys.exit(0)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 132)
s.setblocking(False)
out('ready')
end = time.time() + float(sys.argv[2])
buf = b''
while time.time() < end:
    r, _, _ = select.select([s, 0], [], [], 0.5)
    if s in r:
        receive(s)
    if 0 not in r:
        continue
    data = os.read(0, 65536)
    if not data:
        break
    buf += data
    while b'\n' in buf:
        line, buf = buf.split(b'\n', 1)
        cmd = json.loads(line)
        if cmd[0] == 'send':
            for dst, dport, sport, bad in cmd[1]:
                pkt = bytearray(init(sport, dport, 0x5c7b0000 | sport))
                pkt[8] ^= bad
                s.sendto(bytes(pkt), (dst, 0))
            out('sent')
        elif cmd[0] == 'drain':
            try:
                while True:
                    receive(s)
            except BlockingIOError:
                out('drained', cmd[1])
`;

/** The interpreter: Debian's python3 when present (CI), else the first `python3` on PATH. */
export const python = () => (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

/** Why the SCTP tests cannot run (no python3), or false. */
export function pythonSkip(): string | false {
  return spawnSync(python(), ['-c', 'import socket']).status === 0 ? false : 'needs python3 (Debian package python3-minimal)';
}

/** Runs the helper's `crc` mode on the host: crc32c of `text` as 8 hex digits. */
export function helperCrc(text: string): string {
  const r = spawnSync(python(), ['-c', HELPER, 'crc', text], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sctp helper crc: ${r.stderr}`);
  return r.stdout.trim();
}

/** One SCTP probe: an INIT from pod `src` to pod `dst` on `port`; `bad` sends it with a wrong checksum. */
export interface SctpProbe { src: string; dst: string; port: number; bad?: boolean }

/** What the destination's helper saw for one probe. */
export interface SctpSeen { src: string; sport: number; dport: number; crcOk: boolean; chunk: number }

/** The helpers of one harness. */
export interface Sctp {
  /** sends every probe, then returns per probe what its destination saw (undefined: nothing arrived) */
  probe(probes: SctpProbe[], windowMs?: number): Promise<(SctpSeen | undefined)[]>;
}

// unique source ports in this process, so no two probes share a conntrack tuple
let nextSport = 20000 + Math.floor(Math.random() * 20000);

/** Starts one helper per pod of `env`; they are killed by PID in t.teardown. */
export async function startSctp(t: Test, env: NetnsEnv): Promise<Sctp> {
  const agents = new Map(await Promise.all([...env.netns.keys()].map(async (pod) => [pod, await startAgent(t, env, pod)] as const)));
  const agent = (pod: string) => agents.get(pod) ?? (() => { throw new Error(`sctp: no pod ${pod}`); })();
  let drains = 0;
  return {
    // `windowMs` after every sender is done, each destination drains what its kernel queued: a helper that
    // is slow to be scheduled under load loses nothing, only the kernel's own delivery must fit the window
    async probe(probes, windowMs = 100) {
      const sports = probes.map(() => (nextSport = nextSport >= 60000 ? 20000 : nextSport + 1));
      const dsts = [...new Set(probes.map((p) => p.dst))];
      const mark = new Map(dsts.map((d) => [d, agent(d).seen.length]));
      await Promise.all([...new Set(probes.map((p) => p.src))].map((src) => {
        const batch = probes.flatMap((p, i) => (p.src === src ? [[env.ips.get(p.dst)!, p.port, sports[i]!, p.bad ? 1 : 0]] : []));
        return agent(src).ask(['send', batch], (m) => m[0] === 'sent');
      }));
      await new Promise((r) => setTimeout(r, windowMs));
      const n = ++drains;
      await Promise.all(dsts.map((d) => agent(d).ask(['drain', n], (m) => m[0] === 'drained' && m[1] === n)));
      return probes.map((p, i) => agent(p.dst).seen.slice(mark.get(p.dst)).find((s) => s.sport === sports[i]));
    },
  };
}

interface Agent {
  seen: SctpSeen[];
  /** writes one command and waits (at most 5 s) for the answer `done` recognises */
  ask(cmd: unknown[], done: (msg: any[]) => boolean): Promise<void>;
}

function startAgent(t: Test, env: NetnsEnv, pod: string): Promise<Agent> {
  const p: ChildProcess = spawn('ip', ['netns', 'exec', env.netns.get(pod)!, python(), '-c', HELPER, 'agent', '60'], { stdio: ['pipe', 'pipe', 'pipe'] });
  // `ip netns exec` execs python in place, so p.pid is the helper's own PID
  t.teardown(() => void (p.exitCode === null && p.signalCode === null && p.kill('SIGKILL')));
  p.stdin!.on('error', () => {}); // EPIPE when it died; the exit handler reports that
  const seen: SctpSeen[] = [];
  const waiters: { done: (m: any[]) => boolean; resolve: () => void }[] = [];
  let err = '';
  let buf = '';
  let died: Error | undefined;
  return new Promise((resolve, reject) => {
    const agent: Agent = {
      seen,
      ask(cmd, done) {
        if (died) return Promise.reject(died);
        return new Promise((res, rej) => {
          const timer = setTimeout(() => rej(new Error(`sctp helper in ${pod}: no answer to ${cmd[0]} in 5 s`)), 5000);
          waiters.push({ done, resolve: () => (clearTimeout(timer), res()) });
          p.stdin!.write(`${JSON.stringify(cmd)}\n`);
        });
      },
    };
    p.stderr!.on('data', (d) => (err += d));
    p.stdout!.on('data', (d) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as any[];
        buf = buf.slice(nl + 1);
        if (msg[0] === 'ready') resolve(agent);
        else if (msg[0] === 'pkt') seen.push({ src: msg[1], sport: msg[2], dport: msg[3], crcOk: msg[4], chunk: msg[5] });
        const w = waiters.findIndex((x) => x.done(msg));
        if (w >= 0) waiters.splice(w, 1)[0]!.resolve();
      }
    });
    p.once('exit', (c) => {
      died = new Error(`sctp helper in ${pod} exited ${c}: ${err.trim()}`);
      reject(died);
    });
  });
}
