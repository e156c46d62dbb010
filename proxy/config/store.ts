// The live configuration: validated per type, then compiled into a frozen Snapshot (lookup indexes and
// the authorizer) that the data path reads without locks. Applying a type replaces that type's whole
// state (state of the world, as the discovery stream sends it). A type that fails validation leaves the
// last good snapshot in force and returns the errors (the discovery client NACKs with them).
import { EventEmitter } from 'node:events';
import { Authorizer } from '../authz/evaluate.js';
import { plainIp } from '../net/cidr.js';
import { compileRouteTable } from '../route/compile.js';
import type { RouteTable } from '../route/types.js';
import { validateEndpoints, validateRouteConfig, validateService, validateWorkload } from './validate.js';
import {
  TYPE_ENDPOINTS, TYPE_ROUTES, TYPE_SERVICE, TYPE_URLS, TYPE_WORKLOAD,
  type MeshConfig, type MeshEndpoint, type MeshEndpoints, type MeshService, type RouteConfig, type RoutingConfig, type ServicePort, type Workload,
} from './types.js';

/** A Service port reached at a VIP. */
export interface VipTarget { service: MeshService; port: ServicePort }

/** The frozen, compiled view the listeners use. */
export interface Snapshot {
  readonly config: MeshConfig;
  /** `vip:port` → Service port. */
  readonly vips: ReadonlyMap<string, VipTarget>;
  /** `ns/name` → ready endpoints. */
  readonly endpoints: ReadonlyMap<string, readonly MeshEndpoint[]>;
  /** Pod IP → endpoint record (identity, mesh). */
  readonly pods: ReadonlyMap<string, MeshEndpoint>;
  readonly authorizer: Authorizer;
  /** The layer-7 route table compiled from the Services and the routing objects (proxy/route/). */
  readonly routes: RouteTable;
  /** What the route compiler reported (conflicts, unknown subsets): shown by proxy-config routes, not NACKed. */
  readonly routeWarnings: readonly string[];
  /** Effective PeerAuthentication mode for a port of this workload (STRICT when nothing says otherwise... see peerMode). */
  peerMode(port: number): 'STRICT' | 'PERMISSIVE' | 'DISABLE';
}

function normService(s: MeshService): MeshService {
  return {
    name: s.name, namespace: s.namespace, hostname: s.hostname ?? `${s.name}.${s.namespace}.svc.cluster.local`,
    vips: [...(s.vips ?? [])],
    ports: (s.ports ?? []).map((p) => ({
      name: p.name ?? '', port: p.port, targetPort: p.targetPort ?? p.port, targetPortName: p.targetPortName ?? '',
      protocol: p.protocol || 'TCP', appProtocol: p.appProtocol ?? '',
    })),
  };
}
function normEndpoints(e: MeshEndpoints): MeshEndpoints {
  return {
    service: e.service,
    endpoints: (e.endpoints ?? []).map((ep) => ({
      address: ep.address, ports: (ep.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port })), podName: ep.podName ?? '',
      namespace: ep.namespace ?? '', serviceAccount: ep.serviceAccount ?? '', identity: ep.identity ?? '', mesh: !!ep.mesh,
      labels: { ...(ep.labels ?? {}) }, ready: ep.ready !== false,
    })),
  };
}
function normWorkload(w: Workload): Workload {
  const pa = w.peerAuthentication ?? { mode: '', portModes: {}, sources: [] };
  return {
    name: w.name ?? '', namespace: w.namespace ?? '', serviceAccount: w.serviceAccount ?? '', identity: w.identity ?? '',
    ip: w.ip ?? '', labels: { ...(w.labels ?? {}) },
    peerAuthentication: { mode: pa.mode ?? '', portModes: { ...(pa.portModes ?? {}) }, sources: [...(pa.sources ?? [])] },
    authorization: (w.authorization ?? []).map((p) => ({ ...p, action: p.action || 'ALLOW', rules: p.rules ?? [] })),
    outboundTrafficPolicy: w.outboundTrafficPolicy === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY', sidecar: w.sidecar ?? '',
    jwtRules: (w.jwtRules ?? []).map((r) => ({ ...r, jwks: r.jwks ?? '' })),
  };
}

/** Istio's effective mode: port-level override, else the workload mode; UNSET/'' inherit → PERMISSIVE (Istio's mesh default). */
function modeFor(w: Workload | null, port: number): 'STRICT' | 'PERMISSIVE' | 'DISABLE' {
  const pa = w?.peerAuthentication;
  const pm = pa?.portModes?.[String(port)];
  const m = pm && pm !== 'UNSET' ? pm : pa?.mode;
  return m === 'STRICT' || m === 'DISABLE' ? m : 'PERMISSIVE';
}

