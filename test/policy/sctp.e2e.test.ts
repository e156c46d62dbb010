// SCTP against the kernel's policy table (issue 6: "TCP, UDP and SCTP never conflated"). Root only.
//
// Method. This kernel has no SCTP sockets (socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP) fails with
// EPROTONOSUPPORT and no module can be loaded), but nftables (`meta l4proto sctp th dport …`) and
// conntrack parse SCTP packets all the same. So sctp.ts carries a python3 helper that builds an SCTP INIT
// by hand — common header (source port, destination port, verification tag 0, CRC32c over the packet,
// stored little-endian as RFC 4960 appendix B says), then one INIT chunk (non-zero initiate tag, one stream
// each way) — and sends it over socket(AF_INET, SOCK_RAW, 132). One helper runs in each pod's netns for
// the whole test, both sending and reading raw protocol-132 packets (source IP, ports, checksum ok, chunk
// type). A probe passes when its INIT, recognised by a source port unique to that probe (so no two probes
// share a conntrack entry), has reached the destination's socket 100 ms after the senders are done; the
// destination helpers then drain their socket queues, so a helper slow to be scheduled loses nothing.
// The helper's CRC32c is checked against published vectors, and the kernel's own conntrack judges the
// packets: a good INIT is `ct state new`, the same INIT with one checksum bit flipped `ct state invalid`
// — so the probe is a real SCTP packet, not noise that happens to carry protocol number 132. Then, on the
// harness's 4 pods (x/a, x/b, y/a, y/b), each scenario's model table goes in with one `nft -f -`; every
// pod sends SCTP INITs to every other pod on ports 79–82 and tries TCP 80 (the harness's prober, 600 ms
// timeout) in parallel; the observed deny lines must equal the model's `allowed(model, src, dst, proto,
// port)`, and each scenario also names the cells it is about.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { allowed, computePolicy, type PodInfo, type Protocol } from '../../node/policy/model/policy.js';
import { fullTable } from '../../node/policy/nftables/rules.js';
import { rootSkip, startNetns, type NetnsEnv, type Target } from './netns.js';
import { helperCrc, pythonSkip, startSctp, type Sctp, type SctpProbe } from './sctp.js';

const PODS = ['x-a', 'x-b', 'y-a', 'y-b'];
const SCTP_PORTS = [79, 80, 81, 82];
const np = (ns: string, spec: Record<string, any>, name = 'p') => ({ metadata: { namespace: ns, name }, spec });
const key = (p: string) => p.replace('-', '/');
const skip = rootSkip() || pythonSkip();

t.test('the helper computes CRC32c (Castagnoli)', { skip: pythonSkip() }, async (t) => {
  const vectors: [string, string][] = [
    ['', '00000000'],
    ['a', 'c1d04330'],
    ['123456789', 'e3069283'],
    ['The quick brown fox jumps over the lazy dog', '22620404'],
  ];
  for (const [text, want] of vectors) t.equal(helperCrc(text), want, `crc32c(${JSON.stringify(text)})`);
});

t.test('an SCTP INIT crosses the bridge, and conntrack takes it as SCTP', { skip }, async (t) => {
  const env = await startNetns(t, PODS);
  // a counting table of this test, before (priority -10) any policy; no policy table exists yet
  const table = `shoalt-sctp-${env.suffix}`;
  t.teardown(() => void spawnSync('nft', ['delete', 'table', 'inet', table]));
  const only = `ip daddr ${env.ips.get('x-b')} meta l4proto sctp`; // other tests' packets do not count
  env.nft(`table inet ${table} {\n\tchain watch {\n\t\ttype filter hook forward priority -10; policy accept;\n` +
    `\t\t${only} ct state new counter\n\t\t${only} ct state invalid counter\n\t}\n}\n`);
  const sctp = await startSctp(t, env);
  const [good, bad] = await sctp.probe([{ src: 'x-a', dst: 'x-b', port: 80 }, { src: 'y-a', dst: 'x-b', port: 81, bad: true }]);
  t.match(good, { src: env.ips.get('x-a'), dport: 80, crcOk: true, chunk: 1 }, 'x/a → x/b SCTP/80: an INIT arrives, checksum intact');
  t.match(bad, { src: env.ips.get('y-a'), dport: 81, crcOk: false }, 'the corrupted INIT arrives too (no policy), checksum wrong');
  const text = spawnSync('nft', ['list', 'table', 'inet', table], { encoding: 'utf8' }).stdout;
  const count = (state: string) => Number(new RegExp(`ct state ${state} counter packets (\\d+)`).exec(text)?.[1]);
  t.same([count('new'), count('invalid')], [1, 1], 'conntrack: the good INIT is new, the corrupted one invalid');
});

