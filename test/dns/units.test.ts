// Pure modules by table: the wire parser, record rules, the index's change sets, the forwarder's cache
// rules (fake transport and clock), flags. Plus a bounded fuzz of the handler with random and mutated packets.

import t from 'tap';
import DNS, { Packet } from 'dns2';
import { parseQuery, RCODE } from '../../dns/serve/wire.js';
import { reverseName, serviceRecords } from '../../dns/zone/records.js';
import { ZoneIndex } from '../../dns/zone/index.js';
import { Forwarder, cacheTtl, type Transport } from '../../dns/forward/forward.js';
import { parseFlags, FlagError } from '../../dns/config.js';
import { Resolver } from '../../dns/answer/resolve.js';
import { AnswerCache } from '../../dns/serve/cache.js';
import { Handler } from '../../dns/serve/handler.js';
import { Stats } from '../../dns/health/metrics.js';

function query(name: string, type = 1, o: { edns?: number } = {}): Buffer {
  const p = new Packet();
  p.header.id = 0x1234;
  p.header.rd = 1;
  p.questions.push({ name, type, class: 1 } as DNS.Packet.Question);
  if (o.edns) p.additionals.push({ name: '', type: 41, class: o.edns, ttl: 0, rdata: [] } as unknown as DNS.Packet.Resource);
  return p.toBuffer();
}

t.test('parseQuery', async (t) => {
  const good = query('Web.Default.svc.cluster.local', 1, { edns: 1232 });
  const rows: { name: string; input: Buffer; want: 'ok' | 'drop' | number; qname?: string; edns?: number }[] = [
    { name: 'plain query, lowercased', input: good, want: 'ok', qname: 'web.default.svc.cluster.local', edns: 1232 },
    { name: 'short header', input: Buffer.alloc(5), want: 'drop' },
    { name: 'a response', input: Buffer.from([0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0]), want: 'drop' },
    { name: 'no question', input: Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), want: RCODE.FORMERR },
    { name: 'huge counts', input: Buffer.from([0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), want: RCODE.FORMERR },
    { name: 'truncated name', input: Buffer.concat([good.subarray(0, 12), Buffer.from([10, 97, 98])]), want: RCODE.FORMERR },
    { name: 'label length 64+', input: Buffer.concat([good.subarray(0, 12), Buffer.from([0x41, 97, 0, 0, 1, 0, 1])]), want: RCODE.FORMERR },
    { name: 'compression pointer in question', input: Buffer.concat([good.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]), want: RCODE.FORMERR },
    { name: 'missing qtype', input: Buffer.concat([good.subarray(0, 12), Buffer.from([1, 97, 0, 0])]), want: RCODE.FORMERR },
    { name: 'opcode NOTIFY', input: Buffer.from([0, 1, 0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]), want: RCODE.NOTIMP },
    { name: 'OPT cut short', input: good.subarray(0, good.length - 3), want: RCODE.FORMERR },
  ];
  for (const r of rows) {
    const p = parseQuery(r.input);
    if (r.want === 'ok') {
      t.ok(p.ok, r.name);
      if (p.ok) {
        t.equal(p.q.qname, r.qname, `${r.name}: qname`);
        t.equal(p.q.ednsSize, r.edns ?? 0, `${r.name}: edns`);
      }
    } else if (r.want === 'drop') t.ok(!p.ok && p.drop, r.name);
    else t.ok(!p.ok && !p.drop && p.rcode === r.want, `${r.name}: rcode ${r.want}`);
  }
});

