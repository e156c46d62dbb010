// `shoal proxy-status [POD[.NS]]` (istioctl proxy-status): every connected proxy and, per config type,
// whether it has ACKed what mesh control sent (SYNCED), not yet (STALE), or rejected it (NACKED), with
// the last push and the NACK reasons; from mesh control's /debug/syncz (:15014). `shoal proxy-config
// clusters|endpoints|listeners|routes|secret POD` reads the pod's sidecar admin (<podIP>:15000); routes is
// its live route table (/config_dump?resource=routes), one row per route as `istioctl proxy-config routes`.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Parsed } from '../args.js';
import { type Context, homeOf } from '../context.js';
import { CliError } from '../errors.js';
import { formatRows } from '../printers/table.js';
import type { Command } from './command.js';

const TYPES: [string, string][] = [['SERVICES', 'type.shoal.io/shoal.mesh.v1.Service'], ['ENDPOINTS', 'type.shoal.io/shoal.mesh.v1.Endpoints'], ['WORKLOAD', 'type.shoal.io/shoal.mesh.v1.Workload'], ['ROUTES', 'type.shoal.io/shoal.mesh.v1.RouteConfig']];

/** One /debug/syncz entry (control-plane/mesh/xds/server.ts SyncStatus). */
export interface SyncEntry {
  proxyId: string;
  pod: string;
  namespace: string;
  connectedAtMs?: number;
  types: Record<string, { sent: string; acked: string; nonce: string; lastPushMs: number; nack?: { version: string; nonce: string; message: string; atMs: number } }>;
}

/** Where mesh control's monitoring port is: --mesh-url, $SHOAL_MESH_URL, the cluster's ports.json, or :15014. */
export function meshUrl(ctx: Context, a: Parsed): string {
  const flag = a.flags['mesh-url'] as string | undefined;
  if (flag) return flag.replace(/\/+$/, '');
  if (ctx.io.env.SHOAL_MESH_URL) return ctx.io.env.SHOAL_MESH_URL.replace(/\/+$/, '');
  const pf = join(homeOf(ctx.global, ctx.io.env), 'run', 'ports.json');
  const port = existsSync(pf) ? Number((JSON.parse(readFileSync(pf, 'utf8')) as Record<string, number>).meshDebug ?? 15014) : 15014;
  if (!port) throw new CliError('mesh control is not running in this cluster (shoal up --no-mesh)');
  return `http://127.0.0.1:${port}`;
}