function pods(env: NetnsEnv): PodInfo[] {
  return PODS.map((p) => ({ namespace: p.split('-')[0]!, name: p.split('-')[1]!, labels: { pod: p.split('-')[1]! }, ip: env.ips.get(p)!, ports: [] }));
}

/** Applies the model's table; returns observed and expected deny lines `src > dst PROTO/port: deny` over every pair. */
async function truthTable(env: NetnsEnv, sctpProbes: Sctp, policies: any[]) {
  const model = computePolicy(pods(env), [{ name: 'x', labels: { ns: 'x' } }, { name: 'y', labels: { ns: 'y' } }], policies);
  env.nft(fullTable(env.suffix, model));
  const pairs = PODS.flatMap((src) => PODS.filter((d) => d !== src).map((dst) => [src, dst] as const));
  const probes: SctpProbe[] = pairs.flatMap(([src, dst]) => SCTP_PORTS.map((port) => ({ src, dst, port })));
  const [sctp, tcp] = await Promise.all([
    sctpProbes.probe(probes),
    Promise.all(PODS.map((src) => env.probe(src, PODS.filter((d) => d !== src).map((d) => [env.ips.get(d)!, 'tcp', 80] as Target), 600))),
  ]);
  const cells = [
    ...probes.map((p, i) => ({ src: p.src, dst: p.dst, proto: 'SCTP' as Protocol, port: p.port, ok: sctp[i] !== undefined })),
    ...PODS.flatMap((src, s) => PODS.filter((d) => d !== src).map((dst, j) => ({ src, dst, proto: 'TCP' as Protocol, port: 80, ok: tcp[s]![j]! }))),
  ];
  const line = (c: (typeof cells)[number]) => `${key(c.src)} > ${key(c.dst)} ${c.proto}/${c.port}: deny`;
  const observed = cells.filter((c) => !c.ok).map(line).sort();
  const expected = cells.filter((c) => !allowed(model, env.ips.get(c.src)!, env.ips.get(c.dst)!, c.proto, c.port)).map(line).sort();
  return { observed, expected };
}

/** Each scenario: policies, plus cells it is about (`src > dst PROTO/port`) that must be allowed / denied. */
const scenarios: { name: string; policies: any[]; allow: string[]; deny: string[] }[] = [
  { name: 'no policy: every SCTP port open', policies: [], allow: ['y/a > x/a SCTP/80', 'x/b > y/b SCTP/79'], deny: [] },
  {
    name: 'SCTP-only ingress on port 80 in x',
    policies: [np('x', { podSelector: {}, ingress: [{ ports: [{ protocol: 'SCTP', port: 80 }] }] })],
    allow: ['y/a > x/a SCTP/80', 'x/b > x/a SCTP/80'],
    deny: ['y/a > x/a SCTP/81', 'y/a > x/a SCTP/79', 'y/a > x/a TCP/80', 'x/b > x/a TCP/80'],
  },
  {
    name: 'TCP ingress on port 80 in x does not allow SCTP/80',
    policies: [np('x', { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] })],
    allow: ['y/a > x/a TCP/80'],
    deny: ['y/a > x/a SCTP/80', 'y/b > x/b SCTP/80', 'y/a > x/a SCTP/81'],
  },
  {
    name: 'SCTP endPort range 80-81 in y',
    policies: [np('y', { podSelector: {}, ingress: [{ ports: [{ protocol: 'SCTP', port: 80, endPort: 81 }] }] })],
    allow: ['x/a > y/a SCTP/80', 'x/a > y/a SCTP/81'],
    deny: ['x/a > y/a SCTP/79', 'x/a > y/a SCTP/82', 'x/a > y/a TCP/80'],
  },
  {
    name: 'egress of x/a: bare SCTP (any port) to y, nothing else',
    policies: [np('x', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }], ports: [{ protocol: 'SCTP' }] }] })],
    allow: ['x/a > y/a SCTP/79', 'x/a > y/b SCTP/82', 'x/b > y/a TCP/80'],
    deny: ['x/a > y/a TCP/80', 'x/a > x/b SCTP/80'],
  },
];

t.test('SCTP in the kernel table matches the model, never conflated with TCP', { skip }, async (t) => {
  const env = await startNetns(t, PODS);
  const sctp = await startSctp(t, env);
  for (const s of scenarios) {
    const start = performance.now();
    const { observed, expected } = await truthTable(env, sctp, s.policies);
    t.comment(`${s.name}: table applied and ${12 * (SCTP_PORTS.length + 1)} cells probed in ${Math.round(performance.now() - start)} ms`);
    t.same(observed, expected, `${s.name}: kernel = model (${expected.length} of ${12 * (SCTP_PORTS.length + 1)} cells denied)`);
    for (const c of s.allow) t.notOk(observed.includes(`${c}: deny`), `${s.name}: ${c} allowed`);
    for (const c of s.deny) t.ok(observed.includes(`${c}: deny`), `${s.name}: ${c} denied`);
  }
});
