// Request-head parsing cost: Node's llhttp binding (the parser node:http uses, reached through
// `require('_http_common').HTTPParser`, which is still accessible in Node 20 without a deprecation
// warning — `process.binding('http_parser')` warns, DEP0111) against proxy/http1/parse.ts, on the same
// pipelined buffer. Not a test: prints heads per second for each. `node dist/bench/proxy-l7/parse.js [seconds]`
import { createRequire } from 'node:module';
import { parseRequestHead } from '../../proxy/http1/parse.js';

const require = createRequire(import.meta.url);
const seconds = Number(process.argv[2] ?? 2);
const one = 'GET /api/v1/reviews/0?x=1 HTTP/1.1\r\nHost: reviews.default.svc.cluster.local:9080\r\nUser-Agent: wrk/4.2\r\n' +
  'Accept: */*\r\nx-request-id: 5b1e6b3c-8f9a-4c2d-9e0f-1a2b3c4d5e6f\r\nend-user: jason\r\n\r\n';
const batch = Buffer.from(one.repeat(100), 'latin1');

function run(name: string, parseBatch: () => number): number {
  let n = 0;
  const t0 = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() - t0 < limit) for (let k = 0; k < 20; k++) n += parseBatch();
  const rate = n / (Number(process.hrtime.bigint() - t0) / 1e9);
  console.log(`${name.padEnd(36)} ${(rate / 1e6).toFixed(2)} M heads/s`);
  return rate;
}

const own = () => {
  let off = 0, n = 0;
  while (off < batch.length) {
    const r = parseRequestHead(batch, off);
    if (r.kind !== 'ok') throw new Error(r.kind);
    if (r.head.host.length === 0) throw new Error('host');
    off = r.end;
    n++;
  }
  return n;
};

const { HTTPParser } = require('_http_common');
const parser = new HTTPParser();
let seen = 0;
let host = '';
parser.initialize(HTTPParser.REQUEST, {});
parser[HTTPParser.kOnHeadersComplete] = (_maj: number, _min: number, headers: string[]) => {
  for (let i = 0; i < headers.length; i += 2) if (headers[i].length === 4 && headers[i].toLowerCase() === 'host') host = headers[i + 1];
  seen++;
};
parser[HTTPParser.kOnMessageComplete] = () => {};
const llhttp = () => {
  const before = seen;
  parser.execute(batch);
  if (!host) throw new Error('host');
  return seen - before;
};

const a = run('llhttp (_http_common.HTTPParser)', llhttp);
const b = run('proxy/http1 parseRequestHead', own);
console.log(`ratio own/llhttp ${(b / a).toFixed(2)}`);