/** RouteConfigs → the routing objects by kind (validated before). */
export function routingOf(list: readonly RouteConfig[]): RoutingConfig {
  const out: RoutingConfig = { virtualServices: [], destinationRules: [], httpRoutes: [], grpcRoutes: [] };
  for (const r of list) {
    const o = { metadata: { name: r.name, namespace: r.namespace, creationTimestamp: r.creationTimestamp, resourceVersion: r.resourceVersion }, spec: JSON.parse(r.specJson) };
    if (r.kind === 'VirtualService') out.virtualServices.push(o);
    else if (r.kind === 'DestinationRule') out.destinationRules.push(o);
    else if (r.kind === 'GRPCRoute') out.grpcRoutes.push(o);
    else out.httpRoutes.push(o);
  }
  return out;
}

function compile(config: MeshConfig): Snapshot {
  const vips = new Map<string, VipTarget>();
  for (const s of config.services) for (const v of s.vips) for (const p of s.ports) vips.set(`${v}:${p.port}`, { service: s, port: p });
  const endpoints = new Map<string, MeshEndpoint[]>();
  const pods = new Map<string, MeshEndpoint>();
  for (const e of config.endpoints) {
    endpoints.set(e.service, e.endpoints.filter((ep) => ep.ready));
    // pods only: a ServiceEntry's endpoint (no pod name) is reached through its host, not as a known pod
    for (const ep of e.endpoints) if (ep.podName) pods.set(plainIp(ep.address), ep);
  }
  const authorizer = new Authorizer(config.workload?.authorization ?? []);
  const w = config.workload;
  const { table: routes, errors: routeWarnings } = compileRouteTable({
    services: config.services, virtualServices: config.routing.virtualServices, destinationRules: config.routing.destinationRules,
    httpRoutes: config.routing.httpRoutes, grpcRoutes: config.routing.grpcRoutes,
  });
  return Object.freeze({ config, vips, endpoints, pods, authorizer, routes, routeWarnings: Object.freeze(routeWarnings), peerMode: (port: number) => modeFor(w, port) });
}

/** Holds the live snapshot; emits 'change' (snapshot) after every applied update. */
export class ConfigStore extends EventEmitter {
  private snap: Snapshot = compile({ services: [], endpoints: [], workload: null, routing: { virtualServices: [], destinationRules: [], httpRoutes: [], grpcRoutes: [] }, versions: {} });

  /** The current snapshot. */
  get snapshot(): Snapshot { return this.snap; }

  /** True once every type has been applied at least once. */
  get complete(): boolean {
    return TYPE_URLS.every((t) => this.snap.config.versions[t] !== undefined);
  }

  /**
   * Applies the whole state of one type. Returns the validation errors (nothing applied) or [] when applied.
   * `resources` are the plain typed messages (Service, Endpoints or Workload).
   */
  apply(typeUrl: string, version: string, resources: unknown[]): string[] {
    const cur = this.snap.config;
    let next: MeshConfig;
    if (typeUrl === TYPE_SERVICE) {
      const list = resources as MeshService[];
      const errs = list.flatMap((s, i) => validateService(s, `resources[${i}]`));
      if (errs.length) return errs;
      next = { ...cur, services: list.map(normService) };
    } else if (typeUrl === TYPE_ENDPOINTS) {
      const list = resources as MeshEndpoints[];
      const errs = list.flatMap((e, i) => validateEndpoints(e, `resources[${i}]`));
      if (errs.length) return errs;
      next = { ...cur, endpoints: list.map(normEndpoints) };
    } else if (typeUrl === TYPE_WORKLOAD) {
      if (resources.length !== 1) return [`resources: exactly one Workload expected, got ${resources.length}`];
      const errs = validateWorkload(resources[0] as Workload, 'resources[0]');
      if (errs.length) return errs;
      next = { ...cur, workload: normWorkload(resources[0] as Workload) };
    } else if (typeUrl === TYPE_ROUTES) {
      const list = resources as RouteConfig[];
      const errs = list.flatMap((r, i) => validateRouteConfig(r, `resources[${i}]`));
      if (errs.length) return errs;
      next = { ...cur, routing: routingOf(list) };
    } else {
      return [`typeUrl: unknown type ${JSON.stringify(typeUrl)}`];
    }
    next.versions = { ...cur.versions, [typeUrl]: version };
    this.snap = compile(next);
    this.emit('change', this.snap);
    return [];
  }
}
