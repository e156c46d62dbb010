// proxy/http1: the head parser's strictness (RFC 9112) table-driven, body framing fed byte by byte, and
// the connection engine on real loopback sockets against a node:http upstream: keep-alive reuse of the
// upstream pool, pipelining, a streamed chunked upload, 400 for malformed requests while the connection
// (or the proxy) keeps serving, Expect: 100-continue, an upgrade, and 503 when the upstream is down.
import t, { type Test } from 'tap';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { parseRequestHead, parseResponseHead } from '../../proxy/http1/parse.js';
import { BodyFramer } from '../../proxy/http1/body.js';
import { serveHttp1, UPSTREAM_RESET, type Decision } from '../../proxy/http1/connection.js';
import { applyHeaderOps, compileHeaderOps, NO_OPS } from '../../proxy/http1/headers.js';
import { UpstreamPool } from '../../proxy/http1/pool.js';

const req = (s: string) => parseRequestHead(Buffer.from(s, 'latin1'), 0);

t.test('request heads: accepted', async (t) => {
  const text = '\r\nPOST /a?b=1 HTTP/1.1\r\nHost: svc:80\r\nContent-Length: 5\r\nX-A:  v \r\nConnection: keep-alive\r\n\r\nhello';
  const r = req(text);
  t.equal(r.kind, 'ok');
  if (r.kind !== 'ok') return;
  t.match(r.head, { method: 'POST', target: '/a?b=1', minor: 1, host: 'svc:80', contentLength: 5, chunked: false, keepAlive: true, upgrade: '' });
  t.same(r.head.headers, ['host', 'svc:80', 'content-length', '5', 'x-a', 'v', 'connection', 'keep-alive'], 'names lowercased, OWS trimmed');
  t.equal(r.end, text.length - 5, 'end is just past the blank line (leading CRLF skipped)');
  const rows: [string, Record<string, unknown>][] = [
    ['GET / HTTP/1.0\r\n\r\n', { keepAlive: false, host: '' }],
    ['GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n', { keepAlive: true }],
    ['GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', { keepAlive: false }],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', { chunked: true, contentLength: -1 }],
    ['GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', { upgrade: 'websocket' }],
    ['GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n', { upgrade: '' }],
    ['PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\nExpect: 100-continue\r\n\r\n', { contentLength: 3, expectContinue: true }],
  ];
  for (const [s, want] of rows) {
    const p = req(s);
    t.equal(p.kind, 'ok', JSON.stringify(s));
    if (p.kind === 'ok') t.match(p.head, want, JSON.stringify(s));
  }
});

