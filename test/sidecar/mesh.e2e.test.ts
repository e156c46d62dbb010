// Two pods in real network namespaces with the capture table, each with a sidecar (UID 1337, static
// config, certificates from the test CA over gRPC): raw TCP and a long-lived connection through both
// sidecars over HBONE mTLS and in per-connection TLS mode; STRICT refuses plaintext; certificates from
// another CA, expired, or without a SPIFFE ID are refused; a server with the wrong identity is refused by
// the client; PERMISSIVE accepts both; AuthorizationPolicy on principal closes the wrong identity's
// connection; garbage on 15006/15008 closes only that connection.
import t, { type Test } from 'tap';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { connect as h2connect } from 'node:http2';
import { randomBytes } from 'node:crypto';
import { meshNet, meshConfig, rootSkip, runInPod, startEchoApp, startTestSidecar, until, httpGet, type Pod, type MeshNet } from './fixture.js';
import { makeCa, makeLeaf } from './ca.js';

const K = 1;
const VIP = `10.215.${K}.10`;

async function probe(t: Test, pod: Pod, args: string[]): Promise<any> {
  const p = runInPod(t, pod, [process.execPath, 'dist/test/sidecar/probe.js', ...args]);
  const code = await p.exited;
  if (code !== 0) throw new Error(`probe ${args.join(' ')}: exit ${code}: ${p.err()}`);
  return JSON.parse(p.out().trim().split('\n').pop()!);
}

/** Plaintext from the root namespace to B's app port (captured to B's 15006). */
function plainEcho(host: string, port: number, msg = 'hello\n'): Promise<{ ok: boolean; error: string }> {
  return new Promise((resolve) => {
    const s = netConnect({ host, port });
    let got = '';
    const timer = setTimeout(() => { s.destroy(); resolve({ ok: false, error: 'timeout' }); }, 3000);
    s.on('connect', () => s.write(msg));
    s.on('data', (d) => { got += d; if (got === msg) { clearTimeout(timer); s.destroy(); resolve({ ok: true, error: '' }); } });
    s.on('error', (e) => { clearTimeout(timer); resolve({ ok: false, error: (e as NodeJS.ErrnoException).code ?? e.message }); });
    s.on('close', () => { clearTimeout(timer); resolve({ ok: got === msg, error: 'closed' }); });
  });
}

/** Mesh-style TLS (ALPN istio) from the root namespace with a given client cert → echo or the failure. */
function tlsEcho(host: string, port: number, cert: { keyPem: string; certPem: string }, ca: string): Promise<{ ok: boolean; error: string }> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host, port, key: cert.keyPem, cert: cert.certPem, ca, ALPNProtocols: ['istio-peer-exchange', 'istio'], checkServerIdentity: () => undefined } as ConnectionOptions);
    let got = '';
    const timer = setTimeout(() => { s.destroy(); resolve({ ok: false, error: 'timeout' }); }, 3000);
    s.on('secureConnect', () => s.write('hello\n'));
    s.on('data', (d) => { got += d; if (got === 'hello\n') { clearTimeout(timer); s.destroy(); resolve({ ok: true, error: '' }); } });
    s.on('error', (e) => { clearTimeout(timer); resolve({ ok: false, error: (e as NodeJS.ErrnoException).code ?? e.message }); });
    s.on('close', () => { clearTimeout(timer); resolve({ ok: got === 'hello\n', error: 'closed' }); });
  });
}

