// A gRPC app and client run inside test pods (not a test itself), @grpc/grpc-js on both ends:
//   node grpc-echo.js serve PORT VERSION      test.Echo server on 0.0.0.0:PORT; prints `up`
//   node grpc-echo.js call JSON               {target, calls: [{method: 'unary'|'fail'|'list', n?, metadata?}]}
//                                             → one JSON line: per call the reply/messages, status code,
//                                               details, and the trailers (metadata) as received
import * as grpc from '@grpc/grpc-js';

const ser = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
const de = (b: Buffer): any => JSON.parse(b.toString('utf8'));
const method = (name: string, responseStream: boolean) => ({
  path: `/test.Echo/${name}`, requestStream: false, responseStream, originalName: name,
  requestSerialize: ser, requestDeserialize: de, responseSerialize: ser, responseDeserialize: de,
});
const ECHO = { unary: method('Unary', false), fail: method('Fail', false), list: method('List', true) } satisfies grpc.ServiceDefinition;
const Client = grpc.makeGenericClientConstructor(ECHO, 'Echo');

function serve(port: number, version: string): void {
  const server = new grpc.Server();
  const trailer = (): grpc.Metadata => { const m = new grpc.Metadata(); m.set('x-version', version); m.set('x-bin-bin', Buffer.from([0, 1, 254])); return m; };
  server.addService(ECHO, {
    unary: (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => cb(null, { version, got: call.request, path: call.getPath() }, trailer()),
    fail: (_call: any, cb: grpc.sendUnaryData<any>) => cb({ code: grpc.status.NOT_FOUND, details: 'no such book: ü 100%', metadata: trailer() }),
    list: (call: grpc.ServerWritableStream<any, any>) => {
      for (let i = 0; i < (call.request.n ?? 3); i++) call.write({ i, version });
      call.end(trailer());
    },
  });
  server.bindAsync(`0.0.0.0:${port}`, grpc.ServerCredentials.createInsecure(), (e) => {
    if (e) { console.error(e); process.exit(1); }
    console.log('up');
  });
}

const meta = (m: grpc.Metadata | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(m?.getMap() ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? `bin:${v.toString('hex')}` : String(v)]));

async function call(c: any): Promise<unknown[]> {
  const client = new Client(c.target, grpc.credentials.createInsecure()) as any;
  const out: unknown[] = [];
  for (const k of c.calls) {
    const md = new grpc.Metadata();
    for (const [n, v] of Object.entries(k.metadata ?? {})) md.set(n, String(v));
    const deadline = new Date(Date.now() + 10_000);
    if (k.method === 'list') {
      out.push(await new Promise((resolve) => {
        const messages: unknown[] = [];
        const s = client.list({ n: k.n ?? 3 }, md, { deadline });
        s.on('data', (m: unknown) => messages.push(m));
        s.on('status', (st: grpc.StatusObject) => resolve({ messages, code: st.code, details: st.details, trailers: meta(st.metadata) }));
        s.on('error', () => {});
      }));
    } else {
      out.push(await new Promise((resolve) => {
        let trailers: Record<string, string> = {};
        const u = client[k.method]({ hello: 'mesh' }, md, { deadline }, (err: grpc.ServiceError | null, reply: unknown) =>
          setImmediate(() => resolve({ reply: reply ?? null, code: err ? err.code : 0, details: err ? err.details : '', trailers })));
        u.on('status', (st: grpc.StatusObject) => { trailers = meta(st.metadata); });
      }));
    }
  }
  client.close();
  return out;
}

if (process.argv[2] === 'serve') serve(Number(process.argv[3]), process.argv[4] ?? 'v1');
else call(JSON.parse(process.argv[3])).then((r) => { console.log(JSON.stringify(r)); process.exit(0); }, (e) => { console.error(e); process.exit(1); });
