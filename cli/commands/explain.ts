// `shoal explain request POD URL [-H 'name: value']... [-X METHOD]`: which listener, virtual host, route
// (and why not the earlier ones), weighted destination, subset endpoints, mTLS mode and authorization
// verdict a request from POD would get — computed by POD's own sidecar on its live config (`/explain` of
// its admin, proxy/admin/explain.ts), then by the destination's sidecar for the inbound verdict (its
// `/explain?direction=inbound` with POD's identity): both halves are the proxies' own code and config.
import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import type { Command } from './command.js';
import { adminBase, getJson } from './proxy-status.js';

const MAX_DESTINATIONS = 3;

/** The authorization line of one destination endpoint: its sidecar's verdict, why none, or the error asking it. */
export interface Inbound { endpoint: string; pod: string; verdict?: any; note?: string; error?: string }

/** `name: value` → [name, value]; errors name the flag. */
export function parseHeader(h: string): [string, string] {
  const c = h.indexOf(':');
  if (c <= 0) throw new CliError(`-H ${JSON.stringify(h)}: expected 'name: value'`);
  return [h.slice(0, c).trim(), h.slice(c + 1).trim()];
}

/** The admin /explain query for a request. */
export function explainQuery(url: string, method: string, headers: [string, string][], extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({ url, method });
  for (const [k, v] of headers) q.append('header', `${k}:${v}`);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return `/explain?${q}`;
}

function verdictLine(v: any): string {
  if (!v || v.computable === false) return v?.reason ?? 'not computed';
  return `${v.allow ? 'ALLOW' : 'DENY'} — ${v.reason} (workload ${v.workload}, port ${v.port}, PeerAuthentication ${v.peerAuthentication}, ${v.mtls}${v.policies?.length ? `; policies: ${v.policies.join(', ')}` : '; no AuthorizationPolicy'})`;
}

/** The readable trace (pure): the outbound trace and the inbound verdicts by endpoint. */
export function formatExplain(tr: any, inbound: Inbound[] = []): string {
  const L: string[] = [];
  const r = tr.request ?? {};
  const hs = (r.headers ?? []).map(([k, v]: [string, string]) => `${k}: ${v}`).join(', ');
  L.push(`Request:       ${r.method} ${r.url}${hs ? `  (${hs})` : ''}`);
  if (tr.source) L.push(`Source:        ${tr.source.workload} ${tr.source.identity} (${tr.source.ip})`);
  const li = tr.listener ?? {};
  L.push(`Listener:      ${li.address} (${li.name}) ← original destination ${li.destination}${li.service ? ` (Service ${li.service})` : ''}`);
  if (!tr.virtualHost) {
    L.push(`Result:        ${tr.result}`);
    return L.join('\n') + '\n';
  }
  L.push(`Virtual host:  ${tr.virtualHost.name} (${tr.virtualHost.routes} route${tr.virtualHost.routes === 1 ? '' : 's'})`);
  L.push('Routes:');
  for (const x of tr.routes ?? []) {
    L.push(`  ${x.matched ? '✔' : '✘'} [${x.index}] ${x.name}  (${x.source})`);
    if (x.matched) L.push(`        matched: ${x.match}`);
    else for (const why of x.why ?? []) L.push(`        ${why}`);
  }
  if (tr.result) {
    L.push(`Result:        ${tr.result}`);
    return L.join('\n') + '\n';
  }
  if (tr.rewrite) L.push(`Rewrite:       ${tr.rewrite.authority}${tr.rewrite.path}`);
  L.push('Destinations:');
  for (const d of tr.destinations ?? []) {
    L.push(`  ${d.next ? '→' : ' '} ${d.cluster}  weight ${d.weight}  ${d.lb ?? d.error}${d.subsetLabels && Object.keys(d.subsetLabels).length ? `  subset labels ${Object.entries(d.subsetLabels).map(([k, v]) => `${k}=${v}`).join(',')}` : ''}  ${d.endpoints.length} endpoint${d.endpoints.length === 1 ? '' : 's'}`);
    for (const e of d.endpoints) L.push(`        ${e.address}  ${e.pod ? `${e.namespace}/${e.pod}` : ''}  ${e.mtls}`);
  }
  const p = tr.pick ?? {};
  L.push(`Picked:        ${p.cluster}${p.why ? ` — ${p.why}` : ''}`);
  L.push(`Endpoint:      ${p.endpoint ? `${p.endpoint.address} (${p.endpoint.pod}) — ` : ''}${p.lbNote ?? p.result ?? ''}`);
  for (const m of tr.mtls ?? []) L.push(`mTLS:          ${m.endpoint} ${m.mode}${m.expectedIdentity ? `, expects ${m.expectedIdentity}` : ''}`);
  if (inbound.length) for (const i of inbound) L.push(`Authorization: ${i.endpoint} (${i.pod}): ${i.note ?? (i.error ? `not computed: ${i.error}` : verdictLine(i.verdict))}`);
  else L.push(`Authorization: ${verdictLine(tr.authorization)}`);
  return L.join('\n') + '\n';
}

