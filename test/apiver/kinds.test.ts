// Validation of the kinds issue 18 adds (ServiceEntry, Sidecar, WorkloadEntry, RequestAuthentication,
// Telemetry, GRPCRoute, TCPRoute, TLSRoute, ReferenceGrant), table-driven: each row changes one valid
// fixture and names the error it must produce (field path and message), as istiod's validation and the
// CRDs' CEL rules word them. Every row also runs at every served version of the kind: same schema, same
// errors.

import t from 'tap';
import type { KubeObject } from '../../api/meta.js';
import { registry } from '../../api/registry.js';
import { servedVersionsOf } from '../../api/versions.js';
import { fixture } from '../api/fixtures/manifests.js';
import { errorsOf, defaulted } from '../api/fixtures/helpers.js';

interface Row {
  name: string;
  kind: string;
  change: (o: any) => void;
  /** substrings that must each appear in one error; [] means valid */
  want: string[];
}

const rows: Row[] = [
  // ServiceEntry
  { name: 'SE valid', kind: 'networking.istio.io/ServiceEntry', change: () => {}, want: [] },
  { name: 'SE hosts required', kind: 'networking.istio.io/ServiceEntry', change: (o) => delete o.spec.hosts, want: ['spec.hosts: Required value'] },
  { name: 'SE wildcard-only host', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.hosts = ['*']), want: ['spec.hosts[0]: Invalid value: "*": hostname cannot be wildcard'] },
  { name: 'SE bad host', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.hosts = ['api.example.com', 'Bad_Host!']), want: ['spec.hosts[1]: Invalid value: "Bad_Host!"'] },
  { name: 'SE bad address', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.addresses = ['10.0.0.300']), want: ['spec.addresses[0]: Invalid value: "10.0.0.300"'] },
  { name: 'SE bad CIDR', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.addresses = ['10.0.0.0/40']), want: ['spec.addresses[0]: Invalid value: "10.0.0.0/40"'] },
  {
    name: 'SE CIDR only with NONE/STATIC', kind: 'networking.istio.io/ServiceEntry',
    change: (o) => Object.assign(o.spec, { addresses: ['10.0.0.0/24'], resolution: 'DNS', endpoints: [{ address: 'a.example.com' }] }),
    want: ['spec.addresses[0]: Invalid value: "10.0.0.0/24": CIDR addresses are allowed only for NONE/STATIC resolution types'],
  },
  { name: 'SE port out of range', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.ports[0].number = 70000), want: ['spec.ports[0].number: Invalid value: 70000: port must be between 1-65535'] },
  { name: 'SE duplicate port', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.ports[1].number = 443), want: ['spec.ports[1].number: Duplicate value: 443'] },
  { name: 'SE port name required', kind: 'networking.istio.io/ServiceEntry', change: (o) => delete o.spec.ports[0].name, want: ['spec.ports[0].name: Required value'] },
  { name: 'SE bad protocol', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.ports[0].protocol = 'QUIC'), want: ['spec.ports[0].protocol: Unsupported value: "QUIC"'] },
  { name: 'SE bad location', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.location = 'OUTSIDE'), want: ['spec.location: Unsupported value: "OUTSIDE": supported values: "MESH_EXTERNAL", "MESH_INTERNAL"'] },
  { name: 'SE bad resolution', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.resolution = 'DNS_ONLY'), want: ['spec.resolution: Unsupported value: "DNS_ONLY"'] },
  { name: 'SE NONE cannot set endpoints', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.resolution = 'NONE'), want: ['spec.endpoints: Forbidden: NONE mode cannot set endpoints'] },
  { name: 'SE STATIC endpoint must be an IP', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.endpoints[0].address = 'db.example.com'), want: ['spec.endpoints[0].address: Invalid value: "db.example.com"'] },
  {
    name: 'SE DNS_ROUND_ROBIN one endpoint', kind: 'networking.istio.io/ServiceEntry',
    change: (o) => Object.assign(o.spec, { resolution: 'DNS_ROUND_ROBIN', addresses: undefined, endpoints: [{ address: 'a.example.com' }, { address: 'b.example.com' }] }),
    want: ['spec.endpoints: Invalid value: 2: DNS_ROUND_ROBIN mode cannot have multiple endpoints'],
  },
  { name: 'SE endpoint port not declared', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.endpoints[0].ports = { grpc: 9000 }), want: ['spec.endpoints[0].ports[grpc]: Invalid value: "grpc": endpoint port is not defined by the service entry'] },
  {
    name: 'SE workloadSelector xor endpoints', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.workloadSelector = { labels: { app: 'x' } }),
    want: ['spec.workloadSelector: Invalid value: "object": only one of WorkloadSelector or Endpoints can be set'],
  },
  { name: 'SE unknown field', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.resolutionMode = 'DNS'), want: ['spec.resolutionMode: Invalid value: "resolutionMode": field not declared in schema'] },
  { name: 'SE bad exportTo', kind: 'networking.istio.io/ServiceEntry', change: (o) => (o.spec.exportTo = ['.', 'Bad NS']), want: ['spec.exportTo[1]: Invalid value: "Bad NS"'] },
  { name: 'SE wildcard DNS needs endpoints', kind: 'networking.istio.io/ServiceEntry', change: (o) => Object.assign(o.spec, { hosts: ['*.example.com'], resolution: 'DNS', endpoints: undefined, addresses: undefined }), want: ['spec.hosts[0]: Invalid value: "*.example.com": hosts must be FQDN if no endpoints are provided for resolution mode DNS'] },

  // Sidecar
  { name: 'Sidecar valid', kind: 'networking.istio.io/Sidecar', change: () => {}, want: [] },
  { name: 'Sidecar egress host form', kind: 'networking.istio.io/Sidecar', change: (o) => (o.spec.egress[0].hosts = ['reviews.default.svc.cluster.local']), want: ['spec.egress[0].hosts[0]: Invalid value: "reviews.default.svc.cluster.local": sidecar: hosts must be of form namespace/dnsName'] },
  { name: 'Sidecar egress hosts required', kind: 'networking.istio.io/Sidecar', change: (o) => (o.spec.egress[0] = {}), want: ['spec.egress[0].hosts: Required value'] },
  { name: 'Sidecar bad outbound mode', kind: 'networking.istio.io/Sidecar', change: (o) => (o.spec.outboundTrafficPolicy.mode = 'DENY_ALL'), want: ['spec.outboundTrafficPolicy.mode: Unsupported value: "DENY_ALL": supported values: "REGISTRY_ONLY", "ALLOW_ANY"'] },
  {
    name: 'Sidecar egressProxy only with ALLOW_ANY', kind: 'networking.istio.io/Sidecar',
    change: (o) => (o.spec.outboundTrafficPolicy.egressProxy = { host: 'proxy.example.com', port: { number: 3128 } }),
    want: ['spec.outboundTrafficPolicy.egressProxy: Forbidden: sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode'],
  },
  { name: 'Sidecar ingress port required', kind: 'networking.istio.io/Sidecar', change: (o) => delete o.spec.ingress[0].port, want: ['spec.ingress[0].port: Required value'] },
  { name: 'Sidecar bad defaultEndpoint', kind: 'networking.istio.io/Sidecar', change: (o) => (o.spec.ingress[0].defaultEndpoint = '10.0.0.1:8080'), want: ['spec.ingress[0].defaultEndpoint: Invalid value: "10.0.0.1:8080"'] },
  { name: 'Sidecar port range', kind: 'networking.istio.io/Sidecar', change: (o) => (o.spec.ingress[0].port.number = 0), want: ['spec.ingress[0].port.number: Invalid value: 0'] },
  {
    name: 'Sidecar portless egress must be last', kind: 'networking.istio.io/Sidecar',
    change: (o) => (o.spec.egress = [{ hosts: ['./*'] }, { port: { number: 80, protocol: 'HTTP', name: 'http' }, hosts: ['./*'] }]),
    want: ['spec.egress[0]: Invalid value: "object": sidecar: the egress listener with empty port should be the last listener in the list'],
  },
  { name: 'Sidecar bad captureMode', kind: 'networking.istio.io/Sidecar', change: (o) => (o.spec.egress[0].captureMode = 'EBPF'), want: ['spec.egress[0].captureMode: Unsupported value: "EBPF"'] },
  { name: 'Sidecar bad duration', kind: 'networking.istio.io/Sidecar', change: (o) => (o.spec.inboundConnectionPool = { tcp: { connectTimeout: 'soon' } }), want: ['spec.inboundConnectionPool.tcp.connectTimeout: Invalid value: "soon"'] },

  // WorkloadEntry
  { name: 'WE valid', kind: 'networking.istio.io/WorkloadEntry', change: () => {}, want: [] },
  { name: 'WE address or network', kind: 'networking.istio.io/WorkloadEntry', change: (o) => delete o.spec.address, want: ['spec.address: Required value: Address is required'] },
  { name: 'WE UDS with ports', kind: 'networking.istio.io/WorkloadEntry', change: (o) => (o.spec.address = 'unix:///var/run/app.sock'), want: ['spec.ports: Forbidden: UDS may not include ports'] },
  { name: 'WE port range', kind: 'networking.istio.io/WorkloadEntry', change: (o) => (o.spec.ports = { http: 0 }), want: ['spec.ports[http]: Invalid value: 0: port must be between 1-65535'] },

  // RequestAuthentication
  { name: 'RA valid', kind: 'security.istio.io/RequestAuthentication', change: () => {}, want: [] },
  { name: 'RA issuer required', kind: 'security.istio.io/RequestAuthentication', change: (o) => delete o.spec.jwtRules[0].issuer, want: ['spec.jwtRules[0].issuer: Required value: issuer must be set'] },
  { name: 'RA jwksUri scheme', kind: 'security.istio.io/RequestAuthentication', change: (o) => (o.spec.jwtRules[0].jwksUri = 'ftp://example.com/jwks'), want: ['spec.jwtRules[0].jwksUri: Invalid value: "ftp://example.com/jwks": url must have scheme http:// or https://'] },
  { name: 'RA jwks xor jwksUri', kind: 'security.istio.io/RequestAuthentication', change: (o) => (o.spec.jwtRules[0].jwks = '{"keys":[]}'), want: ['spec.jwtRules[0].jwks: Invalid value: "string": only one of jwks or jwksUri can be set'] },
  { name: 'RA jwks must be a key set', kind: 'security.istio.io/RequestAuthentication', change: (o) => { delete o.spec.jwtRules[0].jwksUri; o.spec.jwtRules[0].jwks = 'not json'; }, want: ['spec.jwtRules[0].jwks: Invalid value: "(JWKS)"'] },
  { name: 'RA header name required', kind: 'security.istio.io/RequestAuthentication', change: (o) => (o.spec.jwtRules[0].fromHeaders = [{ prefix: 'Bearer ' }]), want: ['spec.jwtRules[0].fromHeaders[0].name: Required value'] },
  { name: 'RA claim header pattern', kind: 'security.istio.io/RequestAuthentication', change: (o) => (o.spec.jwtRules[0].outputClaimToHeaders[0].header = 'x jwt'), want: ['spec.jwtRules[0].outputClaimToHeaders[0].header: Invalid value: "x jwt"'] },
  { name: 'RA selector xor targetRef', kind: 'security.istio.io/RequestAuthentication', change: (o) => (o.spec.targetRef = { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'web' }), want: ['spec.targetRef: Invalid value: "object": only one of targetRefs or selector can be set'] },
  { name: 'RA cross-namespace targetRef', kind: 'security.istio.io/RequestAuthentication', change: (o) => { delete o.spec.selector; o.spec.targetRefs = [{ kind: 'Gateway', name: 'web', namespace: 'other' }]; }, want: ['spec.targetRefs[0].namespace: Invalid value: "other": cross namespace referencing is not currently supported'] },
  { name: 'RA unknown field', kind: 'security.istio.io/RequestAuthentication', change: (o) => (o.spec.jwtRules[0].jwks_url = 'https://x'), want: ['spec.jwtRules[0].jwks_url: Invalid value: "jwks_url": field not declared in schema'] },
  { name: 'RA duplicate issuer', kind: 'security.istio.io/RequestAuthentication', change: (o) => o.spec.jwtRules.push({ ...o.spec.jwtRules[0], outputClaimToHeaders: undefined }), want: ['spec.jwtRules[1].issuer: Duplicate value: "testing@secure.istio.io"'] },

  // Telemetry
  { name: 'Telemetry valid', kind: 'telemetry.istio.io/Telemetry', change: () => {}, want: [] },
  { name: 'Telemetry sampling range', kind: 'telemetry.istio.io/Telemetry', change: (o) => (o.spec.tracing[0].randomSamplingPercentage = 101), want: ['spec.tracing[0].randomSamplingPercentage: Invalid value: 101: must be in range [0.0, 100.0]'] },
  { name: 'Telemetry bad metric', kind: 'telemetry.istio.io/Telemetry', change: (o) => (o.spec.metrics[0].overrides[0].match.metric = 'LATENCY'), want: ['spec.metrics[0].overrides[0].match.metric: Unsupported value: "LATENCY"'] },
  { name: 'Telemetry REMOVE takes no value', kind: 'telemetry.istio.io/Telemetry', change: (o) => (o.spec.metrics[0].overrides[0].tagOverrides.request_host.value = 'x'), want: ['spec.metrics[0].overrides[0].tagOverrides[request_host].value: Forbidden: value must not be set when operation is REMOVE'] },
  { name: 'Telemetry UPSERT needs value', kind: 'telemetry.istio.io/Telemetry', change: (o) => (o.spec.metrics[0].overrides[0].tagOverrides.request_host = { operation: 'UPSERT' }), want: ['spec.metrics[0].overrides[0].tagOverrides[request_host].value: Required value: value must be set when operation is UPSERT'] },
  { name: 'Telemetry bad mode', kind: 'telemetry.istio.io/Telemetry', change: (o) => (o.spec.accessLogging[0].match = { mode: 'BOTH' }), want: ['spec.accessLogging[0].match.mode: Unsupported value: "BOTH"'] },
  { name: 'Telemetry sampling is a number', kind: 'telemetry.istio.io/Telemetry', change: (o) => (o.spec.tracing[0].randomSamplingPercentage = '10%'), want: ['spec.tracing[0].randomSamplingPercentage: Invalid value: "10%": must be of type number'] },

  // GRPCRoute
  { name: 'GRPCRoute valid', kind: 'gateway.networking.k8s.io/GRPCRoute', change: () => {}, want: [] },
  { name: 'GRPCRoute bad service', kind: 'gateway.networking.k8s.io/GRPCRoute', change: (o) => (o.spec.rules[0].matches[0].method.service = 'hello world'), want: ['spec.rules[0].matches[0].method.service: Invalid value: "hello world": service must only contain valid characters'] },
  { name: 'GRPCRoute service or method', kind: 'gateway.networking.k8s.io/GRPCRoute', change: (o) => (o.spec.rules[0].matches[0].method = { type: 'Exact' }), want: ["spec.rules[0].matches[0].method: Required value: One or both of 'service' or 'method' must be specified"] },
  { name: 'GRPCRoute backend port', kind: 'gateway.networking.k8s.io/GRPCRoute', change: (o) => delete o.spec.rules[0].backendRefs[0].port, want: ['spec.rules[0].backendRefs[0].port: Required value: Must have port for Service reference'] },
  { name: 'GRPCRoute no URLRewrite filter', kind: 'gateway.networking.k8s.io/GRPCRoute', change: (o) => (o.spec.rules[0].filters = [{ type: 'URLRewrite', urlRewrite: {} }]), want: ['spec.rules[0].filters[0].type: Unsupported value: "URLRewrite"'] },
  { name: 'GRPCRoute IP hostname', kind: 'gateway.networking.k8s.io/GRPCRoute', change: (o) => (o.spec.hostnames = ['10.0.0.1']), want: ['spec.hostnames[0]: Invalid value: "10.0.0.1": must be a DNS name, not an IP address'] },
  { name: 'GRPCRoute same parent twice', kind: 'gateway.networking.k8s.io/GRPCRoute', change: (o) => (o.spec.parentRefs = [{ name: 'web' }, { name: 'web' }]), want: ['spec.parentRefs: Invalid value: "array": sectionName or port must be specified when parentRefs includes 2 or more references to the same parent'] },
  { name: 'GRPCRoute filter field matches type', kind: 'gateway.networking.k8s.io/GRPCRoute', change: (o) => (o.spec.rules[0].filters = [{ type: 'RequestHeaderModifier' }]), want: ['spec.rules[0].filters[0].requestHeaderModifier: Required value: filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type'] },

  // TCPRoute / TLSRoute
  { name: 'TCPRoute valid', kind: 'gateway.networking.k8s.io/TCPRoute', change: () => {}, want: [] },
  { name: 'TCPRoute rules required', kind: 'gateway.networking.k8s.io/TCPRoute', change: (o) => delete o.spec.rules, want: ['spec.rules: Required value'] },
  { name: 'TCPRoute backendRefs min 1', kind: 'gateway.networking.k8s.io/TCPRoute', change: (o) => (o.spec.rules[0].backendRefs = []), want: ['spec.rules[0].backendRefs: Required value: should have at least 1 items'] },
  { name: 'TCPRoute weight range', kind: 'gateway.networking.k8s.io/TCPRoute', change: (o) => (o.spec.rules[0].backendRefs[0].weight = 2000000), want: ['spec.rules[0].backendRefs[0].weight: Invalid value: 2000000: must be between 0 and 1000000'] },
  { name: 'TCPRoute port range', kind: 'gateway.networking.k8s.io/TCPRoute', change: (o) => (o.spec.rules[0].backendRefs[0].port = 0), want: ['spec.rules[0].backendRefs[0].port: Invalid value: 0'] },
  { name: 'TLSRoute valid', kind: 'gateway.networking.k8s.io/TLSRoute', change: () => {}, want: [] },
  { name: 'TLSRoute bad hostname', kind: 'gateway.networking.k8s.io/TLSRoute', change: (o) => (o.spec.hostnames = ['bad..example.com']), want: ['spec.hostnames[0]: Invalid value: "bad..example.com"'] },
  { name: 'TLSRoute duplicate rule names', kind: 'gateway.networking.k8s.io/TLSRoute', change: (o) => (o.spec.rules = [{ name: 'a', backendRefs: [{ name: 'x', port: 1 }] }, { name: 'a', backendRefs: [{ name: 'y', port: 1 }] }]), want: ['spec.rules: Invalid value: "array": Rule name must be unique within the route'] },

  // ReferenceGrant
  { name: 'ReferenceGrant valid', kind: 'gateway.networking.k8s.io/ReferenceGrant', change: () => {}, want: [] },
  { name: 'ReferenceGrant from required', kind: 'gateway.networking.k8s.io/ReferenceGrant', change: (o) => delete o.spec.from, want: ['spec.from: Required value'] },
  { name: 'ReferenceGrant from namespace required', kind: 'gateway.networking.k8s.io/ReferenceGrant', change: (o) => delete o.spec.from[0].namespace, want: ['spec.from[0].namespace: Required value'] },
  { name: 'ReferenceGrant bad kind', kind: 'gateway.networking.k8s.io/ReferenceGrant', change: (o) => (o.spec.to[0].kind = '9Service'), want: ['spec.to[0].kind: Invalid value: "9Service"'] },
  { name: 'ReferenceGrant empty to', kind: 'gateway.networking.k8s.io/ReferenceGrant', change: (o) => (o.spec.to = []), want: ['spec.to: Required value: should have at least 1 items'] },
];

