// Settings of the ingress process: flags, then the pod environment the manifest sets (downward API).
// Every problem is collected so main.ts can list them all and exit 64.
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';

export interface IngressSettings {
  kubeconfig?: string;
  /** Mesh config from a file (tests) instead of mesh control's discovery stream. */
  configFile?: string;
  bind: string;
  httpPort: number;
  httpsPort: number;
  healthPort: number;
  /** The port a redirect to https names (the https port; 443 is left out of the Location). */
  redirectPort: number;
  /** Address written into Ingress and Gateway status. */
  publishIp: string;
  ingressController: string;
  gatewayController: string;
  /** Labels an Istio Gateway's selector must match (the pod's labels). */
  istioLabels: Record<string, string>;
  /** Mesh control: discovery and CA address (empty: found from Endpoints istio-system/istiod). */
  pilotAddr: string;
  rootCertFile: string;
  tokenFile: string;
  podName: string;
  namespace: string;
  serviceAccount: string;
  instanceIp: string;
}

export const USAGE = `usage: node dist/ingress/main.js [flags]
  --kubeconfig FILE          API server (default: in-cluster service account, else $KUBECONFIG)
  --bind ADDR                listen address (default 0.0.0.0)
  --http-port N              plain HTTP listener (default 80)
  --https-port N             TLS listener (default 443)
  --health-port N            /healthz and /ready (default 10254, as ingress-nginx)
  --redirect-port N          port named by ssl-redirect Locations (default: --https-port; 443 is omitted)
  --publish-ip IP            address written to status (default $HOST_IP, else 127.0.0.1)
  --ingress-controller NAME  IngressClass spec.controller served (default shoal.io/ingress-controller)
  --gateway-controller NAME  GatewayClass spec.controllerName served (default shoal.io/gateway-controller)
  --istio-gateway-labels K=V,…  labels an Istio Gateway's selector must match (default istio=ingressgateway)
  --pilot-addr HOST:PORT     mesh control discovery + CA (default $PILOT_ADDR, else Endpoints istio-system/istiod)
  --root-cert-file FILE      mesh root (default /var/run/secrets/istio/root-cert.pem)
  --token-file FILE          service account token (default /var/run/secrets/kubernetes.io/serviceaccount/token)
  --config-file FILE         static mesh config (services, endpoints, workload) instead of mesh control: tests`;

const STRING = ['kubeconfig', 'config-file', 'bind', 'http-port', 'https-port', 'health-port', 'redirect-port', 'publish-ip', 'ingress-controller',
  'gateway-controller', 'istio-gateway-labels', 'pilot-addr', 'root-cert-file', 'token-file'] as const;

export function parseIngressFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): { settings?: IngressSettings; problems: string[]; help?: boolean } {
  const problems: string[] = [];
  const { values, tokens } = parseArgs({ args: argv, options: { ...Object.fromEntries(STRING.map((k) => [k, { type: 'string' as const }])), help: { type: 'boolean' } }, strict: false, allowPositionals: true, tokens: true });
  if (values.help) return { problems, help: true };
  for (const t of tokens ?? []) {
    if (t.kind === 'option' && t.name !== 'help' && !(STRING as readonly string[]).includes(t.name)) problems.push(`unknown flag: ${t.rawName}`);
    else if (t.kind === 'option' && t.name !== 'help' && t.value === undefined) problems.push(`${t.rawName}: needs a value`);
    else if (t.kind === 'positional') problems.push(`unexpected argument: ${JSON.stringify(t.value)}`);
  }
  const v = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const port = (k: string, d: number): number => {
    const t = v(k) ?? String(d);
    if (!/^\d{1,5}$/.test(t) || Number(t) > 65535 || (Number(t) === 0 && k !== 'health-port')) problems.push(`--${k}: must be a port between 1 and 65535, got ${JSON.stringify(t)}`);
    return Number(t);
  };
  const httpPort = port('http-port', 80), httpsPort = port('https-port', 443), healthPort = port('health-port', 10254);
  const redirectPort = v('redirect-port') === undefined ? httpsPort : port('redirect-port', httpsPort);
  const publishIp = v('publish-ip') ?? env.HOST_IP ?? '127.0.0.1';
  if (isIP(publishIp) === 0) problems.push(`--publish-ip: ${JSON.stringify(publishIp)} is not an IP address`);
  const bind = v('bind') ?? '0.0.0.0';
  if (isIP(bind) === 0) problems.push(`--bind: ${JSON.stringify(bind)} is not an IP address`);
  const pilotAddr = v('pilot-addr') ?? env.PILOT_ADDR ?? '';
  if (pilotAddr && !/^[^\s:]+:\d{1,5}$/.test(pilotAddr)) problems.push(`--pilot-addr: must be host:port, got ${JSON.stringify(pilotAddr)}`);
  const istioLabels: Record<string, string> = {};
  for (const kv of (v('istio-gateway-labels') ?? 'istio=ingressgateway').split(',').filter(Boolean)) {
    const m = /^([A-Za-z0-9._/-]+)=([A-Za-z0-9._-]*)$/.exec(kv.trim());
    if (!m) problems.push(`--istio-gateway-labels: ${JSON.stringify(kv)} is not key=value`);
    else istioLabels[m[1]] = m[2];
  }
  const configFile = v('config-file');
  const podName = env.POD_NAME ?? '', namespace = env.POD_NAMESPACE ?? '';
  if (pilotAddr && (!podName || !namespace)) problems.push('POD_NAME, POD_NAMESPACE: required with a mesh control address (the mesh identity; the manifest sets them from the downward API)');
  if (problems.length) return { problems };
  return {
    problems,
    settings: {
      ...(v('kubeconfig') ? { kubeconfig: v('kubeconfig') } : {}), ...(configFile ? { configFile } : {}),
      bind, httpPort, httpsPort, healthPort, redirectPort, publishIp,
      ingressController: v('ingress-controller') ?? 'shoal.io/ingress-controller', gatewayController: v('gateway-controller') ?? 'shoal.io/gateway-controller', istioLabels,
      pilotAddr, rootCertFile: v('root-cert-file') ?? '/var/run/secrets/istio/root-cert.pem',
      tokenFile: v('token-file') ?? '/var/run/secrets/kubernetes.io/serviceaccount/token',
      podName, namespace, serviceAccount: env.SERVICE_ACCOUNT || 'shoal-ingress', instanceIp: env.INSTANCE_IP ?? '',
    },
  };
}
