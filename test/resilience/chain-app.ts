// An HTTP app of a call chain run inside a test pod (not a test itself): `node chain-app.js PORT NAME
// [NEXT_URL]`. Each request is answered with JSON {name, next}; with NEXT_URL the app first calls it,
// copying the trace headers (traceparent, tracestate, b3, x-b3-*) and x-request-id as Istio asks apps to,
// and puts that answer in `next`. Prints `up`.
import { createServer, request } from 'node:http';

const [port, name, next] = [Number(process.argv[2]), process.argv[3] ?? 'app', process.argv[4]];
const PROPAGATE = ['traceparent', 'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'x-request-id'];

createServer((req, res) => {
  req.resume();
  const answer = (nextBody: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name, traceparent: req.headers.traceparent ?? null, next: nextBody }));
  };
  if (!next) return answer(null);
  const headers: Record<string, string> = {};
  for (const h of PROPAGATE) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h] as string;
  const q = request(next, { headers, timeout: 5000 }, (r) => {
    let b = '';
    r.setEncoding('utf8');
    r.on('data', (d) => (b += d));
    r.on('end', () => { try { answer(JSON.parse(b)); } catch { answer(b); } });
  });
  q.on('error', (e) => answer(`error: ${e.message}`));
  q.end();
}).listen(port, '0.0.0.0', () => console.log('up'));
