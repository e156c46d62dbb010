// SPDY/3.1 pieces of the API server's port-forward (control-plane/apiserver/handlers/spdy.ts), no network:
// header blocks against real zlib with the SPDY/3 dictionary both ways, frames split across and packed into
// chunks, and a session's stream lifecycle (SYN_REPLY, data, FIN both ways, RST, GOAWAY).
import t from 'tap';
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY, HeaderDeflater, HeaderInflater, FrameReader, FrameType, FLAG_FIN, SpdySession, controlFrame, dataFrame, decodeHeaderBlock, encodeHeaderBlock, type Frame, type SpdyStream } from '../../control-plane/apiserver/handlers/spdy.js';

t.test('header blocks: ours inflate with zlib, zlib\'s inflate with ours, across several blocks', async (t) => {
  const d = new HeaderDeflater();
  const a = d.deflate(encodeHeaderBlock({ streamtype: 'data', port: '8080' }));
  const b = d.deflate(encodeHeaderBlock({}));
  const inf = zlib.createInflate({ dictionary: SPDY3_DICTIONARY });
  const step = (buf: Buffer) => new Promise<Buffer>((r) => {
    const out: Buffer[] = [];
    const on = (x: Buffer) => out.push(x);
    inf.on('data', on);
    inf.write(buf);
    inf.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      inf.off('data', on);
      r(Buffer.concat(out));
    });
  });
  t.same(decodeHeaderBlock(await step(a)), { streamtype: 'data', port: '8080' });
  t.same(decodeHeaderBlock(await step(b)), {}, 'the second block continues the same stream');
  t.same([...a.subarray(a.length - 5)], [0, 0, 0, 0xff, 0xff], 'each block ends like a sync flush');

  const def = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY });
  const dstep = (buf: Buffer) => new Promise<Buffer>((r) => {
    const out: Buffer[] = [];
    const on = (x: Buffer) => out.push(x);
    def.on('data', on);
    def.write(buf);
    def.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      def.off('data', on);
      r(Buffer.concat(out));
    });
  });
  const ours = new HeaderInflater();
  t.teardown(() => ours.close());
  t.same(decodeHeaderBlock(await ours.inflate(await dstep(encodeHeaderBlock({ streamtype: 'error', requestid: '0' })))), { streamtype: 'error', requestid: '0' });
  t.same(decodeHeaderBlock(await ours.inflate(await dstep(encodeHeaderBlock({ port: '9' })))), { port: '9' });
  const bad = new HeaderInflater();
  await t.rejects(bad.inflate(Buffer.from('not zlib at all')), 'garbage is an error, not a hang');
  t.throws(() => decodeHeaderBlock(Buffer.of(0, 0, 0, 1, 0, 0, 0, 9)), /truncated/);
});

t.test('frames split across chunks and packed together', async (t) => {
  const all = Buffer.concat([controlFrame(FrameType.ping, 0, Buffer.of(0, 0, 0, 1)), dataFrame(3, FLAG_FIN, Buffer.from('abc')), dataFrame(5, 0, Buffer.alloc(0))]);
  const r = new FrameReader();
  const got: Frame[] = [];
  for (let i = 0; i < all.length; i += 3) got.push(...r.push(all.subarray(i, i + 3)));
  t.equal(got.length, 3);
  t.match(got[0], { control: true, type: FrameType.ping });
  t.match(got[1], { control: false, streamId: 3, flags: FLAG_FIN });
  t.equal((got[1] as any).data.toString(), 'abc');
  t.same(new FrameReader().push(all).length, 3);
  const v2 = Buffer.from(controlFrame(FrameType.ping, 0, Buffer.alloc(4)));
  v2.writeUInt16BE(0x8002, 0);
  t.throws(() => new FrameReader().push(v2), /unsupported SPDY version 2/);
});

t.test('a session: reply, data both ways, FIN, RST, GOAWAY', async (t) => {
  const sent: Buffer[] = [];
  const streams: SpdyStream[] = [];
  let closed = false;
  const s = new SpdySession((b) => sent.push(b), (st) => streams.push(st), () => (closed = true));
  const def = zlib.createDeflate({ dictionary: SPDY3_DICTIONARY });
  const block = (h: Record<string, string>) => new Promise<Buffer>((r) => {
    const out: Buffer[] = [];
    const on = (x: Buffer) => out.push(x);
    def.on('data', on);
    def.write(encodeHeaderBlock(h));
    def.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      def.off('data', on);
      r(Buffer.concat(out));
    });
  });
  const syn = async (id: number, h: Record<string, string>) => {
    const head = Buffer.alloc(10);
    head.writeUInt32BE(id);
    return controlFrame(FrameType.synStream, 0, Buffer.concat([head, await block(h)]));
  };
  const tick = () => new Promise((r) => setTimeout(r, 20));
  const received: string[] = [];
  let ended = 0;
  let reset = 0;
  s.feed(Buffer.concat([await syn(1, { streamtype: 'data' }), dataFrame(1, 0, Buffer.from('hi')), dataFrame(1, FLAG_FIN, Buffer.alloc(0))]));
  await tick();
  t.equal(streams.length, 1);
  t.same(streams[0]!.headers, { streamtype: 'data' });
  const frames = new FrameReader().push(Buffer.concat(sent));
  t.match(frames[0], { control: true, type: FrameType.synReply }, 'SYN_REPLY first');
  s.feed(await syn(3, { streamtype: 'data' }));
  await tick();
  const st = streams[1]!;
  st.onData = (d) => received.push(d.toString());
  st.onEnd = () => ended++;
  st.onReset = () => reset++;
  s.feed(Buffer.concat([dataFrame(3, 0, Buffer.from('one')), dataFrame(3, FLAG_FIN, Buffer.from('two'))]));
  await tick();
  t.same(received, ['one', 'two']);
  t.equal(ended, 1, 'FIN from the client ends the stream');
  sent.length = 0;
  st.write(Buffer.from('back'));
  st.end();
  const out = new FrameReader().push(Buffer.concat(sent));
  t.match(out, [{ control: false, streamId: 3, flags: 0 }, { control: false, streamId: 3, flags: FLAG_FIN }]);
  t.equal(s.open, 1, 'stream 3 is forgotten once both sides ended (1 still open)');
  s.feed(await syn(4, { streamtype: 'data' }));
  await tick();
  t.match(new FrameReader().push(Buffer.concat(sent)).pop(), { control: true, type: FrameType.rstStream }, 'an even (server-side) id from the client is refused');
  s.feed(controlFrame(FrameType.goaway, 0, Buffer.alloc(8)));
  await tick();
  t.ok(closed, 'GOAWAY closes the session');
});
