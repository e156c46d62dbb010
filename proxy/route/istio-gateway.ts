// Istio's Gateway for the ingress: networking.istio.io/v1 Gateways whose `selector` matches the ingress's
// pod labels (`istio: ingressgateway`, as Istio's samples write it), their servers on the ports the ingress
// serves (HTTP on 80, HTTPS on 443 with `tls.mode: SIMPLE` and `credentialName`), and the VirtualServices
// bound to them (`spec.gateways: [name | ns/name]`) → virtual hosts of a RouteTable keyed by listener port.
// VirtualService routes compile with the mesh's compiler (compile.ts `vsRoutes`, DestinationRule subsets and
// load balancers included), so a weighted subset split behaves at the edge as between sidecars.
// Hosts: a VirtualService host must be covered by a server host (`*`, `*.suffix`, exact; a `ns/` prefix limits
// the VirtualService namespaces, `./` the Gateway's own). Pure; problems come back per object.
import { compileRouteTable, vsRoutes, type KObject, type ServiceInfo } from './compile.js';
import type { Cluster, Route, VirtualHost } from './types.js';

export interface IstioGatewayInput {
  gateways: readonly KObject[];
  virtualServices: readonly KObject[];
  destinationRules?: readonly KObject[];
  services: readonly ServiceInfo[];
  /** The ingress pod's labels (a Gateway's selector must match them). */
  labels: Readonly<Record<string, string>>;
  httpPort?: number;
  httpsPort?: number;
  domain?: string;
}

export interface IstioGatewayResult {
  ports: Map<number, Map<string, VirtualHost>>;
  clusters: Map<string, Cluster>;
  /** TLS: hosts → Secret `ns/name` (credentialName, in the Gateway's namespace). */
  tls: { hosts: string[]; secret: string; gateway: string }[];
  /** Problems by `Kind ns/name`. */
  problems: Map<string, string[]>;
}

const nsOf = (o: KObject) => o.metadata.namespace ?? 'default';
const byAge = (a: KObject, b: KObject) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || `${nsOf(a)}/${a.metadata.name}`.localeCompare(`${nsOf(b)}/${b.metadata.name}`);

/** Does server host `sh` (maybe `ns/host`) admit VirtualService host `h` of namespace `vsNs`? Returns the effective host. */
export function serverAdmits(sh: string, gwNs: string, h: string, vsNs: string): string | undefined {
  let ns = '*', host = sh.toLowerCase();
  const slash = host.indexOf('/');
  if (slash !== -1) { ns = host.slice(0, slash); host = host.slice(slash + 1); }
  if (ns === '.') ns = gwNs;
  if (ns !== '*' && ns !== vsNs) return undefined;
  const v = h.toLowerCase();
  if (host === '*') return v;
  if (v === host) return v;
  if (host.startsWith('*.') && v.endsWith(host.slice(1))) return v;
  if (v.startsWith('*.') && host.endsWith(v.slice(1))) return host;
  return undefined;
}

