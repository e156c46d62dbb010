// pods/portforward in raw SPDY/3.1 frames (the direct `Upgrade: SPDY/3.1` form; the WebSocket-tunnelled form
// kubectl 1.32 uses carries the same bytes and is driven by the real kubectl in stream.test.ts), through the
// real API server (TLS, tokens) to a stand-in node agent that mounts the real agent endpoint and the real
// `shoal-stream connect` helper, entering this process's own network namespace (so 127.0.0.1 is the host's):
// - header blocks compressed by real zlib (with the SPDY dictionary) are read, and our replies inflate;
// - a refused connection is reported on its error stream and the session goes on serving the next one;
// - PING is echoed, an unknown stream type is reset, the session needs authentication.
import t from 'tap';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import zlib from 'node:zlib';
import type { Duplex } from 'node:stream';
import { startCluster, type TestCluster } from '../client/fixture.js';
import { attachExecStream } from '../../node/agent/server/exec-stream.js';
import { SPDY3_DICTIONARY, FrameReader, FrameType, FLAG_FIN, controlFrame, dataFrame, encodeHeaderBlock, decodeHeaderBlock, type Frame } from '../../control-plane/apiserver/handlers/spdy.js';
import { existsSync } from 'node:fs';
import { streamHelperPath } from '../../node/agent/server/stream-helper.js';

const skip = process.getuid?.() !== 0 ? 'needs root (setns in the helper)' : !existsSync(streamHelperPath()) ? 'the shoal-stream helper is not built (no C compiler)' : false;