/** The fixture at apiVersion `group/version`. */
function at(o: KubeObject, version: string): KubeObject {
  const group = o.apiVersion.split('/')[0];
  return { ...o, apiVersion: `${group}/${version}` };
}

for (const r of rows) {
  t.test(r.name, async (t) => {
    const base = fixture(r.kind);
    const rt = registry.byKind(base.apiVersion, base.kind)!;
    t.ok(rt, `${r.kind} is served`);
    for (const v of servedVersionsOf(rt)) {
      const o = at(fixture(r.kind), v);
      r.change(o.spec ? o : (o.spec = {}, o));
      const errs = errorsOf(o);
      if (r.want.length === 0) t.same(errs, [], `valid at ${v}`);
      for (const w of r.want) t.ok(errs.some((e) => e.includes(w)), `${v}: wanted "${w}" in ${JSON.stringify(errs)}`);
    }
  });
}

t.test('defaults as the CRDs declare them', async (t) => {
  const g = defaulted(fixture('gateway.networking.k8s.io/GRPCRoute'));
  t.same(g.spec.parentRefs[0], { name: 'web', sectionName: 'https', group: 'gateway.networking.k8s.io', kind: 'Gateway' });
  t.same(g.spec.rules[0].backendRefs[0], { name: 'greeter', port: 50051, group: '', kind: 'Service', weight: 1 });
  t.equal(g.spec.rules[0].matches[0].method.type, 'Exact');
  const tcp = defaulted(fixture('gateway.networking.k8s.io/TCPRoute'));
  t.same(tcp.spec.rules[0].backendRefs[0], { name: 'postgres', port: 5432, group: '', kind: 'Service', weight: 1 });
});

