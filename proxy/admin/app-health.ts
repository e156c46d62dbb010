// The app's probes, run by the sidecar (Istio's `/app-health` on the status port :15020). Under STRICT
// mTLS the kubelet's plaintext probe of an app port is captured and refused, so the injector
// (inject/probes.ts) rewrites each app container's httpGet/tcpSocket probe to
// `httpGet :15020/app-health/<container>/readyz|livez|startupz` and hands the original probes over in the
// env ISTIO_KUBE_APP_PROBERS (MESH-CONTRACT.md, amendment 3). This module parses that env once at startup
// and answers each path by running the original probe from the proxy process (UID 1337: its connections
// are not captured) against 127.0.0.1 (or the probe's `host`) within `timeoutSeconds`, as the kubelet
// would: httpGet succeeds on 2xx/3xx (redirects are not followed; HTTPS without verifying the
// certificate; the probe's httpHeaders sent, `Host` included), tcpSocket on connect. 200 on success, 503
// with a short reason otherwise; a path that is not in the map is the server's 404.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';

/** One original probe as the injector hands it over. */
export interface AppProber {
  httpGet?: { path: string; port: number; scheme: 'HTTP' | 'HTTPS'; host?: string; httpHeaders?: { name: string; value: string }[] };
  tcpSocket?: { port: number; host?: string };
  timeoutSeconds: number;
}

/** Path (`/app-health/<container>/<readyz|livez|startupz>`) → probe. Frozen. */
export type AppProbers = Readonly<Record<string, Readonly<AppProber>>>;

/** The result of one probe run. */
export interface ProbeResult { ok: boolean; reason: string }

const PATH = /^\/app-health\/[a-z0-9]([-a-z0-9]*[a-z0-9])?\/(readyz|livez|startupz)$/;
/** The user agent the kubelet sends (`kube-probe/<major>.<minor>`). */
const USER_AGENT = 'kube-probe/1.32';

function isPort(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65535;
}

/**
 * Parses ISTIO_KUBE_APP_PROBERS. Empty/undefined → no probers. Every problem is collected, each naming
 * its key: `ISTIO_KUBE_APP_PROBERS["/app-health/web/readyz"].httpGet.port: must be a port …`.
 */
