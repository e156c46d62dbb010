// TypeScript shapes of the mesh wire messages as @grpc/proto-loader gives them with `loaderOptions`
// (camelCase, enums as strings, defaults filled in, `kind` naming the oneof field). Hand-written to match
// shoal/mesh/v1/discovery.proto and istio/v1/ca.proto; keep them in step.

export interface Node { id: string; podName: string; namespace: string; ip: string; serviceAccount: string; labels: Record<string, string> }
export interface RpcStatus { code: number; message: string }
export interface DiscoveryRequest { node?: Node | null; typeUrl: string; versionInfo: string; responseNonce: string; errorDetail?: RpcStatus | null }
export interface DiscoveryResponse { typeUrl: string; versionInfo: string; nonce: string; resources: Resource[] }
export interface Resource {
  name: string; kind?: 'service' | 'endpoints' | 'workload' | 'routeConfig';
  service?: MeshService | null; endpoints?: MeshEndpoints | null; workload?: Workload | null; routeConfig?: RouteConfig | null;
}
/** A VirtualService, DestinationRule or HTTPRoute, its spec as JSON (the proxy compiles the route table). */
export interface RouteConfig { kind: string; namespace: string; name: string; creationTimestamp: string; resourceVersion: string; specJson: string }

export interface ServicePort { name: string; port: number; targetPort: number; targetPortName: string; protocol: string; appProtocol: string }
export interface MeshService { name: string; namespace: string; hostname: string; vips: string[]; ports: ServicePort[] }

export interface EndpointPort { name: string; port: number }
export interface Endpoint {
  address: string; ports: EndpointPort[]; podName: string; namespace: string; serviceAccount: string;
  identity: string; mesh: boolean; labels: Record<string, string>; ready: boolean;
}
export interface MeshEndpoints { service: string; endpoints: Endpoint[] }

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';
export interface PeerAuthn { mode: MtlsMode; portModes: Record<number, MtlsMode>; sources: string[] }
export interface Source {
  principals: string[]; notPrincipals: string[]; requestPrincipals: string[]; notRequestPrincipals: string[];
  namespaces: string[]; notNamespaces: string[]; ipBlocks: string[]; notIpBlocks: string[];
  remoteIpBlocks: string[]; notRemoteIpBlocks: string[]; serviceAccounts: string[]; notServiceAccounts: string[];
}
export interface Operation {
  hosts: string[]; notHosts: string[]; ports: string[]; notPorts: string[];
  methods: string[]; notMethods: string[]; paths: string[]; notPaths: string[];
}
export interface Condition { key: string; values: string[]; notValues: string[] }
export interface Rule { from: { source: Source }[]; to: { operation: Operation }[]; when: Condition[] }
export interface AuthzPolicy { name: string; namespace: string; action: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM'; rules: Rule[]; provider: string }
export interface Workload {
  name: string; namespace: string; serviceAccount: string; identity: string; ip: string;
  labels: Record<string, string>; peerAuthentication: PeerAuthn; authorization: AuthzPolicy[];
  outboundTrafficPolicy?: string; sidecar?: string; jwtRules?: JwtRule[];
}
/** A RequestAuthentication jwtRule with its keys inline. */
export interface JwtRule {
  issuer: string; audiences: string[]; jwks: string; fromHeaders: { name: string; prefix: string }[]; fromParams: string[];
  outputPayloadToHeader: string; forwardOriginalToken: boolean; outputClaimToHeaders: { header: string; claim: string }[];
  source: string; jwksError: string;
}

export interface IstioCertificateRequest { csr: string; validityDuration: number; metadata?: unknown }
export interface IstioCertificateResponse { certChain: string[] }