export const explainCommand: Command = {
  name: 'explain',
  summary: "What a request from a pod would get (listener, route and why, subset, endpoint, mTLS, authorization), from the sidecars' live config",
  usage: "shoal explain request POD URL [-H 'name: value']... [-X METHOD] [-n NS] [-o json] [--admin-url URL] [--dest-admin-url URL]",
  flags: [
    { name: 'header', short: 'H', type: 'strings', help: "a request header 'name: value'; repeatable" },
    { name: 'request', short: 'X', type: 'string', help: 'the method (default GET)' },
    { name: 'admin-url', type: 'string', help: "POD's sidecar admin URL (default: http://<pod IP>:15000)" },
    { name: 'dest-admin-url', type: 'string', help: "the destination sidecar's admin URL for the authorization verdict (default: http://<endpoint IP>:15000)" },
    { name: 'output', short: 'o', type: 'string', help: 'json for the traces', values: ['json'] },
  ],
  async run(ctx: Context, a: Parsed) {
    const [what, target, url, ...rest] = a.positionals;
    if (what !== 'request' || !target || !url || rest.length) throw new CliError("expected: shoal explain request POD URL [-H 'name: value']... [-X METHOD]");
    const headers = ((a.flags.header as string[] | undefined) ?? []).map(parseHeader);
    const method = ((a.flags.request as string | undefined) ?? 'GET').toUpperCase();
    const base = await adminBase(ctx, a, target.replace(/^pods?\//, ''));
    const tr = await getJson(`${base}${explainQuery(url, method, headers)}`);
    // The inbound verdict, from the destination sidecars' own config (the first few endpoints of the pick);
    // an endpoint without a sidecar enforces nothing.
    const inbound: Inbound[] = [];
    if (tr.authorization?.computable === false && tr.destinations) {
      const picked = (tr.destinations as any[]).find((d) => d.next) ?? tr.destinations[0];
      const eps = (picked?.endpoints ?? []).slice(0, MAX_DESTINATIONS);
      const path = tr.rewrite ? tr.rewrite.path : tr.request.path;
      const authority = tr.rewrite ? tr.rewrite.authority : tr.request.authority;
      for (const e of eps) {
        if (e.mtls !== 'HBONE') {
          inbound.push({ endpoint: e.address, pod: `${e.namespace}/${e.pod}`, note: 'ALLOW — no sidecar there (plaintext): no PeerAuthentication or AuthorizationPolicy is enforced' });
          continue;
        }
        const [ip, port] = [e.address.slice(0, e.address.lastIndexOf(':')), e.address.slice(e.address.lastIndexOf(':') + 1)];
        const dest = ((a.flags['dest-admin-url'] as string | undefined) ?? `http://${ip}:15000`).replace(/\/+$/, '');
        const q = explainQuery(`http://${authority}${path}`, method, headers, { direction: 'inbound', port, source: tr.source?.identity ?? '', source_ip: tr.source?.ip ?? '' });
        try {
          inbound.push({ endpoint: e.address, pod: `${e.namespace}/${e.pod}`, verdict: (await getJson(`${dest}${q}`)).inbound });
        } catch (err) {
          inbound.push({ endpoint: e.address, pod: `${e.namespace}/${e.pod}`, error: (err as Error).message });
        }
      }
    }
    if (a.flags.output === 'json') ctx.io.out(JSON.stringify({ ...tr, ...(inbound.length ? { inbound } : {}) }, null, 2) + '\n');
    else ctx.io.out(formatExplain(tr, inbound));
    return tr.error ? 1 : 0;
  },
};
