// proxy/balance: the DestinationRule policy precedence, and each balancer — ROUND_ROBIN order, LEAST_REQUEST
// preferring an idle endpoint, RANDOM (seeded), consistent hash by cookie (stable per cookie, generated with
// Set-Cookie when absent and a ttl is set), header, source IP and query parameter, on a ring and on maglev,
// with little movement when an endpoint leaves.
import t from 'tap';
import { Balancer, cookieValue, type PickInput } from '../../proxy/balance/balancer.js';
import { compileLb, effectiveLb, type LbPolicy } from '../../proxy/balance/policy.js';

const eps = ['10.244.0.2', '10.244.0.3', '10.244.0.4', '10.244.0.5'].map((address) => ({ address, port: 9080 }));
const input = (o: Partial<PickInput> = {}): PickInput => ({ headers: [], path: '/', sourceIp: '10.244.1.1', ...o });
/** A seeded PRNG (mulberry32) so RANDOM and P2C are reproducible. */
function seeded(seed: number): () => number {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('policy: compile and precedence (subset port-level > subset > host port-level > host > LEAST_REQUEST)', async (t) => {
  const errors: string[] = [];
  const tp = { loadBalancer: { simple: 'ROUND_ROBIN' }, portLevelSettings: [{ port: { number: 9080 }, loadBalancer: { simple: 'RANDOM' } }] };
  const sub = { index: 0, trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true } }, portLevelSettings: [{ port: { number: 9443 }, loadBalancer: { simple: 'LEAST_CONN' } }] } };
  t.match(effectiveLb(undefined, undefined, 9080, 'spec', errors), { kind: 'LEAST_REQUEST' });
  t.match(effectiveLb(tp, undefined, 80, 'spec', errors), { kind: 'ROUND_ROBIN' });
  t.match(effectiveLb(tp, undefined, 9080, 'spec', errors), { kind: 'RANDOM' });
  t.match(effectiveLb(tp, sub, 9080, 'spec', errors), { kind: 'CONSISTENT_HASH', source: { by: 'sourceIp' } });
  t.match(effectiveLb(tp, sub, 9443, 'spec', errors), { kind: 'LEAST_REQUEST' }, 'LEAST_CONN is the deprecated name');
  t.same(errors, []);
  const rows: [any, RegExp][] = [
    [{ consistentHash: {} }, /spec\.consistentHash: exactly one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName/],
    [{ consistentHash: { httpHeaderName: 'x', useSourceIp: true } }, /exactly one/],
    [{ consistentHash: { httpCookie: { name: 'c', ttl: '10 s' } } }, /spec\.consistentHash\.httpCookie\.ttl: invalid duration/],
    [{ consistentHash: { httpHeaderName: 'x', maglev: { tableSize: 1000 } } }, /spec\.consistentHash\.maglev\.tableSize: must be a prime/],
    [{ simple: 'FASTEST' }, /spec\.simple: unsupported load balancer "FASTEST"/],
  ];
  for (const [lb, want] of rows) {
    const errs: string[] = [];
    compileLb(lb, 'spec', errs);
    t.match(errs.join('\n'), want, JSON.stringify(lb));
  }
});

t.test('ROUND_ROBIN cycles; RANDOM is uniform-ish with a seed', async (t) => {
  const rr = new Balancer({ kind: 'ROUND_ROBIN' });
  t.same([0, 1, 2, 3, 4].map(() => rr.pick(eps, input())!.endpoint.address), ['10.244.0.2', '10.244.0.3', '10.244.0.4', '10.244.0.5', '10.244.0.2']);
  const rnd = new Balancer({ kind: 'RANDOM' }, { random: seeded(7) });
  const c = new Map<string, number>();
  for (let i = 0; i < 4000; i++) { const a = rnd.pick(eps, input())!.endpoint.address; c.set(a, (c.get(a) ?? 0) + 1); }
  for (const [a, n] of c) t.ok(n > 850 && n < 1150, `${a}: ${n} of 4000`);
  t.equal(rr.pick([], input()), null, 'no endpoints: null');
});

t.test('LEAST_REQUEST (power of two choices) prefers an idle endpoint over one with slow requests', async (t) => {
  const lr = new Balancer({ kind: 'LEAST_REQUEST' }, { random: seeded(1) });
  const two = eps.slice(0, 2);
  // Five slow requests stay active on the first endpoint.
  for (let i = 0; i < 5; i++) {
    const p = lr.pick([two[0]], input())!;
    t.equal(p.endpoint, two[0]);
  }
  t.equal(lr.activeRequests(two[0]), 5);
  let idle = 0;
  for (let i = 0; i < 100; i++) {
    const p = lr.pick(two, input())!;
    if (p.endpoint === two[1]) idle++;
    lr.release(p.endpoint);
  }
  t.equal(idle, 100, 'with two endpoints both are compared every time: the idle one always wins');
  // With four endpoints, two busy: a busy one wins only if both choices are busy (1/6 of pairs).
  const four = new Balancer({ kind: 'LEAST_REQUEST' }, { random: seeded(2) });
  for (let i = 0; i < 3; i++) { four.pick([eps[0]], input()); four.pick([eps[1]], input()); }
  let busy = 0;
  for (let i = 0; i < 1200; i++) {
    const p = four.pick(eps, input())!;
    if (p.endpoint === eps[0] || p.endpoint === eps[1]) busy++;
    four.release(p.endpoint);
  }
  t.ok(busy < 1200 * 0.25, `busy endpoints chosen ${busy}/1200 (expected about 1/6)`);
});

