// An HTTP client run inside a test pod (not a test itself; its connections are captured like an app's).
// `node probe.js JSON`, one command, prints one JSON line:
//   {cmd:'many', url, n, concurrency?}  keep-alive requests → counts by status and by version, every
//                                       request's duration in ms (`ms`, in order of completion), errors
//   {cmd:'get', url, method?, headers?} one request → status, headers, body, ms, error
import { Agent, request } from 'node:http';

interface Reply { status: number; headers: Record<string, unknown>; body: string; ms: number; error: string }

function get(agent: Agent, url: string, method = 'GET', headers: Record<string, string> = {}): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let h: Record<string, unknown> = {};
    const done = (status: number, body: string, error = '') => resolve({ status, headers: h, body, ms: Math.round(performance.now() - t0), error });
    const req = request(url, { agent, method, headers, timeout: 10_000 }, (res) => {
      let body = '';
      h = res.headers;
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => done(res.statusCode ?? 0, body));
      res.on('error', (e) => done(res.statusCode ?? 0, body, e.message));
      res.on('aborted', () => done(res.statusCode ?? 0, body, 'aborted'));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => done(-1, '', (e as NodeJS.ErrnoException).code ?? e.message));
    req.end();
  });
}

async function many(c: any): Promise<unknown> {
  const conc = c.concurrency ?? 4;
  const agent = new Agent({ keepAlive: true, maxSockets: conc });
  const statuses: Record<string, number> = {}, versions: Record<string, number> = {};
  const ms: number[] = [];
  let errors = 0, sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < c.n) {
      sent++;
      const r = await get(agent, c.url);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      let v = `status-${r.status}`;
      try { v = JSON.parse(r.body).version; } catch { /* not JSON */ }
      versions[v] = (versions[v] ?? 0) + 1;
      ms.push(r.ms);
      if (r.error) errors++;
    }
  };
  await Promise.all(Array.from({ length: conc }, worker));
  agent.destroy();
  return { statuses, versions, ms, errors };
}

const c = JSON.parse(process.argv[2]);
const run = c.cmd === 'many' ? many(c) : get(new Agent(), c.url, c.method, c.headers);
run.then((r) => { console.log(JSON.stringify(r)); process.exit(0); }, (e) => { console.error(e); process.exit(1); });