t.test('records and reverse names', async (t) => {
  t.equal(reverseName('10.96.0.10'), '10.0.96.10.in-addr.arpa');
  t.equal(reverseName('fd00::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa');
  const v6 = serviceRecords('cluster.local', { metadata: { name: 'S', namespace: 'n' }, spec: { clusterIPs: ['fd00::a'], ports: [{ name: 'DNS', port: 53, protocol: 'UDP' }] } }, []);
  t.same(v6.map((r) => `${r.name} ${r.type}`), ['s.n.svc.cluster.local AAAA', `${reverseName('fd00::a')} PTR`, '_dns._udp.s.n.svc.cluster.local SRV']);
  const notReady = serviceRecords('z', { metadata: { name: 'h', namespace: 'n' }, spec: { clusterIP: 'None', publishNotReadyAddresses: true } }, [{ metadata: {}, endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: false } }] }]);
  t.ok(notReady.some((r) => r.type === 'A' && r.name === 'h.n.svc.z'), 'publishNotReadyAddresses includes not-ready endpoints');
});

t.test('ZoneIndex reports exactly the changed names', async (t) => {
  const ix = new ZoneIndex(['z']);
  t.same([...ix.set('n/a', [{ name: 'a.n.svc.z', type: 'A', address: '10.0.0.1' }])].sort(), ['a.n.svc.z', 'n.svc.z', 'svc.z', 'z'].sort());
  t.same([...ix.set('n/a', [{ name: 'a.n.svc.z', type: 'A', address: '10.0.0.1' }])], [], 'no change, nothing invalidated');
  t.same([...ix.set('n/b', [{ name: 'b.n.svc.z', type: 'A', address: '10.0.0.2' }])], ['b.n.svc.z'], 'sibling: ancestors already existed');
  t.same([...ix.set('n/a', [{ name: 'a.n.svc.z', type: 'A', address: '10.0.0.3' }])], ['a.n.svc.z']);
  t.same([...ix.delete('n/a')], ['a.n.svc.z']);
  t.ok(ix.exists('n.svc.z'));
  ix.delete('n/b');
  t.notOk(ix.exists('n.svc.z'), 'empty non-terminal gone with its last child');
});

function answerPacket(rcode: number, ttl: number, soa?: { ttl: number; minimum: number }): Buffer {
  const p = new Packet();
  p.header.qr = 1;
  p.header.rcode = rcode;
  p.questions.push({ name: 'x.test', type: 1, class: 1 } as DNS.Packet.Question);
  if (rcode === 0 && ttl) p.answers.push({ name: 'x.test', type: 1, class: 1, ttl, address: '192.0.2.1' } as DNS.Packet.Resource);
  if (soa) p.authorities.push({ name: 'test', type: 6, class: 1, ttl: soa.ttl, primary: 'ns.test', admin: 'h.test', serial: 1, refresh: 1, retry: 1, expiration: 1, minimum: soa.minimum } as DNS.Packet.Resource);
  return p.toBuffer();
}

t.test('Forwarder cache rules', async (t) => {
  const rows: { name: string; reply: Buffer | 'fail'; wantRcode: number; cachedFor: number }[] = [
    { name: 'positive: min answer TTL', reply: answerPacket(0, 60), wantRcode: 0, cachedFor: 60 },
    { name: 'NXDOMAIN: SOA negative TTL', reply: answerPacket(3, 0, { ttl: 300, minimum: 20 }), wantRcode: 3, cachedFor: 20 },
    { name: 'NODATA: SOA TTL when smaller', reply: answerPacket(0, 0, { ttl: 10, minimum: 50 }), wantRcode: 0, cachedFor: 10 },
    { name: 'NXDOMAIN without SOA: not cached', reply: answerPacket(3, 0), wantRcode: 3, cachedFor: 0 },
    { name: 'upstream down: SERVFAIL, not cached', reply: 'fail', wantRcode: 2, cachedFor: 0 },
  ];
  for (const r of rows) {
    let now = 1_000_000;
    let calls = 0;
    const transport: Transport = {
      async udp(_u, q) {
        calls++;
        if (r.reply === 'fail') throw new Error('ECONNREFUSED');
        const b = Buffer.from(r.reply);
        q.copy(b, 0, 0, 2); // echo the ID
        return b;
      },
      async tcp() {
        throw new Error('no tcp');
      },
      close() {},
    };
    const f = new Forwarder({ upstreams: [{ host: '127.0.0.1', port: 1 }, { host: '127.0.0.1', port: 2 }], timeoutMs: 100, maxTtl: 3600, maxEntries: 10 }, transport, () => now);
    const first = await f.forward('x.test', 1, 1);
    t.equal(first.rcode, r.wantRcode, `${r.name}: rcode`);
    const askedFirst = calls;
    now += Math.max(0, r.cachedFor - 1) * 1000;
    const second = await f.forward('x.test', 1, 1);
    t.equal(second.cached, r.cachedFor > 0, `${r.name}: cached just before expiry`);
    if (r.cachedFor > 0 && r.wantRcode === 0 && second.packet.answers.length) t.equal(second.packet.answers[0].ttl, 1, `${r.name}: TTL counted down`);
    now += 2000;
    await f.forward('x.test', 1, 1);
    t.ok(calls > askedFirst, `${r.name}: asked again after expiry`);
    if (r.reply === 'fail') t.equal(askedFirst, 2, 'both upstreams tried');
  }
  t.equal(cacheTtl(Packet.parse(answerPacket(2, 0)), 100), 0, 'SERVFAIL never cached');
});