/** Every dotted path to a value inside `o.spec` (array items included). */
function paths(v: unknown, prefix: string[] = []): string[][] {
  if (v === null || typeof v !== 'object') return [prefix];
  const out: string[][] = [prefix];
  for (const [k, c] of Object.entries(v)) out.push(...paths(c, [...prefix, k]));
  return out;
}

t.test('no input makes validation throw: every spec field removed or replaced by each JSON type', async (t) => {
  const kinds = registry.all().filter((rt) => /istio\.io|gateway\.networking\.k8s\.io/.test(rt.group));
  let cases = 0;
  for (const rt of kinds) {
    const key = `${rt.group}/${rt.kind}`;
    const base = fixture(key);
    for (const p of paths(base.spec, ['spec']).slice(1)) {
      for (const value of [undefined, null, {}, [], '', 0, -1, 'x', true]) {
        const o: any = fixture(key);
        let parent = o;
        for (const k of p.slice(0, -1)) parent = parent[k];
        if (value === undefined) {
          if (Array.isArray(parent)) parent.splice(Number(p[p.length - 1]), 1);
          else delete parent[p[p.length - 1]!];
        } else parent[p[p.length - 1]!] = value;
        cases++;
        try {
          errorsOf(o);
        } catch (e) {
          t.fail(`${key} ${p.join('.')} = ${JSON.stringify(value)}: ${(e as Error).stack}`);
        }
      }
    }
  }
  t.ok(cases > 1000, `${cases} cases`);
});
