// Certificate renewal under continuous traffic (SHOAL_CERT_TTL=4s: a new key and certificate every ~2 s
// on both sidecars) fails no connection, short or long-lived; and the open-files limit: at the budget the
// proxy refuses new connections cleanly and keeps the ones it has, and with the budget disabled real
// EMFILE on accept/connect costs only those connections, never the process.
import t, { type Test } from 'tap';
import { meshNet, meshConfig, rootSkip, runInPod, startEchoApp, startTestSidecar, until, httpGet, type Pod } from './fixture.js';

async function probe(t: Test, pod: Pod, args: string[]): Promise<any> {
  const p = runInPod(t, pod, [process.execPath, 'dist/test/sidecar/probe.js', ...args]);
  const code = await p.exited;
  if (code !== 0) throw new Error(`probe ${args.join(' ')}: exit ${code}: ${p.err()}`);
  return JSON.parse(p.out().trim().split('\n').pop()!);
}
const issued = async (pod: Pod): Promise<number> => Number(/identity\.certificates_issued: (\d+)/.exec((await httpGet(pod.rootIp, 15000, '/stats')).body)?.[1]);

t.test('certificate renewal under load fails no connection', { skip: rootSkip, timeout: 120_000 }, async (t) => {
  const K = 2;
  const net = await meshNet(t, 'scr', K);
  const app = startEchoApp(t, net.b, 9000);
  await until('echo app', () => app.out().includes('up'));
  await startTestSidecar(t, net, net.b, { sa: 'server', config: meshConfig(net, K, 'b'), ttl: '4s' });
  await startTestSidecar(t, net, net.a, { sa: 'client', config: meshConfig(net, K, 'a'), ttl: '4s' });
  const before = [await issued(net.a), await issued(net.b)];
  const r = await probe(t, net.a, ['load', `10.215.${K}.10`, '80', '10', '4']);
  const after = [await issued(net.a), await issued(net.b)];
  t.equal(r.fails, 0, `${r.conns} connections, none failed (${JSON.stringify(r.errors)})`);
  t.ok(r.conns > 50, `${r.conns} connections`);
  t.ok(r.longLived.ok, `long-lived connection kept through renewals (${r.longLived.pings} echoes)`);
  t.ok(after[0] - before[0] >= 3, `client renewed ${after[0] - before[0]} times in 10 s`);
  t.ok(after[1] - before[1] >= 3, `server renewed ${after[1] - before[1]} times in 10 s`);
  const stats = (await httpGet(net.a.rootIp, 15000, '/stats')).body;
  t.ok(Number(/tunnel\.sessions_opened: (\d+)/.exec(stats)?.[1]) >= 3, 'new HBONE sessions after renewals (old ones drained)');
});

t.test('open-files limit: refuse new connections, keep the old ones, never crash', { skip: rootSkip, timeout: 120_000 }, async (t) => {
  const K = 3;
  const net = await meshNet(t, 'scl', K);
  const app = startEchoApp(t, net.b, 9000);
  await until('echo app', () => app.out().includes('up'));
  const server = await startTestSidecar(t, net, net.b, { sa: 'server', config: meshConfig(net, K, 'b') });
  const VIP = `10.215.${K}.10`;

  await t.test('budget: accept and close at the limit', async (t) => {
    // 200 descriptors, 64 reserved: 68 proxied connections (2 descriptors each)
    const client = await startTestSidecar(t, net, net.a, { sa: 'client', config: meshConfig(net, K, 'a'), ulimitN: 200, name: 'client-budget' });
    const first = runInPod(t, net.a, [process.execPath, 'dist/test/sidecar/probe.js', 'hold', VIP, '80', '60'], { stdin: true });
    await until('60 held', () => first.out().includes('"opened":60'), 30_000);
    t.match(first.out(), /"ok":60/, '60 connections through the sidecar');
    const extra = runInPod(t, net.a, [process.execPath, 'dist/test/sidecar/probe.js', 'hold', VIP, '80', '20'], { stdin: true });
    await until('20 more tried', () => extra.out().includes('"opened":20'), 60_000);
    const okExtra = Number(/"ok":(\d+)/.exec(extra.out())?.[1]);
    t.ok(okExtra < 20 && okExtra >= 1, `only ${okExtra} of 20 more accepted (budget)`);
    const stats = (await httpGet(net.a.rootIp, 15000, '/stats')).body;
    t.match(stats, /server\.connections_refused: [1-9]/, 'refusals counted');
    t.equal(client.proc.exitCode, null, 'sidecar alive');
    first.proc.stdin!.end();
    await first.exited;
    t.match(first.out(), /"still":60/, 'the 60 held connections still work');
    extra.proc.stdin!.end();
    await extra.exited;
    t.ok((await probe(t, net.a, ['echo', VIP, '80', 'free again\n'])).ok, 'new connections work once descriptors are free');
    await client.stop();
  });

  await t.test('real EMFILE (budget disabled): accept and connect failures cost only those connections', async (t) => {
    // Plain TCP upstream (B PERMISSIVE, not mesh in A's view): two descriptors per connection, so both
    // accept and connect meet EMFILE. libuv answers EMFILE on accept itself (accept + close with its
    // reserve descriptor, no error reaches Node); EMFILE on connect reaches the listener and is counted.
    server.setConfig(meshConfig(net, K, 'b', { mode: 'PERMISSIVE' }));
    await until('server PERMISSIVE', async () => (await httpGet(net.b.rootIp, 15000, '/config_dump')).body.includes('PERMISSIVE'));
    const client = await startTestSidecar(t, net, net.a, { sa: 'client', config: meshConfig(net, K, 'a', { serverMesh: false }), ulimitN: 90, fdReserve: -100_000, name: 'client-emfile' });
    const held = runInPod(t, net.a, [process.execPath, 'dist/test/sidecar/probe.js', 'hold', VIP, '80', '100'], { stdin: true });
    await until('100 tried', () => held.out().includes('"opened":100'), 90_000);
    const ok = Number(/"ok":(\d+)/.exec(held.out())?.[1]);
    t.ok(ok > 20 && ok < 100, `${ok} of 100 got through before the process ran out of descriptors`);
    t.equal(client.proc.exitCode, null, 'sidecar alive after EMFILE');
    held.proc.stdin!.end();
    await held.exited;
    const still = Number(/"still":(\d+)/.exec(held.out())?.[1]);
    t.equal(still, ok, 'every connection that got through still works');
    await until('descriptors free again', async () => (await probe(t, net.a, ['echo', VIP, '80', 'again\n'])).ok, 10_000);
    t.pass('new connections work again');
    const after = (await httpGet(net.a.rootIp, 15000, '/stats')).body;
    t.comment(`EMFILE on connect counted: ${/server\.emfile: (\d+)/.exec(after)?.[1]} (accept-side EMFILE is absorbed by libuv)`);
    await client.stop();
  });
});