const hashPolicies: [string, LbPolicy][] = [
  ['ring', { kind: 'CONSISTENT_HASH', source: { by: 'cookie', name: 'user', path: '/', ttlSeconds: 60 }, table: 'ring', size: 1024 }],
  ['maglev', { kind: 'CONSISTENT_HASH', source: { by: 'cookie', name: 'user', path: '/', ttlSeconds: 60 }, table: 'maglev', size: 65537 }],
];

for (const [name, policy] of hashPolicies)
  t.test(`consistentHash by cookie (${name}): stable per cookie, spread across cookies, generated when absent`, async (t) => {
    let n = 0;
    const b = new Balancer(policy, { newCookie: () => `gen${n++}` });
    for (let u = 0; u < 50; u++) {
      const headers = ['cookie', `a=b; user=u${u}`];
      const first = b.pick(eps, input({ headers }))!;
      for (let i = 0; i < 20; i++) t.equal(b.pick(eps, input({ headers }))!.endpoint, first.endpoint, `user u${u} stays`);
      t.equal(first.setCookie, undefined, 'no Set-Cookie when the cookie is there');
    }
    const spread = new Set<string>();
    for (let u = 0; u < 200; u++) spread.add(b.pick(eps, input({ headers: ['cookie', `user=x${u}`] }))!.endpoint.address);
    t.equal(spread.size, 4, 'cookies spread over every endpoint');
    const gen = b.pick(eps, input())!;
    t.equal(gen.setCookie, 'user=gen0; Max-Age=60; Path=/; HttpOnly');
    t.equal(b.pick(eps, input({ headers: ['cookie', 'user=gen0'] }))!.endpoint, gen.endpoint, 'the generated cookie leads back to the same endpoint');
    // An endpoint leaving moves only the keys it owned (mostly).
    const before = new Map<string, string>();
    for (let u = 0; u < 400; u++) before.set(`k${u}`, b.pick(eps, input({ headers: ['cookie', `user=k${u}`] }))!.endpoint.address);
    const rest = eps.filter((e) => e.address !== '10.244.0.5');
    let moved = 0;
    for (let u = 0; u < 400; u++) {
      const a = b.pick(rest, input({ headers: ['cookie', `user=k${u}`] }))!.endpoint.address;
      if (before.get(`k${u}`) !== '10.244.0.5' && a !== before.get(`k${u}`)) moved++;
    }
    t.ok(moved < 400 * 0.1, `${moved} of the keys not on the removed endpoint moved`);
  });

t.test('consistentHash by header, source IP, query parameter; no key → random; no ttl → no cookie', async (t) => {
  const by = (source: any) => new Balancer({ kind: 'CONSISTENT_HASH', source, table: 'ring', size: 1024 }, { random: seeded(3) });
  const h = by({ by: 'header', name: 'x-user' });
  const a = h.pick(eps, input({ headers: ['x-user', 'alice'] }))!.endpoint;
  for (let i = 0; i < 10; i++) t.equal(h.pick(eps, input({ headers: ['x-user', 'alice'] }))!.endpoint, a);
  const ip = by({ by: 'sourceIp' });
  const e = ip.pick(eps, input({ sourceIp: '10.244.3.3' }))!.endpoint;
  for (let i = 0; i < 10; i++) t.equal(ip.pick(eps, input({ sourceIp: '10.244.3.3' }))!.endpoint, e);
  const q = by({ by: 'query', name: 'id' });
  const qe = q.pick(eps, input({ path: '/x?id=42&z=1' }))!.endpoint;
  for (let i = 0; i < 10; i++) t.equal(q.pick(eps, input({ path: `/y?z=${i}&id=42` }))!.endpoint, qe);
  const c = by({ by: 'cookie', name: 'user', path: '', ttlSeconds: 0 });
  t.equal(c.pick(eps, input())!.setCookie, undefined);
  t.equal(cookieValue(['cookie', 'a=1; user = v2 ', 'cookie', 'b=2'], 'user'), 'v2');
  t.equal(cookieValue(['cookie', 'b=2'], 'user'), undefined);
});