export function parseAppProbers(text: string | undefined): { probers: AppProbers; problems: string[] } {
  const problems: string[] = [];
  if (!text || !text.trim()) return { probers: Object.freeze({}), problems };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { probers: Object.freeze({}), problems: [`ISTIO_KUBE_APP_PROBERS: not JSON (${(e as Error).message})`] };
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    return { probers: Object.freeze({}), problems: ['ISTIO_KUBE_APP_PROBERS: must be a JSON object of path → probe'] };
  }
  const out: Record<string, AppProber> = {};
  for (const [key, v] of Object.entries(raw as Record<string, unknown>)) {
    const at = `ISTIO_KUBE_APP_PROBERS[${JSON.stringify(key)}]`;
    const bad = (field: string, msg: string): void => { problems.push(`${at}${field}: ${msg}`); };
    if (!PATH.test(key)) { bad('', 'the key must be /app-health/<container>/readyz|livez|startupz'); continue; }
    if (!v || typeof v !== 'object' || Array.isArray(v)) { bad('', 'must be an object with httpGet or tcpSocket'); continue; }
    const p = v as Record<string, any>;
    for (const k of Object.keys(p)) if (!['httpGet', 'tcpSocket', 'timeoutSeconds'].includes(k)) bad(`.${k}`, 'unknown field');
    const timeoutSeconds = p.timeoutSeconds ?? 1;
    if (typeof timeoutSeconds !== 'number' || !(timeoutSeconds > 0) || timeoutSeconds > 3600) bad('.timeoutSeconds', `must be a number of seconds > 0, got ${JSON.stringify(p.timeoutSeconds)}`);
    if (!!p.httpGet === !!p.tcpSocket) { bad('', 'must have exactly one of httpGet, tcpSocket'); continue; }
    if (p.httpGet) {
      const h = p.httpGet as Record<string, any>;
      if (typeof h !== 'object') { bad('.httpGet', 'must be an object'); continue; }
      if (!isPort(h.port)) bad('.httpGet.port', `must be a port number between 1 and 65535, got ${JSON.stringify(h.port)}`);
      const path = h.path ?? '/';
      if (typeof path !== 'string' || !path.startsWith('/')) bad('.httpGet.path', `must start with /, got ${JSON.stringify(h.path)}`);
      const scheme = String(h.scheme ?? 'HTTP').toUpperCase();
      if (scheme !== 'HTTP' && scheme !== 'HTTPS') bad('.httpGet.scheme', `must be HTTP or HTTPS, got ${JSON.stringify(h.scheme)}`);
      if (h.host !== undefined && (typeof h.host !== 'string' || !h.host)) bad('.httpGet.host', 'must be a non-empty string');
      const headers = h.httpHeaders ?? [];
      if (!Array.isArray(headers)) bad('.httpGet.httpHeaders', 'must be a list of {name, value}');
      else headers.forEach((x: any, i: number) => {
        if (!x || typeof x.name !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(x.name) || typeof x.value !== 'string') {
          bad(`.httpGet.httpHeaders[${i}]`, 'must be {name: a header name, value: a string}');
        }
      });
      out[key] = {
        httpGet: { path, port: h.port, scheme: scheme as 'HTTP' | 'HTTPS', ...(h.host ? { host: h.host } : {}), ...(headers.length ? { httpHeaders: headers } : {}) },
        timeoutSeconds,
      };
    } else {
      const t = p.tcpSocket as Record<string, any>;
      if (!t || typeof t !== 'object' || !isPort(t.port)) { bad('.tcpSocket.port', `must be a port number between 1 and 65535, got ${JSON.stringify(t?.port)}`); continue; }
      out[key] = { tcpSocket: { port: t.port, ...(t.host ? { host: t.host } : {}) }, timeoutSeconds };
    }
  }
  for (const p of Object.values(out)) Object.freeze(p);
  return { probers: Object.freeze(out), problems };
}

/** Runs one probe (never rejects). */
export function runProbe(p: AppProber): Promise<ProbeResult> {
  const timeoutMs = Math.round(p.timeoutSeconds * 1000);
  return new Promise((resolve) => {
    let settled = false;
    let cleanup = (): void => {};
    const done = (ok: boolean, reason: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      cleanup();
      resolve({ ok, reason });
    };
    const timer = setTimeout(() => done(false, `timeout after ${p.timeoutSeconds}s`), timeoutMs);
    if (p.tcpSocket) {
      const host = p.tcpSocket.host ?? '127.0.0.1';
      const s = netConnect({ host, port: p.tcpSocket.port });
      cleanup = () => s.destroy();
      s.once('connect', () => done(true, `tcp ${host}:${p.tcpSocket!.port} connected`));
      s.once('error', (e) => done(false, `tcp ${host}:${p.tcpSocket!.port}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
      return;
    }
    const g = p.httpGet!;
    const host = g.host ?? '127.0.0.1';
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: '*/*', host: `${host.includes(':') ? `[${host}]` : host}:${g.port}` };
    for (const h of g.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
    const opts = { host, port: g.port, path: g.path, method: 'GET', headers, agent: false as const };
    const req = g.scheme === 'HTTPS' ? httpsRequest({ ...opts, rejectUnauthorized: false }) : httpRequest(opts);
    cleanup = () => req.destroy();
    const what = `${g.scheme} GET ${host}:${g.port}${g.path}`;
    req.once('response', (res: IncomingMessage) => {
      const code = res.statusCode ?? 0;
      res.resume();
      done(code >= 200 && code < 400, `${what}: ${code}`);
    });
    req.once('error', (e) => done(false, `${what}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    req.end();
  });
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** The :15020 routes, one per listed probe path (unlisted paths fall to the server's 404). */
export function appHealthRoutes(probers: AppProbers, run: (p: AppProber) => Promise<ProbeResult> = runProbe): Record<string, Handler> {
  return Object.fromEntries(Object.entries(probers).map(([path, p]) => [path, async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('method not allowed\n');
      return;
    }
    const r = await run(p);
    res.writeHead(r.ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${r.reason}\n`);
  }]));
}
