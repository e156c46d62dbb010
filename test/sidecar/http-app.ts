// An HTTP app run inside a test pod (not a test itself): `node http-app.js PORT VERSION [DELAY_MS]`.
// Every request is answered (after DELAY_MS, or ?ms=N) with JSON {version, port, method, url, host,
// headers}; WebSocket connections (ws) echo each message prefixed with the version. Prints `up`.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const version = process.argv[3] ?? 'v1';
const delay = Number(process.argv[4] ?? 0);

const server = createServer((req, res) => {
  const q = new URL(req.url ?? '/', 'http://x').searchParams;
  const ms = Number(q.get('ms') ?? delay);
  const answer = (): void => {
    const body = JSON.stringify({ version, port, method: req.method, url: req.url, host: req.headers.host, headers: req.headers });
    res.writeHead(Number(q.get('status') ?? 200), { 'content-type': 'application/json', 'x-app-version': version });
    res.end(body);
  };
  req.resume();
  req.on('end', () => (ms > 0 ? setTimeout(answer, ms) : answer()));
});
server.keepAliveTimeout = 60_000;
const wss = new WebSocketServer({ server });
wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`${version}:${String(m)}`)));
server.listen(port, '0.0.0.0', () => console.log('up'));