function ago(ms: number, now: number): string {
  if (!ms) return '-';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

/** The table and the NACK lines (pure). */
export function formatProxyStatus(entries: SyncEntry[], now: number): string {
  const rows = entries.map((e) => {
    const cells = TYPES.map(([, t]) => {
      const s = e.types[t];
      if (!s) return 'NOT SENT';
      if (s.nack) return `NACKED (${s.acked.slice(0, 8) || '-'})`;
      return s.acked === s.sent ? `SYNCED (${s.sent.slice(0, 8)})` : `STALE (${s.acked.slice(0, 8) || '-'} < ${s.sent.slice(0, 8)})`;
    });
    const last = Math.max(0, ...Object.values(e.types).map((s) => s.lastPushMs));
    return [e.proxyId, ...cells, ago(last, now)];
  });
  let out = formatRows(['NAME', ...TYPES.map(([n]) => n), 'LAST PUSH'], rows);
  const nacks = entries.flatMap((e) => Object.entries(e.types).filter(([, s]) => s.nack).map(([t, s]) => `  ${e.proxyId} ${t.split('.').pop()} version ${s.nack!.version.slice(0, 8)} rejected ${ago(s.nack!.atMs, now)} ago: ${s.nack!.message}`));
  if (nacks.length) out += `\nNACKs:\n${nacks.join('\n')}\n`;
  return out;
}

/** GET `url` as JSON; a connection failure or non-2xx is a CliError naming the URL. */
export async function getJson(url: string): Promise<any> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (e) {
    throw new CliError(`${url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
  }
  if (!res.ok) throw new CliError(`${url}: HTTP ${res.status}: ${(await res.text()).trim()}`);
  return res.json();
}

export const proxyStatusCommand: Command = {
  name: 'proxy-status',
  aliases: ['ps'],
  summary: "Each sidecar's config sync state with mesh control (acked versions, last push, NACKs)",
  usage: 'shoal proxy-status [POD[.NAMESPACE]] [--mesh-url URL] [-o json]',
  flags: [
    { name: 'mesh-url', type: 'string', help: "mesh control's monitoring URL (default: the cluster's, :15014)" },
    { name: 'output', short: 'o', type: 'string', help: 'json for the raw /debug/syncz document', values: ['json'] },
  ],
  async run(ctx: Context, a: Parsed) {
    let entries = (await getJson(`${meshUrl(ctx, a)}/debug/syncz`)) as SyncEntry[];
    const want = a.positionals[0];
    if (want) entries = entries.filter((e) => e.proxyId === want || e.proxyId === `${want}.${ctx.global.namespace || 'default'}` || e.pod === want);
    if (a.flags.output === 'json') ctx.io.out(JSON.stringify(entries, null, 2) + '\n');
    else if (!entries.length) ctx.io.out(want ? `no connected proxy ${want}\n` : 'No proxies connected.\n');
    else ctx.io.out(formatProxyStatus(entries, ctx.io.now().getTime()));
    return want && !entries.length ? 1 : 0;
  },
};

// ------------------------------------------------------------------------------------------ proxy-config

/** The parts of the sidecar admin this reads (proxy/admin/server.ts: /config_dump, /clusters, /config_dump?resource=routes). */
export interface AdminDump {
  configDump: any;
  clusters?: any;
  routes?: any;
}

const VIEWS = ['clusters', 'endpoints', 'listeners', 'routes', 'secret'];

/** Domains as istioctl abbreviates them: the shortest name and how many more. */
function domainsCell(domains: string[]): string {
  const names = domains.filter((d) => !/:\d+$/.test(d) && !/^[0-9.]+$|^\[/.test(d)).sort((a, b) => a.length - b.length);
  const first = names[0] ?? domains[0] ?? '';
  return domains.length > 1 ? `${first} + ${domains.length - 1} more...` : first;
}

/** `proxy-config routes`: NAME (port), VHOST NAME, DOMAINS, MATCH, VIRTUAL SERVICE; one row per route (pure). */
export function formatRoutes(dump: any): string {
  const rows: string[][] = [];
  for (const port of dump?.routes ?? [])
    for (const vh of port.virtualHosts ?? [])
      for (const r of vh.routes ?? []) rows.push([port.name, vh.name, domainsCell(vh.domains ?? []), (r.match ?? []).join(' || '), r.origin || (r.name === 'default' ? '' : r.source ?? '')]);
  let out = formatRows(['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'], rows);
  const w: string[] = dump?.routeWarnings ?? [];
  if (w.length) out += `\nWarnings (route table compiled; these parts were dropped or ignored):\n${w.map((x) => `  ${x}`).join('\n')}\n`;
  return out;
}

/** The sidecar admin base URL of `podName` in `ns`: --admin-url, else http://<pod IP>:15000 (the pod must have a sidecar). */
export async function adminBase(ctx: Context, a: Parsed, podName: string): Promise<string> {
  const flag = a.flags['admin-url'] as string | undefined;
  if (flag) return flag.replace(/\/+$/, '');
  const pod: any = await ctx.client.get({ apiVersion: 'v1', plural: 'pods', namespaced: true }, podName, { namespace: ctx.namespace });
  const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c: any) => c.name);
  if (!names.includes('istio-proxy')) throw new CliError(`pod ${ctx.namespace}/${podName} has no sidecar (no istio-proxy container)`);
  if (!pod.status?.podIP) throw new CliError(`pod ${ctx.namespace}/${podName} has no IP yet`);
  return `http://${pod.status.podIP}:15000`;
}

/** One of the four views (pure). */
export function formatProxyConfig(what: string, d: AdminDump): string {
  const cd = d.configDump ?? {};
  if (what === 'clusters') {
    const list: any[] = d.clusters?.clusters ?? [];
    const rows = list.map((c) => {
      const [dir, port, , host] = String(c.name).split('|');
      return [host ?? c.name, port ?? '', dir ?? '', 'EDS', String((c.endpoints ?? []).length), (c.vips ?? []).join(',')];
    });
    return formatRows(['SERVICE FQDN', 'PORT', 'DIRECTION', 'TYPE', 'ENDPOINTS', 'VIPS'], rows);
  }
  if (what === 'endpoints') {
    const rows: string[][] = [];
    for (const c of d.clusters?.clusters ?? []) for (const e of c.endpoints ?? []) rows.push([`${e.address}:${e.port ?? ''}`, e.ready === false ? 'UNHEALTHY' : 'HEALTHY', c.name, e.identity || '-', e.mesh ? 'HBONE' : 'PLAINTEXT']);
    return formatRows(['ENDPOINT', 'STATUS', 'CLUSTER', 'IDENTITY', 'PROTOCOL'], rows);
  }
  if (what === 'listeners') {
    const pa = cd.workload?.peerAuthentication ?? {};
    const ports = Object.entries(pa.portModes ?? {}).map(([p, m]) => [`0.0.0.0:15006`, `Inbound: port ${p}`, `mTLS ${m}`]);
    const rows = [
      ['0.0.0.0:15001', 'Outbound: all captured TCP', 'original destination → Service endpoint (HBONE to mesh pods)'],
      ['0.0.0.0:15006', 'Inbound: all other ports', `mTLS ${pa.mode ?? 'PERMISSIVE'}${(pa.sources ?? []).length ? ` (${pa.sources.join(', ')})` : ''}`],
      ...ports,
      ['0.0.0.0:15008', 'HBONE (mTLS HTTP/2 CONNECT)', `authz: ${(cd.authorization ?? []).length} policies`],
      ['0.0.0.0:15000', 'Admin', '/config_dump /clusters /certs /stats'],
      ['0.0.0.0:15021', 'Health', '/healthz/ready'],
      ['0.0.0.0:15090', 'Prometheus', '/stats/prometheus'],
    ];
    return formatRows(['ADDRESS:PORT', 'MATCH', 'DESTINATION'], rows);
  }
  if (what === 'routes') return formatRoutes(d.routes);
  if (what === 'secret') {
    const certs: any[] = cd.certificates?.certificates ?? [];
    const rows = certs.map((c) => ['default', 'Cert Chain', 'ACTIVE', 'true', String(c.serial_number ?? ''), String(c.expiration_time ?? ''), String(c.valid_from ?? ''), String(c.identity ?? '')]);
    if (!rows.length) rows.push(['default', 'Cert Chain', 'WARMING', 'false', '', '', '', cd.certificates?.last_error ?? '']);
    return formatRows(['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE', 'IDENTITY'], rows);
  }
  throw new CliError(`unknown view ${JSON.stringify(what)}: one of ${VIEWS.join(', ')}`);
}

export const proxyConfigCommand: Command = {
  name: 'proxy-config',
  aliases: ['pc'],
  summary: "A sidecar's live configuration: clusters, endpoints, listeners, routes or secret (its certificate)",
  usage: 'shoal proxy-config clusters|endpoints|listeners|routes|secret POD [-n NS] [-o json] [--admin-url URL]',
  flags: [
    { name: 'admin-url', type: 'string', help: "the sidecar admin URL (default: http://<pod IP>:15000)" },
    { name: 'output', short: 'o', type: 'string', help: 'json for the raw admin documents', values: ['json'] },
  ],
  async run(ctx: Context, a: Parsed) {
    const [what, target, ...rest] = a.positionals;
    if (!what || !target || rest.length) throw new CliError(`expected: shoal proxy-config ${VIEWS.join('|')} POD`);
    if (!VIEWS.includes(what)) throw new CliError(`unknown view ${JSON.stringify(what)}: one of ${VIEWS.join(', ')}`);
    const base = await adminBase(ctx, a, target.replace(/^pods?\//, ''));
    if (what === 'routes') {
      const routes = await getJson(`${base}/config_dump?resource=routes`);
      ctx.io.out(a.flags.output === 'json' ? JSON.stringify(routes, null, 2) + '\n' : formatRoutes(routes));
      return 0;
    }
    const d: AdminDump = { configDump: await getJson(`${base}/config_dump`) };
    if (what === 'clusters' || what === 'endpoints') d.clusters = await getJson(`${base}/clusters`);
    if (a.flags.output === 'json') ctx.io.out(JSON.stringify(what === 'clusters' || what === 'endpoints' ? d.clusters : what === 'secret' ? d.configDump.certificates : d.configDump, null, 2) + '\n');
    else ctx.io.out(formatProxyConfig(what, d));
    return 0;
  },
};