t.test('request heads: rejected with the reason, fatal when framing is lost', async (t) => {
  const rows: [string, number, RegExp, boolean][] = [
    ['GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 400, /invalid request line/, true],
    ['GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505, /not supported/, true],
    ['G(T / HTTP/1.1\r\nHost: a\r\n\r\n', 400, /invalid request line/, true],
    ['GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n', 400, /obsolete line folding/, true],
    ['GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400, /whitespace between field name and colon/, true],
    ['GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400, /conflicting content-length/, true],
    ['GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 400, /invalid content-length/, true],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400, /both content-length and transfer-encoding/, true],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 400, /must end with chunked/, true],
    ['POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 400, /HTTP\/1.0/, true],
    ['GET / HTTP/1.1\nHost: a\n\n', 400, /bare LF/, true],
    ['GET / HTTP/1.1\r\nHost: a\r\nBad[Name]: x\r\nContent-Length: 2\r\n\r\n', 400, /invalid header name/, false],
    ['GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n', 400, /invalid value for header x/, false],
    ['GET / HTTP/1.1\r\nX: a\r\n\r\n', 400, /missing host/, false],
    ['GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, /multiple host/, false],
  ];
  for (const [s, status, reason, fatal] of rows) {
    const r = req(s);
    t.equal(r.kind, 'error', JSON.stringify(s));
    if (r.kind !== 'error') continue;
    t.equal(r.status, status, `${JSON.stringify(s)} status`);
    t.match(r.reason, reason, `${JSON.stringify(s)} reason`);
    t.equal(r.fatal, fatal, `${JSON.stringify(s)} fatal`);
  }
  const nonFatal = req('GET / HTTP/1.1\r\nHost: a\r\nBad[Name]: x\r\nContent-Length: 2\r\n\r\nxy');
  t.equal(nonFatal.kind === 'error' && nonFatal.skip, 2, 'a non-fatal error says how many body bytes to skip');
  t.equal(req('GET / HTTP/1.1\r\nHost: a\r\n').kind, 'incomplete');
  t.match(parseRequestHead(Buffer.alloc(70 * 1024, 'a'), 0), { kind: 'error', status: 431 });
});

t.test('response heads', async (t) => {
  const r = parseResponseHead(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'), 0);
  t.match(r, { kind: 'ok', head: { status: 200, reason: 'OK', contentLength: 3, keepAlive: true } });
  t.match(parseResponseHead(Buffer.from('HTTP/1.1 204\r\n\r\n'), 0), { kind: 'ok', head: { status: 204, reason: '' } });
  t.match(parseResponseHead(Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), 0), { kind: 'ok', head: { keepAlive: false } });
  t.match(parseResponseHead(Buffer.from('HTTP/1.1 2000 OK\r\n\r\n'), 0), { kind: 'error', status: 502 });
});

t.test('body framing: chunked, byte by byte, with extensions and trailers; next message starts after it', async (t) => {
  const body = '5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n';
  const buf = Buffer.from(`${body}GET`, 'latin1');
  const f = new BodyFramer({ kind: 'chunked' });
  let used = 0;
  for (let i = 0; i < buf.length && !f.done; i++) used += f.feed(buf, i, i + 1);
  t.ok(f.done);
  t.equal(used, body.length, 'exactly the chunked body is consumed');
  const whole = new BodyFramer({ kind: 'chunked' });
  t.equal(whole.feed(buf, 0, buf.length), body.length, 'in one piece too');
  const bad = new BodyFramer({ kind: 'chunked' });
  t.equal(bad.feed(Buffer.from('zz\r\n'), 0, 4), -1);
  t.match(bad.error, /invalid chunk size/);
  const over = new BodyFramer({ kind: 'chunked' });
  t.equal(over.feed(Buffer.from('2\r\nabc\r\n'), 0, 8), -1, 'chunk longer than its size');
  const cl = new BodyFramer({ kind: 'length', length: 4 });
  t.equal(cl.feed(Buffer.from('abcdef'), 0, 6), 4);
  t.ok(cl.done);
});

t.test('header operations (remove, set, add)', async (t) => {
  const ops = compileHeaderOps({ set: { 'X-A': '1' }, add: { 'x-b': '2' }, remove: ['X-C'] });
  t.same(applyHeaderOps(['x-a', '0', 'x-c', 'gone', 'x-b', '1'], ops), ['x-b', '1', 'x-a', '1', 'x-b', '2']);
  t.ok(Object.isFrozen(ops));
});

// ---------------------------------------------------------------------------------------------
// The connection engine on loopback.

async function listen(s: Server | ReturnType<typeof createServer>): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as AddressInfo).port;
}

interface Upstream { port: number; connections: number; server: Server }

async function upstream(t: Test): Promise<Upstream> {
  const server = createHttpServer({ keepAliveTimeout: 10_000 }, (q, s) => {
    if (q.url === '/slow-body') {
      let n = 0;
      q.on('data', (c: Buffer) => (n += c.length));
      q.on('end', () => s.end(`got ${n} ${q.headers['transfer-encoding'] ?? ''}`));
      return;
    }
    if (q.url === '/chunked') {
      s.write('part1-');
      setTimeout(() => s.end('part2'), 20);
      return;
    }
    s.setHeader('x-upstream', 'yes');
    s.end(`${q.method} ${q.url} host=${q.headers.host} hop=${q.headers['x-hop'] ?? ''}`);
  });
  const u: Upstream = { port: 0, connections: 0, server };
  server.on('connection', () => u.connections++);
  server.on('upgrade', (q, sock: Socket, head) => {
    sock.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    if (head.length) sock.write(head);
    sock.on('data', (c) => sock.write(c.toString().toUpperCase()));
  });
  server.on('checkContinue', (q, s) => { s.writeContinue(); let n = 0; q.on('data', (c: Buffer) => (n += c.length)); q.on('end', () => s.end(`continued ${n}`)); });
  u.port = await listen(server);
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  return u;
}

async function proxy(t: Test, target: number, extra?: (d: Decision) => Decision): Promise<{ port: number; pool: UpstreamPool }> {
  const pool = new UpstreamPool();
  const server = createServer((sock) => serveHttp1(sock, (head) => {
    const d: Decision = head.target === '/local'
      ? { kind: 'respond', status: 200, headers: ['content-type', 'text/plain'], body: 'local' }
      : { kind: 'forward', address: '127.0.0.1', port: target, head, responseOps: head.target.startsWith('/ops') ? compileHeaderOps({ set: { 'x-upstream': 'rewritten' } }) : NO_OPS };
    return extra ? extra(d) : d;
  }, pool));
  const port = await listen(server);
  t.teardown(() => { pool.close(); server.close(); });
  const socks = new Set<Socket>();
  server.on('connection', (s) => { socks.add(s); s.on('close', () => socks.delete(s)); });
  t.teardown(() => { for (const s of socks) s.destroy(); });
  return { port, pool };
}

/** Writes raw bytes, collects the reply until `done(text)` says it is complete or the socket closes. */
function raw(port: number, data: string | Buffer[], done: (s: string) => boolean, delayMs = 0): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    const finish = () => { s.destroy(); resolve({ text, closed }); };
    s.on('data', (c) => { text += c.toString('latin1'); if (done(text)) finish(); });
    s.on('end', () => { closed = true; finish(); });
    s.on('error', reject);
    s.setTimeout(5000, () => { s.destroy(); reject(new Error(`timeout; got ${JSON.stringify(text)}`)); });
    if (typeof data === 'string') s.write(data);
    else (async () => { for (const b of data) { s.write(b); if (delayMs) await new Promise((r) => setTimeout(r, delayMs)); } })();
  });
}
const count = (s: string, what: string) => s.split(what).length - 1;

t.test('keep-alive both ways, pooled upstream, pipelining in order', async (t) => {
  const u = await upstream(t);
  const p = await proxy(t, u.port);
  const three = 'GET /one HTTP/1.1\r\nHost: web\r\n\r\nGET /two HTTP/1.1\r\nHost: web\r\nConnection: keep-alive\r\nX-Hop: yes\r\n\r\nGET /local HTTP/1.1\r\nHost: web\r\n\r\n';
  const r = await raw(p.port, three, (s) => count(s, 'HTTP/1.1 200') === 3 && s.endsWith('local'));
  const i1 = r.text.indexOf('GET /one'), i2 = r.text.indexOf('GET /two'), i3 = r.text.indexOf('local');
  t.ok(i1 > 0 && i2 > i1 && i3 > i2, 'responses in request order');
  t.match(r.text, /host=web hop=yes/, 'headers forwarded');
  t.equal(u.connections, 1, 'one upstream connection for both forwarded requests');
  const again = await raw(p.port, 'GET /three HTTP/1.1\r\nHost: web\r\n\r\n', (s) => s.endsWith('hop='));
  t.match(again.text, /GET \/three/);
  t.equal(u.connections, 1, 'a new client connection reuses the pooled upstream connection');
  t.equal(p.pool.idleCount('127.0.0.1', u.port), 1);
  const ops = await raw(p.port, 'GET /ops HTTP/1.1\r\nHost: web\r\n\r\n', (s) => s.endsWith('hop='));
  t.match(ops.text, /x-upstream: rewritten/, 'response header operations applied');
});

t.test('3000 pipelined requests answered locally in one write: served in order, no deep recursion', async (t) => {
  const u = await upstream(t);
  const p = await proxy(t, u.port);
  const n = 3000;
  const r = await raw(p.port, 'GET /local HTTP/1.1\r\nHost: web\r\n\r\n'.repeat(n - 1) + 'GET /last HTTP/1.1\r\nHost: web\r\n\r\n', (s) => s.endsWith('hop='));
  t.equal(count(r.text, 'HTTP/1.1 200 OK'), n);
  t.match(r.text.slice(-200), /GET \/last/, 'the forwarded one comes last');
});

t.test('bodies stream: a chunked upload sent in pieces, a chunked response', async (t) => {
  const u = await upstream(t);
  const p = await proxy(t, u.port);
  const piece = 'x'.repeat(64 * 1024);
  const parts = [Buffer.from('POST /slow-body HTTP/1.1\r\nHost: web\r\nTransfer-Encoding: chunked\r\n\r\n')];
  for (let i = 0; i < 16; i++) parts.push(Buffer.from(`${piece.length.toString(16)}\r\n${piece}\r\n`));
  parts.push(Buffer.from('0\r\n\r\n'));
  const r = await raw(p.port, parts, (s) => /got \d+ chunked/.test(s), 2);
  t.match(r.text, `got ${16 * piece.length} chunked`, '1 MiB arrived whole, still chunked');
  const c = await raw(p.port, 'GET /chunked HTTP/1.1\r\nHost: web\r\n\r\n', (s) => s.endsWith('0\r\n\r\n'));
  t.match(c.text, /transfer-encoding: chunked/i);
  t.match(c.text, /part1-[\s\S]*part2/);
});

t.test('malformed requests get 400 with the reason; the proxy and (when framing holds) the connection keep serving', async (t) => {
  const u = await upstream(t);
  const p = await proxy(t, u.port);
  const smuggle = await raw(p.port, 'POST / HTTP/1.1\r\nHost: web\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', () => false);
  t.match(smuggle.text, /^HTTP\/1.1 400 Bad Request[\s\S]*connection: close[\s\S]*both content-length and transfer-encoding/);
  t.ok(smuggle.closed, 'framing lost: the connection is closed');
  const soft = await raw(p.port, 'GET / HTTP/1.1\r\nHost: web\r\nBad[Name]: 1\r\nContent-Length: 3\r\n\r\nabcGET /after HTTP/1.1\r\nHost: web\r\n\r\n', (s) => s.includes('GET /after'));
  t.match(soft.text, /^HTTP\/1.1 400[\s\S]*invalid header name[\s\S]*HTTP\/1.1 200 OK[\s\S]*GET \/after/, 'the body was skipped and the next request served');
  const fold = await raw(p.port, 'GET / HTTP/1.1\r\nHost: web\r\nX: a\r\n b\r\n\r\n', () => false);
  t.match(fold.text, /400[\s\S]*obsolete line folding/);
  const ok = await raw(p.port, 'GET /still HTTP/1.1\r\nHost: web\r\n\r\n', (s) => s.endsWith('hop='));
  t.match(ok.text, /GET \/still/, 'other connections are served');
});

t.test('Expect: 100-continue and an upgrade go through', async (t) => {
  const u = await upstream(t);
  const p = await proxy(t, u.port);
  const r = await new Promise<string>((resolve, reject) => {
    const s = connect(p.port, '127.0.0.1');
    let text = '';
    s.write('PUT /c HTTP/1.1\r\nHost: web\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    s.on('data', (c) => {
      text += c;
      if (text.includes('100 Continue') && !text.includes('sent')) { text += '(sent)'; s.write('abcd'); }
      if (text.includes('continued 4')) { s.destroy(); resolve(text); }
    });
    s.on('error', reject);
    s.setTimeout(5000, () => reject(new Error(text)));
  });
  t.match(r, /HTTP\/1.1 100 Continue[\s\S]*\(sent\)[\s\S]*HTTP\/1.1 200[\s\S]*continued 4/, 'the interim 100 is relayed before the body is sent');
  const up = await raw(p.port, 'GET /ws HTTP/1.1\r\nHost: web\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nhello', (s) => s.includes('HELLO'));
  t.match(up.text, /^HTTP\/1.1 101 Switching Protocols[\s\S]*upgrade: echo[\s\S]*HELLO/i, 'bytes after the 101 are relayed raw both ways');
});

t.test('upstream down: 503 with Envoy\'s reason, connection kept', async (t) => {
  const dead = createServer();
  const deadPort = await listen(dead);
  await new Promise((r) => dead.close(r));
  const p = await proxy(t, deadPort);
  const r = await raw(p.port, 'GET / HTTP/1.1\r\nHost: web\r\n\r\nGET /local HTTP/1.1\r\nHost: web\r\n\r\n', (s) => s.endsWith('local'));
  t.match(r.text, new RegExp(`^HTTP/1.1 503 Service Unavailable[\\s\\S]*${UPSTREAM_RESET.replace(/[.]/g, '\\.')}connection failure[\\s\\S]*HTTP/1.1 200 OK`));
});
