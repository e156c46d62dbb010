// An HTTP client run inside a test pod (not a test itself): its connections are captured like an app's.
// `node http-probe.js JSON` with one command, prints one JSON line:
//   {cmd:'many', url, n, concurrency?, headers?, cookies?: true}  keep-alive requests → counts by version and
//        status, the first Set-Cookie, and (cookies) the versions seen after sending that cookie back
//   {cmd:'get', url, method?, headers?}                          one request → status, headers, body
//   {cmd:'ws', url, messages}                                    WebSocket → the echoed messages
//   {cmd:'raw', host, port, data (base64)}                        raw bytes → the raw reply (latin1)
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { WebSocket } from 'ws';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function get(agent: Agent, url: string, method = 'GET', headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve) => {
    const req = request(url, { agent, method, headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', (e) => resolve({ status: -1, headers: {}, body: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: -1, headers: {}, body: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end();
  });
}

const versionOf = (r: Reply): string => { try { return JSON.parse(r.body).version; } catch { return `status-${r.status}`; } };

async function many(c: any): Promise<unknown> {
  const agent = new Agent({ keepAlive: true, maxSockets: c.concurrency ?? 4 });
  const versions: Record<string, number> = {}, statuses: Record<string, number> = {};
  let setCookie: string | undefined;
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < c.n) {
      sent++;
      const headers = { ...(c.headers ?? {}) };
      if (c.cookies && setCookie) headers.cookie = setCookie.split(';')[0];
      const r = await get(agent, c.url, 'GET', headers);
      if (!setCookie && r.headers['set-cookie']) setCookie = String(r.headers['set-cookie']);
      const v = versionOf(r);
      versions[v] = (versions[v] ?? 0) + 1;
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: c.concurrency ?? 4 }, worker));
  agent.destroy();
  return { versions, statuses, setCookie: setCookie ?? null };
}

function ws(c: any): Promise<unknown> {
  return new Promise((resolve) => {
    const sock = new WebSocket(c.url);
    const got: string[] = [];
    const timer = setTimeout(() => { sock.terminate(); resolve({ got, error: 'timeout' }); }, 10_000);
    sock.on('open', () => { for (const m of c.messages) sock.send(m); });
    sock.on('message', (m) => {
      got.push(String(m));
      if (got.length === c.messages.length) { clearTimeout(timer); sock.close(); resolve({ got, error: '' }); }
    });
    sock.on('error', (e) => { clearTimeout(timer); resolve({ got, error: e.message }); });
  });
}

function raw(c: any): Promise<unknown> {
  return new Promise((resolve) => {
    const s = connect({ host: c.host, port: c.port });
    let got = '';
    const timer = setTimeout(() => { s.destroy(); resolve({ reply: got, closed: false }); }, 3000);
    s.on('connect', () => s.write(Buffer.from(c.data, 'base64')));
    s.on('data', (d) => { got += d.toString('latin1'); });
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(timer); resolve({ reply: got, closed: true }); });
  });
}

const c = JSON.parse(process.argv[2]);
const run = c.cmd === 'many' ? many(c) : c.cmd === 'ws' ? ws(c) : c.cmd === 'raw' ? raw(c) : get(new Agent(), c.url, c.method, c.headers);
run.then((r) => { console.log(JSON.stringify(r)); process.exit(0); }, (e) => { console.error(e); process.exit(1); });