/** Compiles the Gateways selecting the ingress and the VirtualServices bound to them. */
export function compileIstioGateways(input: IstioGatewayInput): IstioGatewayResult {
  const domain = input.domain ?? 'cluster.local';
  const httpPort = input.httpPort ?? 80, httpsPort = input.httpsPort ?? 443;
  const out: IstioGatewayResult = { ports: new Map(), clusters: new Map(), tls: [], problems: new Map() };
  const report = (id: string, m: string) => { let l = out.problems.get(id); if (!l) out.problems.set(id, (l = [])); l.push(m); };
  const base = compileRouteTable({ services: input.services, destinationRules: input.destinationRules ?? [], domain });
  for (const e of base.errors) if (e.startsWith('DestinationRule')) report(e.slice(0, e.indexOf(':')), e.slice(e.indexOf(':') + 2));
  const svcs = new Map(input.services.map((s) => [s.hostname.toLowerCase(), s]));
  const clusters = new Map(base.table.clusters);

  const ours = [...input.gateways].sort(byAge).filter((g) => {
    const sel: Record<string, string> = g.spec?.selector ?? {};
    return Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => input.labels[k] === v);
  });
  // Servers by port: which gateways serve which hosts there.
  interface Srv { gw: KObject; port: number; hosts: string[] }
  const servers: Srv[] = [];
  for (const g of ours) {
    const id = `Gateway ${nsOf(g)}/${g.metadata.name}`;
    (g.spec?.servers ?? []).forEach((s: any, i: number) => {
      const p = `spec.servers[${i}]`;
      const proto = String(s.port?.protocol ?? '').toUpperCase();
      const num = Number(s.port?.number);
      if ((proto === 'HTTP' || proto === 'HTTP2') && num === httpPort) servers.push({ gw: g, port: httpPort, hosts: s.hosts ?? [] });
      else if (proto === 'HTTPS' && num === httpsPort) {
        servers.push({ gw: g, port: httpsPort, hosts: s.hosts ?? [] });
        const mode = s.tls?.mode ?? 'SIMPLE';
        if (mode !== 'SIMPLE') report(id, `${p}.tls.mode: ${mode} is not supported (SIMPLE only; the default certificate is served)`);
        else if (!s.tls?.credentialName) report(id, `${p}.tls.credentialName: required (the default certificate is served)`);
        else out.tls.push({ hosts: (s.hosts ?? []).map((h: string) => h.slice(h.indexOf('/') + 1).toLowerCase()), secret: `${nsOf(g)}/${s.tls.credentialName}`, gateway: `${nsOf(g)}/${g.metadata.name}` });
      } else report(id, `${p}.port: the ingress serves HTTP on ${httpPort} and HTTPS on ${httpsPort}, not ${proto} ${num} (server ignored)`);
    });
  }

  const hostsByPort = new Map<number, Map<string, Route[]>>();
  for (const vs of [...input.virtualServices].sort(byAge)) {
    const vns = nsOf(vs);
    const id = `VirtualService ${vns}/${vs.metadata.name}`;
    const refs: string[] = vs.spec?.gateways ?? [];
    for (const ref of refs) {
      if (ref === 'mesh') continue;
      const [gns, gname] = ref.includes('/') ? ref.split('/') : [vns, ref];
      const srvs = servers.filter((s) => nsOf(s.gw) === gns && s.gw.metadata.name === gname);
      if (srvs.length === 0) {
        if (!input.gateways.some((g) => nsOf(g) === gns && g.metadata.name === gname)) report(id, `spec.gateways: Gateway ${gns}/${gname} not found`);
        continue;
      }
      for (const s of srvs) {
        const errs: string[] = [];
        const routes = vsRoutes(vs, s.port, domain, svcs, clusters, errs);
        for (const e of new Set(errs)) report(id, e);
        for (const h of vs.spec?.hosts ?? []) {
          const eff = s.hosts.map((sh) => serverAdmits(sh, gns, h, vns)).find((x) => x !== undefined);
          if (!eff) { report(id, `spec.hosts: ${h} is not served by Gateway ${gns}/${gname} on port ${s.port}`); continue; }
          let m = hostsByPort.get(s.port);
          if (!m) hostsByPort.set(s.port, (m = new Map()));
          const key = eff === '*' ? '*' : eff;
          if (!m.has(key)) m.set(key, routes); // the oldest VirtualService for a host wins, as Istio does
        }
      }
    }
  }
  for (const [port, byHost] of hostsByPort) {
    const m = new Map<string, VirtualHost>();
    for (const [host, routes] of byHost) m.set(host, Object.freeze({ name: `${host}:${port}`, domains: [host], routes: Object.freeze(routes) }));
    out.ports.set(port, m);
  }
  out.clusters = clusters;
  return out;
}