/** A minimal SPDY client: real zlib for the headers it sends and for the replies it reads. */
class Client {
  frames: Frame[] = [];
  private reader = new FrameReader();
  private deflate = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY });
  private inflate = zlib.createInflate({ dictionary: SPDY3_DICTIONARY });
  replies: Record<string, string>[] = [];
  constructor(readonly sock: Duplex) {
    sock.on('data', (d: Buffer) => {
      for (const f of this.reader.push(d)) {
        this.frames.push(f);
        if (f.control && f.type === FrameType.synReply) void this.inflateBlock(f.data.subarray(4)).then((b) => this.replies.push(decodeHeaderBlock(b)));
      }
    });
  }
  private zlibStep(z: zlib.Deflate | zlib.Inflate, b: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      const out: Buffer[] = [];
      const on = (d: Buffer) => out.push(d);
      z.on('data', on);
      z.write(b);
      z.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        z.off('data', on);
        resolve(Buffer.concat(out));
      });
    });
  }
  inflateBlock(b: Buffer) {
    return this.zlibStep(this.inflate, b);
  }
  async syn(id: number, headers: Record<string, string>) {
    const block = await this.zlibStep(this.deflate, encodeHeaderBlock(headers));
    const head = Buffer.alloc(10);
    head.writeUInt32BE(id, 0);
    this.sock.write(controlFrame(FrameType.synStream, 0, Buffer.concat([head, block])));
  }
  data(id: number, d: Buffer, fin = false) {
    this.sock.write(dataFrame(id, fin ? FLAG_FIN : 0, d));
  }
  text(id: number) {
    return Buffer.concat(this.frames.filter((f): f is Extract<Frame, { control: false }> => !f.control && f.streamId === id).map((f) => f.data)).toString();
  }
  fin(id: number) {
    return this.frames.some((f) => !f.control && f.streamId === id && f.flags & FLAG_FIN);
  }
  async until(pred: () => boolean, what: string) {
    const end = Date.now() + 10_000;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function upgrade(c: TestCluster, path: string, auth = true): Promise<{ sock: Duplex; head: Buffer } | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(c.url + path, {
      method: 'POST', ca: c.caPem,
      headers: { ...(auth ? { authorization: `Bearer ${c.token}` } : {}), connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'portforward.k8s.io' },
    });
    req.on('upgrade', (res, sock, head) => {
      if (res.headers['x-stream-protocol-version'] !== 'portforward.k8s.io') reject(new Error('no protocol in the 101'));
      resolve({ sock, head });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d)).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('port-forward in raw SPDY frames through the API server', { skip }, async (t) => {
  const c = await startCluster('shoalt-kpf-');
  t.teardown(() => c.close());
  const agent = http.createServer((_q, r) => r.writeHead(404).end());
  const stop = attachExecStream(agent, {
    find() {
      throw Object.assign(new Error('no exec here'), { code: 404, reason: 'NotFound' });
    },
    findPod: () => ({ holderPid: process.pid }),
  });
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    stop();
    agent.close();
  });
  const target = net.createServer((s) => s.on('data', (d) => s.end(`echo:${d}`)));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  t.teardown(() => target.close());
  const live = (target.address() as net.AddressInfo).port;
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const dead = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r)); // a port nobody listens on

  const client = c.client();
  await client.create({ apiVersion: 'v1', plural: 'nodes', namespaced: false }, {
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'kpf-n1' },
    status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: (agent.address() as net.AddressInfo).port } } },
  });
  const pod = await client.create({ apiVersion: 'v1', plural: 'pods', namespaced: true }, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: 'kpf-n1', containers: [{ name: 'app', image: 'busybox' }] },
  }, { namespace: 'default' });

  const anon = await upgrade(c, '/api/v1/namespaces/default/pods/web/portforward', false);
  t.equal((anon as { status: number }).status, 401, 'authenticated like any request');
  const missing = await upgrade(c, '/api/v1/namespaces/default/pods/nope/portforward');
  t.equal((missing as { status: number }).status, 404, 'unknown pod');

  const up = await upgrade(c, '/api/v1/namespaces/default/pods/web/portforward');
  if (!('sock' in up)) throw new Error(`upgrade refused: ${up.status} ${up.body}`);
  const s = new Client(up.sock);
  t.teardown(() => up.sock.destroy());

  // request 0: nothing listening → error stream, both streams ended
  await s.syn(1, { streamtype: 'error', port: String(dead), requestid: '0' });
  await s.syn(3, { streamtype: 'data', port: String(dead), requestid: '0' });
  await s.until(() => s.fin(1) && s.fin(3), 'both streams of request 0 to end');
  t.equal(s.text(1), `error forwarding port ${dead} to pod web, uid ${pod.metadata.uid}: dial tcp4 127.0.0.1:${dead}: connect: connection refused`, 'kubelet\'s message on the error stream');
  t.equal(s.text(3), '', 'no data');
  t.same(s.replies.slice(0, 2), [{}, {}], 'every stream got a SYN_REPLY whose (stored) header block inflates');

  // request 1 on the same session: the forward goes on
  await s.syn(5, { streamtype: 'error', port: String(live), requestid: '1' });
  await s.syn(7, { streamtype: 'data', port: String(live), requestid: '1' });
  s.data(7, Buffer.from('hello'));
  await s.until(() => s.fin(7), 'the data stream to end');
  t.equal(s.text(7), 'echo:hello', 'bytes both ways through the agent and the helper');
  t.equal(s.text(5), '', 'no error');

  // request 2 opened data-first, with its bytes and FIN before the error stream: kept until the pair is whole
  await s.syn(11, { streamtype: 'data', port: String(live), requestid: '3' });
  s.data(11, Buffer.from('early'), true);
  await new Promise((r) => setTimeout(r, 100));
  await s.syn(13, { streamtype: 'error', port: String(live), requestid: '3' });
  await s.until(() => s.fin(11), 'the data-first stream to end');
  t.equal(s.text(11), 'echo:early', 'data sent before the pair was complete is relayed');

  // PING echoed; a stream of unknown type reset
  s.sock.write(controlFrame(FrameType.ping, 0, Buffer.of(0, 0, 0, 9)));
  await s.syn(9, { streamtype: 'bogus', port: '1', requestid: '2' });
  await s.until(() => s.frames.some((f) => f.control && f.type === FrameType.ping) && s.frames.some((f) => f.control && f.type === FrameType.rstStream), 'PING and RST_STREAM');
  const ping = s.frames.find((f) => f.control && f.type === FrameType.ping)!;
  t.same([...ping.data], [0, 0, 0, 9], 'PING id echoed');
  const rst = s.frames.find((f) => f.control && f.type === FrameType.rstStream)!;
  t.equal(rst.data.readUInt32BE(0), 9, 'the unknown stream type is reset');
});
