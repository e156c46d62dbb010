// From what the ingress watches to what it serves, in one pure step: which Ingresses are this
// controller's (IngressClass), the Ingress and Gateway API compilers (proxy/route/ingress.ts, gateway.ts)
// and the Istio Gateway compiler (istio-gateway.ts) merged into one RouteTable keyed by the logical listener ports (80, 443), the TLS certificates by host,
// and the status and problems to write back. The controller (controller.ts) runs it on every change.
import type { ServiceInfo } from '../proxy/route/compile.js';
import { compileGateways, type GatewayCompileResult, type GwObject } from '../proxy/route/gateway.js';
import { compileIngresses, type IngressObject, type IngressTls } from '../proxy/route/ingress.js';
import { compileIstioGateways, type IstioGatewayResult } from '../proxy/route/istio-gateway.js';
import type { KObject } from '../proxy/route/compile.js';
import type { Cluster, RouteTable, VirtualHost } from '../proxy/route/types.js';
import type { MeshService } from '../proxy/config/types.js';

/** The IngressClass annotation that makes a class the default one. */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** The legacy class annotation (still honoured by ingress-nginx). */
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

export const HTTP_PORT = 80;
export const HTTPS_PORT = 443;

export interface Watched {
  services: readonly MeshService[];
  ingresses: readonly IngressObject[];
  ingressClasses: readonly { metadata: { name: string; annotations?: Record<string, string> }; spec?: any }[];
  gatewayClasses: readonly GwObject[];
  gateways: readonly GwObject[];
  httpRoutes: readonly GwObject[];
  referenceGrants: readonly GwObject[];
  namespaces: ReadonlyMap<string, Record<string, string>>;
  /** networking.istio.io/v1 Gateways, VirtualServices and DestinationRules. */
  istioGateways?: readonly KObject[];
  virtualServices?: readonly KObject[];
  destinationRules?: readonly KObject[];
  secretProblem: (ns: string, name: string) => string | undefined;
}

export interface Settings {
  /** IngressClass controller this process implements (spec.controller). */
  ingressController: string;
  /** GatewayClass controllerName this process implements. */
  gatewayController: string;
  /** The port a redirect to https names (443: none). */
  redirectPort: number;
  /** Address written into status. */
  address: string;
  /** The ingress pod's labels an Istio Gateway's selector must match (default `istio: ingressgateway`). */
  istioLabels?: Readonly<Record<string, string>>;
}

export interface IngressConfig {
  table: RouteTable;
  /** TLS: hosts → Secret `ns/name` (Ingress first, then Gateways; oldest first). */
  tls: { hosts: string[]; secret: string; owner: string }[];
  /** The Ingresses this controller serves (`ns/name`) and their problems. */
  ingresses: Map<string, string[]>;
  gateway: GatewayCompileResult;
  istio: IstioGatewayResult;
  ingressTls: IngressTls[];
}

/** Is this Ingress ours: its class, the legacy annotation, or no class while ours is the default. */
export function isOurs(ing: IngressObject, classes: Watched['ingressClasses'], controller: string): boolean {
  const ourClasses = classes.filter((c) => c.spec?.controller === controller);
  const named = ing.spec?.ingressClassName ?? ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (named) return ourClasses.some((c) => c.metadata.name === named);
  const defaults = classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
  return defaults.length === 1 && defaults[0].spec?.controller === controller;
}

const toInfo = (s: MeshService): ServiceInfo => ({ name: s.name, namespace: s.namespace, hostname: s.hostname, vips: s.vips, ports: s.ports });

/** Builds the whole served configuration. */
export function buildConfig(w: Watched, s: Settings): IngressConfig {
  const services = w.services.map(toInfo);
  const mine = w.ingresses.filter((i) => isOurs(i, w.ingressClasses, s.ingressController));
  const ing = compileIngresses({ services, ingresses: mine, httpPort: HTTP_PORT, httpsPort: HTTPS_PORT, redirectPort: s.redirectPort });
  const gw = compileGateways({
    controllerName: s.gatewayController, gatewayClasses: w.gatewayClasses, gateways: w.gateways, httpRoutes: w.httpRoutes,
    referenceGrants: w.referenceGrants, services, namespaces: w.namespaces, httpPorts: [HTTP_PORT], httpsPorts: [HTTPS_PORT],
    secretProblem: w.secretProblem, address: s.address,
  });
  const istio = compileIstioGateways({
    gateways: w.istioGateways ?? [], virtualServices: w.virtualServices ?? [], destinationRules: w.destinationRules ?? [], services,
    labels: s.istioLabels ?? { istio: 'ingressgateway' }, httpPort: HTTP_PORT, httpsPort: HTTPS_PORT,
  });
  // One table: an Ingress host and a Gateway hostname that coincide keep the Ingress's routes first.
  const ports = new Map<number, Map<string, VirtualHost>>();
  for (const src of [ing.ports, gw.ports, istio.ports]) {
    for (const [port, byDomain] of src) {
      let m = ports.get(port);
      if (!m) ports.set(port, (m = new Map()));
      for (const [d, vh] of byDomain) {
        const have = m.get(d);
        m.set(d, have ? Object.freeze({ ...have, routes: Object.freeze([...have.routes, ...vh.routes]) }) : vh);
      }
    }
  }
  const clusters = new Map<string, Cluster>([...istio.clusters, ...ing.clusters, ...gw.clusters]);
  const problems = new Map<string, string[]>();
  for (const i of mine) {
    const id = `${i.metadata.namespace ?? 'default'}/${i.metadata.name}`;
    problems.set(id, ing.problems.get(id) ?? []);
  }
  const tls = [
    ...ing.tls.map((t) => ({ hosts: t.hosts, secret: t.secret, owner: `Ingress ${t.ingress}` })),
    ...gw.tls.map((t) => ({ hosts: [t.hostname ?? '*'], secret: t.secret, owner: `Gateway ${t.gateway} listener ${t.listener}` })),
    ...istio.tls.map((t) => ({ hosts: t.hosts, secret: t.secret, owner: `Gateway.networking.istio.io ${t.gateway}` })),
  ];
  return { table: Object.freeze({ ports, clusters }), tls, ingresses: problems, gateway: gw, istio, ingressTls: ing.tls };
}