t.test('flags: every bad setting reported', async (t) => {
  try {
    parseFlags(['--ttl', 'x', '--listen', 'nohost', '--pods', 'maybe', '--upstream', 'dns.google', '--bogus', '1'], () => '');
    t.fail('should throw');
  } catch (e) {
    t.ok(e instanceof FlagError);
    const msg = (e as FlagError).problems.join('\n');
    for (const f of ['--ttl', '--listen', '--pods', '--upstream', '--bogus']) t.match(msg, f, `names ${f}`);
  }
  const ok = parseFlags(['--listen=127.0.0.1:5353', '--resolv-conf', '/r'], () => 'search x\nnameserver 192.0.2.53\nnameserver ::1\n');
  t.same(ok.config.upstreams, [{ host: '192.0.2.53', port: 53 }, { host: '::1', port: 53 }]);
  t.equal(ok.config.listenPort, 5353);
});

t.test('fuzz: random and mutated packets never crash the handler', async (t) => {
  const index = new ZoneIndex(['cluster.local', 'in-addr.arpa', 'ip6.arpa']);
  index.set('d/s', serviceRecords('cluster.local', { metadata: { name: 's', namespace: 'd' }, spec: { clusterIP: '10.96.0.5', ports: [{ name: 'p', port: 1 }] } }, []));
  const h = new Handler(new Resolver({ zone: 'cluster.local', ttl: 5, podsInsecure: true }, index, () => true), new AnswerCache(1000), undefined, new Stats());
  const seeds = [query('s.d.svc.cluster.local'), query('_p._tcp.s.d.svc.cluster.local', 33, { edns: 4096 }), query('5.0.96.10.in-addr.arpa', 12), query('1-2-3-4.d.pod.cluster.local')];
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let answered = 0, dropped = 0;
  const deadline = Date.now() + 5000;
  for (let i = 0; i < 20000 && Date.now() < deadline; i++) {
    let b: Buffer;
    if (i % 4 === 0) b = Buffer.from(Array.from({ length: rnd(80) }, () => rnd(256)));
    else {
      b = Buffer.from(seeds[rnd(seeds.length)]);
      for (let k = 0, n = 1 + rnd(4); k < n; k++) b[rnd(b.length)] = rnd(256);
      if (rnd(5) === 0) b = b.subarray(0, rnd(b.length));
    }
    const r = await h.handle(b, rnd(2) === 0);
    if (r === null) dropped++;
    else {
      answered++;
      if (r.length < 12 || !(r[2] & 0x80)) t.fail(`answer ${i} is not a response`);
      else Packet.parse(r); // our answers must themselves parse
    }
  }
  t.ok(answered > 1000 && dropped > 100, `answered ${answered}, dropped ${dropped}`);
  // the server still answers normally afterwards
  const ok = h.handle(query('s.d.svc.cluster.local'), false) as Buffer;
  t.same(Packet.parse(ok).answers.map((a) => a.address), ['10.96.0.5']);
});
