// The proxy's configuration model: the three resource types mesh control pushes
// (proto/shoal/mesh/v1/discovery.proto), as @grpc/proto-loader gives them with keepCase: false,
// longs: Number, enums: String, defaults: true. The static file source uses the same JSON shape.

/** Type URLs of the discovery stream (MESH-CONTRACT.md). */
export { TYPE_SERVICE, TYPE_ENDPOINTS, TYPE_WORKLOAD, TYPE_ROUTES, TYPE_URLS } from '../../proto/load.js';

/** One port of a Service. */
export interface ServicePort {
  name: string;
  port: number;
  /** 0 when the Service names its target port (then targetPortName). */
  targetPort: number;
  targetPortName?: string;
  protocol: string;
  appProtocol: string;
}

/** A Service of the mesh: VIPs and ports. */
export interface MeshService {
  name: string;
  namespace: string;
  hostname: string;
  vips: string[];
  ports: ServicePort[];
}

/** A port of an endpoint, by the Service port name it serves. */
export interface EndpointPort {
  name: string;
  port: number;
}

/** One endpoint (a pod) of a Service. */
export interface MeshEndpoint {
  address: string;
  ports: EndpointPort[];
  podName: string;
  namespace: string;
  serviceAccount: string;
  identity: string;
  /** The pod has a sidecar: speak HBONE (or TLS) to it. */
  mesh: boolean;
  labels: Record<string, string>;
  ready: boolean;
}

/** The endpoints of one Service (`service` is `ns/name`). */
export interface MeshEndpoints {
  service: string;
  endpoints: MeshEndpoint[];
}

/** The effective PeerAuthentication of the proxy's workload. */
export interface PeerAuthentication {
  mode: string;
  portModes: Record<string, string>;
  sources: string[];
}

/** Istio's AuthorizationPolicy Source. */
export interface AuthzSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
  /** `ns/sa` (Istio 1.24+). */
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
}

/** Istio's AuthorizationPolicy Operation. */
export interface AuthzOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

/** Istio's Condition (`when`). */
export interface AuthzCondition {
  key: string;
  values?: string[];
  notValues?: string[];
}

/** Istio's Rule. */
export interface AuthzRule {
  from?: { source?: AuthzSource }[];
  to?: { operation?: AuthzOperation }[];
  when?: AuthzCondition[];
}

/** An AuthorizationPolicy that applies to this workload. */
export interface AuthzPolicy {
  name: string;
  namespace: string;
  action: string;
  rules?: AuthzRule[];
  provider?: string;
}

/** The proxy's own workload (exactly one). */
export interface Workload {
  name: string;
  namespace: string;
  serviceAccount: string;
  identity: string;
  ip: string;
  labels: Record<string, string>;
  peerAuthentication: PeerAuthentication;
  authorization: AuthzPolicy[];
  /** REGISTRY_ONLY: destinations that are no known Service are refused (Sidecar outboundTrafficPolicy). */
  outboundTrafficPolicy?: string;
  /** `ns/name` of the Sidecar resource that scoped this proxy ('' when none). */
  sidecar?: string;
  /** RequestAuthentication jwtRules selecting this workload, keys inline. */
  jwtRules?: JwtRule[];
}

/** One RequestAuthentication jwtRule as pushed (keys inline). */
export interface JwtRule {
  issuer: string;
  audiences?: string[];
  /** JSON Web Key Set text ('' when mesh control could not fetch it: tokens of this issuer fail). */
  jwks: string;
  fromHeaders?: { name: string; prefix?: string }[];
  fromParams?: string[];
  outputPayloadToHeader?: string;
  forwardOriginalToken?: boolean;
  outputClaimToHeaders?: { header: string; claim: string }[];
  source?: string;
  jwksError?: string;
}

/** One routing object (VirtualService, DestinationRule, HTTPRoute) as pushed: spec as JSON text. */
export interface RouteConfig {
  kind: string;
  namespace: string;
  name: string;
  creationTimestamp: string;
  resourceVersion: string;
  specJson: string;
}

/** The routing objects, parsed (Kubernetes shape: metadata + spec), by kind. */
export interface RoutingConfig {
  virtualServices: RoutingObject[];
  destinationRules: RoutingObject[];
  httpRoutes: RoutingObject[];
  grpcRoutes: RoutingObject[];
}

/** A routing object with its spec parsed. */
export interface RoutingObject {
  metadata: { name: string; namespace: string; creationTimestamp?: string; resourceVersion?: string };
  spec: any;
}

/** A whole configuration: what the data path reads. Frozen once built. */
export interface MeshConfig {
  services: MeshService[];
  endpoints: MeshEndpoints[];
  workload: Workload | null;
  routing: RoutingConfig;
  /** Version applied per type URL ('' until the first). */
  versions: Record<string, string>;
}

/** The JSON shape of `--config-file`. */
export interface StaticConfigFile {
  services?: MeshService[];
  endpoints?: MeshEndpoints[];
  workload?: Workload;
  /** VirtualServices, DestinationRules and HTTPRoutes as Kubernetes objects (kind, metadata, spec). */
  routing?: { kind: string; metadata: { name: string; namespace?: string; creationTimestamp?: string }; spec: unknown }[];
}