/** An HBONE CONNECT from the root namespace to B:15008 with a given client cert → :status or the failure. */
function hboneConnect(net: MeshNet, cert: { keyPem: string; certPem: string }): Promise<string> {
  return new Promise((resolve) => {
    const session = h2connect(`https://${net.b.rootIp}:15008`, {
      createConnection: () => tlsConnect({ host: net.b.rootIp, port: 15008, key: cert.keyPem, cert: cert.certPem, ca: net.ca.ca.certPem, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined } as ConnectionOptions),
    });
    const timer = setTimeout(() => { session.destroy(); resolve('timeout'); }, 3000);
    const fin = (r: string): void => { clearTimeout(timer); session.destroy(); resolve(r); };
    session.on('error', (e) => fin(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    session.on('close', () => fin('closed'));
    const st = session.request({ ':method': 'CONNECT', ':authority': `${net.b.ip}:9000` });
    st.on('error', (e) => fin(`stream error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    st.on('response', (h) => {
      if (h[':status'] !== 200) return fin(`status ${h[':status']}`);
      st.write('hello\n');
      st.once('data', (d) => fin(`status 200 echo ${JSON.stringify(String(d))}`));
    });
  });
}

t.test('layer-4 mesh between two sidecars', { skip: rootSkip, timeout: 180_000 }, async (t) => {
  const net = await meshNet(t, 'scm', K);
  const app = startEchoApp(t, net.b, 9000);
  await until('echo app', () => app.out().includes('up'));
  const server = await startTestSidecar(t, net, net.b, { sa: 'server', config: meshConfig(net, K, 'b') });
  let client = await startTestSidecar(t, net, net.a, { sa: 'client', config: meshConfig(net, K, 'a') });

  await t.test('raw TCP through both sidecars over HBONE mTLS', async (t) => {
    const r = await probe(t, net.a, ['echo', VIP, '80', 'hello mesh\n']);
    t.same(r, { ok: true, reply: 'hello mesh\n', error: '' }, 'VIP → B through HBONE');
    const r2 = await probe(t, net.a, ['echo', net.b.ip, '9000', 'by pod ip\n']);
    t.ok(r2.ok, 'pod IP → B through HBONE');
    const clusters = JSON.parse((await httpGet(net.a.rootIp, 15000, '/clusters')).body);
    t.equal(clusters.tunnel.mode, 'hbone');
    t.match(clusters.tunnel.sessions, [{ peer: `${net.b.ip}|spiffe://cluster.local/ns/foo/sa/server` }], 'one pooled session to B');
    const stats = (await httpGet(net.a.rootIp, 15000, '/stats')).body;
    t.match(stats, /tunnel\.sessions_opened: 1\n/, 'two app connections, one HBONE session');
    t.match(stats, /tunnel\.streams_opened: 2\n/);
    const prom = (await httpGet(net.b.rootIp, 15090, '/stats/prometheus')).body;
    t.match(prom, /istio_tcp_connections_opened_total\{reporter="destination",[^}]*source_principal="spiffe:\/\/cluster.local\/ns\/foo\/sa\/client"[^}]*connection_security_policy="mutual_tls"/);
    t.match(prom, /istio_tcp_received_bytes_total\{[^}]*\} (2[0-9])/, 'request bytes counted');
    const certs = JSON.parse((await httpGet(net.b.rootIp, 15000, '/certs')).body);
    t.equal(certs.certificates[0].identity, 'spiffe://cluster.local/ns/foo/sa/server');
    const dump = JSON.parse((await httpGet(net.b.rootIp, 15000, '/config_dump')).body);
    t.equal(dump.workload.peerAuthentication.mode, 'STRICT');
    t.equal(dump.source.kind, 'file');
  });

  await t.test('an unknown destination passes through to the original destination', async (t) => {
    // a TCP echo in the root namespace on A's link: not a Service, not a pod of the mesh
    const { createServer } = await import('node:net');
    const peers: string[] = [];
    const outside = createServer((s) => { peers.push(String(s.remoteAddress)); s.pipe(s); s.on('error', () => {}); });
    await new Promise<void>((r) => outside.listen(0, net.a.hostIp, r));
    t.teardown(() => outside.close());
    const port = (outside.address() as { port: number }).port;
    const r = await probe(t, net.a, ['echo', net.a.hostIp, String(port), 'outside\n']);
    t.ok(r.ok, `passthrough echo (${r.error})`);
    t.same(peers, [net.a.rootIp], 'one connection, from A (the sidecar, not captured again)');
    t.match((await httpGet(net.a.rootIp, 15090, '/stats/prometheus')).body, new RegExp(`destination_service="${net.a.hostIp.replace(/\./g, '\\.')}:${port}"[^}]*connection_security_policy="none"`), 'counted as passthrough');
    t.match((await httpGet(net.a.rootIp, 15020, '/stats/prometheus')).body, /istio_tcp_connections_opened_total/, ':15020 serves the merged metrics');
  });

  await t.test('many short connections and a long-lived one', async (t) => {
    const r = await probe(t, net.a, ['load', VIP, '80', '3', '4']);
    t.equal(r.fails, 0, `no failures (${JSON.stringify(r.errors)})`);
    t.ok(r.conns > 20, `${r.conns} connections`);
    t.ok(r.longLived.ok && r.longLived.pings > 20, `long-lived connection: ${r.longLived.pings} echoes`);
  });

  await t.test('STRICT refuses plaintext', async (t) => {
    const r = await plainEcho(net.b.rootIp, 9000);
    t.notOk(r.ok, `plaintext to B:9000 refused (${r.error})`);
    t.match((await httpGet(net.b.rootIp, 15090, '/stats/prometheus')).body, /shoal_proxy_authz_denied_total\{listener="inbound",reason="plaintext-strict"\} [1-9]/);
  });

  await t.test('certificates refused: another CA, expired, no SPIFFE ID; a good one accepted', async (t) => {
    const caPem = net.ca.ca.certPem;
    const good = makeLeaf(net.ca.ca, 'spiffe://cluster.local/ns/foo/sa/client');
    t.same(await tlsEcho(net.b.rootIp, 9000, good, caPem), { ok: true, error: '' }, 'a mesh certificate works (control)');
    t.match(await hboneConnect(net, good), /status 200 echo "hello\\n"/, 'HBONE with a mesh certificate works (control)');
    const cases: [string, { keyPem: string; certPem: string }][] = [
      ['another CA', makeLeaf(makeCa('evil'), 'spiffe://cluster.local/ns/foo/sa/client')],
      ['expired', makeLeaf(net.ca.ca, 'spiffe://cluster.local/ns/foo/sa/client', -7200, -3600)],
      ['not yet valid', makeLeaf(net.ca.ca, 'spiffe://cluster.local/ns/foo/sa/client', 3600, 7200)],
      ['no SPIFFE ID', makeLeaf(net.ca.ca, 'https://example.com/not-spiffe')],
    ];
    for (const [name, cert] of cases) {
      const r = await tlsEcho(net.b.rootIp, 9000, cert, caPem);
      t.notOk(r.ok, `15006: ${name} refused (${r.error})`);
      const h = await hboneConnect(net, cert);
      t.notMatch(h, /status 200/, `15008: ${name} refused (${h})`);
    }
  });

  await t.test('the client refuses a server with the wrong SPIFFE ID', async (t) => {
    const cfg = meshConfig(net, K, 'a');
    cfg.endpoints![0].endpoints[0].identity = 'spiffe://cluster.local/ns/foo/sa/other';
    client.setConfig(cfg);
    await until('client config applied', async () => (await httpGet(net.a.rootIp, 15000, '/config_dump')).body.includes('sa/other'));
    const r = await probe(t, net.a, ['echo', VIP, '80', 'x\n']);
    t.notOk(r.ok, `connection refused (${r.error})`);
    client.setConfig(meshConfig(net, K, 'a'));
    await until('client config restored', async () => !(await httpGet(net.a.rootIp, 15000, '/config_dump')).body.includes('sa/other'));
    t.ok((await probe(t, net.a, ['echo', VIP, '80', 'y\n'])).ok, 'works again with the right identity');
  });

  await t.test('PERMISSIVE accepts plaintext and mTLS', async (t) => {
    server.setConfig(meshConfig(net, K, 'b', { mode: 'PERMISSIVE' }));
    await until('server PERMISSIVE', async () => (await plainEcho(net.b.rootIp, 9000)).ok, 5000);
    t.pass('plaintext accepted');
    t.ok((await probe(t, net.a, ['echo', VIP, '80', 'm\n'])).ok, 'mTLS accepted');
    server.setConfig(meshConfig(net, K, 'b', { mode: 'STRICT', portModes: { 9000: 'PERMISSIVE' } }));
    await until('port-level PERMISSIVE applied', async () => (await httpGet(net.b.rootIp, 15000, '/config_dump')).body.includes('"9000": "PERMISSIVE"'));
    t.ok((await plainEcho(net.b.rootIp, 9000)).ok, 'port-level PERMISSIVE overrides STRICT');
    server.setConfig(meshConfig(net, K, 'b', { mode: 'DISABLE' }));
    await until('DISABLE applied', async () => (await httpGet(net.b.rootIp, 15000, '/config_dump')).body.includes('"DISABLE"'));
    t.ok((await plainEcho(net.b.rootIp, 9000)).ok, 'DISABLE: plaintext');
    t.ok((await probe(t, net.a, ['echo', VIP, '80', 'h\n'])).ok, 'DISABLE: HBONE still accepted (always mTLS)');
    server.setConfig(meshConfig(net, K, 'b'));
    await until('STRICT again', async () => !(await plainEcho(net.b.rootIp, 9000)).ok, 5000);
  });

  await t.test('AuthorizationPolicy on principal closes the wrong identity', async (t) => {
    const allowOnly = (sa: string) => meshConfig(net, K, 'b', {
      authorization: [{ name: 'only', namespace: 'foo', action: 'ALLOW', rules: [{ from: [{ source: { principals: [`cluster.local/ns/foo/sa/${sa}`] } }] }] }],
    });
    server.setConfig(allowOnly('other'));
    await until('policy applied', async () => (await httpGet(net.b.rootIp, 15000, '/config_dump')).body.includes('foo/only'));
    const r = await probe(t, net.a, ['echo', VIP, '80', 'denied?\n']);
    t.notOk(r.ok, `client identity denied (${r.error})`);
    const other = makeLeaf(net.ca.ca, 'spiffe://cluster.local/ns/foo/sa/other');
    t.ok((await tlsEcho(net.b.rootIp, 9000, other, net.ca.ca.certPem)).ok, 'the allowed identity passes');
    t.match(await hboneConnect(net, makeLeaf(net.ca.ca, 'spiffe://cluster.local/ns/foo/sa/client')), /status 403/, 'HBONE: 403 for the denied identity');
    t.match((await httpGet(net.b.rootIp, 15090, '/stats/prometheus')).body, /shoal_proxy_authz_denied_total\{listener="hbone",reason="authz"\} [1-9]/);
    server.setConfig(allowOnly('client'));
    await until('policy allows client', async () => (await probe(t, net.a, ['echo', VIP, '80', 'ok\n'])).ok, 5000);
    t.pass('client allowed after the policy changed');
    server.setConfig(meshConfig(net, K, 'b'));
  });

  await t.test('garbage on 15006 and 15008 closes that connection only', async (t) => {
    const holder = runInPod(t, net.a, [process.execPath, 'dist/test/sidecar/probe.js', 'hold', VIP, '80', '3'], { stdin: true });
    // keep stdin open: the probe checks its connections again when stdin ends
    await until('held connections', () => holder.out().includes('"ok":3'));
    const garbage = [
      randomBytes(4096),
      Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), randomBytes(600)]),
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' + 'x'.repeat(100)),
    ];
    for (const [i, g] of garbage.entries()) {
      for (const port of [9000, 15008]) {
        const closed = await new Promise<boolean>((resolve) => {
          const s = netConnect({ host: net.b.rootIp, port });
          const timer = setTimeout(() => { s.destroy(); resolve(false); }, 5000);
          s.on('connect', () => s.write(g));
          s.on('data', () => {});
          s.on('error', () => {});
          s.on('close', () => { clearTimeout(timer); resolve(true); });
        });
        t.ok(closed, `garbage #${i} on ${port === 9000 ? '15006 (via 9000)' : '15008'}: closed`);
      }
    }
    t.equal(server.proc.exitCode, null, 'server sidecar still running');
    t.ok((await probe(t, net.a, ['echo', VIP, '80', 'after\n'])).ok, 'new connections still work');
    holder.proc.stdin?.end();
    await holder.exited;
    t.match(holder.out(), /"still":3/, 'held connections survived');
  });

  await t.test('one TLS connection per app connection (SHOAL_TUNNEL=tls)', async (t) => {
    await client.stop();
    client = await startTestSidecar(t, net, net.a, { sa: 'client', config: meshConfig(net, K, 'a'), tunnel: 'tls', name: 'client-tls' });
    const r = await probe(t, net.a, ['echo', VIP, '80', 'tls mode\n']);
    t.ok(r.ok, `echo through per-connection mTLS (${r.error})`);
    const l = await probe(t, net.a, ['load', VIP, '80', '2', '2']);
    t.equal(l.fails, 0, `no failures (${JSON.stringify(l.errors)})`);
    t.match((await httpGet(net.b.rootIp, 15090, '/stats/prometheus')).body, /istio_tcp_connections_opened_total\{reporter="destination"[^}]*mutual_tls/);
  });
});
