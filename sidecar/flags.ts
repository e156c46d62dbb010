// Settings of the sidecar process: the environment the injector writes (MESH-CONTRACT.md) plus flags
// for tests and benchmarks. Every problem is collected so main.ts can list them all and exit 64.
import { parseArgs } from 'node:util';
import { isIP } from 'node:net';
import { parseDuration } from '../lib/time/duration.js';
import type { KeyType } from '../proxy/identity/manager.js';
import type { TunnelMode } from '../proxy/hbone/client.js';
import { parseAppProbers, type AppProbers } from '../proxy/admin/app-health.js';

/** Validated settings. */
export interface SidecarSettings {
  podName: string;
  namespace: string;
  serviceAccount: string;
  instanceIp: string;
  workloadName: string;
  /** Access log destination (Istio's meshConfig.accessLogFile): '' off, `/dev/stdout`, or a file (SHOAL_ACCESS_LOG_FILE, --access-log-file). */
  accessLogFile: string;
  /** OTLP/HTTP JSON endpoint for spans ('' off) and the sampling percentage of new traces (Istio's default 1). */
  tracingEndpoint: string;
  tracingSampling: number;
  clusterId: string;
  trustDomain: string;
  /** Static config (tests) instead of mesh control. */
  configFile?: string;
  pilotAddr: string;
  caAddr: string;
  rootCertFile: string;
  tokenFile: string;
  tunnel: TunnelMode;
  certTtlSec: number;
  keyType: KeyType;
  ports: { outbound: number; inbound: number; hbone: number; admin: number; health: number; prom: number; merged: number };
  appMetrics: { port: number; path: string } | null;
  /** ISTIO_KUBE_APP_PROBERS, parsed (proxy/admin/app-health.ts). */
  appProbers: AppProbers;
  sniffTimeoutMs: number;
  /** Descriptors kept out of the connection budget (negative only in tests, to meet real EMFILE). */
  fdReserve: number;
}

const PORT_FLAGS = {
  'outbound-port': 15001, 'inbound-port': 15006, 'hbone-port': 15008, 'admin-port': 15000, 'health-port': 15021, 'prom-port': 15090, 'merged-port': 15020,
} as const;
const STRING_FLAGS = ['config-file', 'pilot-addr', 'ca-addr', 'root-cert-file', 'token-file', 'tunnel', 'cert-ttl', 'key-type', 'sniff-timeout', 'fd-reserve', 'access-log-file', 'tracing-endpoint', 'tracing-sampling'] as const;

/** `30s`, `500ms`, `2m`, `24h`, `1h30m` → seconds (lib/time's Go syntax); undefined when malformed. */
export function parseDurationSec(s: string): number | undefined {
  const ms = parseDuration(s);
  return ms === undefined ? undefined : ms / 1000;
}

/** Parses argv and env; returns the settings or every problem. */
export function parseSidecarFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): { settings?: SidecarSettings; problems: string[] } {
  const problems: string[] = [];
  const known = [...Object.keys(PORT_FLAGS), ...STRING_FLAGS];
  const { values, tokens } = parseArgs({ args: argv, options: Object.fromEntries(known.map((k) => [k, { type: 'string' as const }])), strict: false, allowPositionals: true, tokens: true });
  for (const tok of tokens ?? []) {
    if (tok.kind === 'option' && !known.includes(tok.name)) problems.push(`unknown flag: ${tok.rawName}`);
    else if (tok.kind === 'option' && tok.value === undefined) problems.push(`${tok.rawName}: needs a value`);
    else if (tok.kind === 'positional') problems.push(`unexpected argument: ${JSON.stringify(tok.value)}`);
  }
  const v = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const ports = Object.fromEntries(Object.entries(PORT_FLAGS).map(([k, d]) => {
    const t = v(k) ?? String(d);
    if (!/^\d{1,5}$/.test(t) || Number(t) < 1 || Number(t) > 65535) problems.push(`--${k}: must be a port between 1 and 65535, got ${JSON.stringify(t)}`);
    return [k.replace(/-port$/, ''), Number(t)];
  })) as SidecarSettings['ports'];

  const configFile = v('config-file');
  const req = (name: string): string => {
    const val = env[name] ?? '';
    if (!val && !configFile) problems.push(`${name}: required (set by the injector)`);
    return val;
  };
  const podName = req('POD_NAME');
  const namespace = req('POD_NAMESPACE');
  const serviceAccount = env.SERVICE_ACCOUNT || 'default';
  const instanceIp = env.INSTANCE_IP ?? '';
  if (instanceIp && isIP(instanceIp) === 0) problems.push(`INSTANCE_IP: ${JSON.stringify(instanceIp)} is not an IP address`);
  const pilotAddr = v('pilot-addr') ?? env.PILOT_ADDR ?? 'istiod.istio-system.svc:15012';
  const caAddr = v('ca-addr') ?? env.CA_ADDR ?? pilotAddr;
  for (const [n, a] of [['CA_ADDR', caAddr], ['PILOT_ADDR', pilotAddr]]) {
    if (!/^[^\s:]+:\d{1,5}$/.test(a)) problems.push(`${n}: must be host:port, got ${JSON.stringify(a)}`);
  }
  const tunnel = (v('tunnel') ?? env.SHOAL_TUNNEL ?? 'hbone') as TunnelMode;
  if (tunnel !== 'hbone' && tunnel !== 'tls') problems.push(`SHOAL_TUNNEL: must be hbone or tls, got ${JSON.stringify(tunnel)}`);
  const ttlText = v('cert-ttl') ?? env.SHOAL_CERT_TTL ?? '24h';
  const certTtlSec = parseDurationSec(ttlText);
  if (certTtlSec === undefined || certTtlSec < 2) problems.push(`SHOAL_CERT_TTL: must be a duration of at least 2s like 30s or 24h, got ${JSON.stringify(ttlText)}`);
  const keyType = (v('key-type') ?? env.SHOAL_KEY_TYPE ?? 'ec') as KeyType;
  if (keyType !== 'ec' && keyType !== 'rsa') problems.push(`SHOAL_KEY_TYPE: must be ec or rsa, got ${JSON.stringify(keyType)}`);
  const sniffText = v('sniff-timeout') ?? '1s';
  const sniff = parseDurationSec(sniffText);
  if (sniff === undefined) problems.push(`--sniff-timeout: must be a duration, got ${JSON.stringify(sniffText)}`);
  const reserveText = v('fd-reserve') ?? '64';
  if (!/^-?\d+$/.test(reserveText)) problems.push(`--fd-reserve: must be an integer, got ${JSON.stringify(reserveText)}`);
  const samplingText = v('tracing-sampling') ?? env.SHOAL_TRACING_SAMPLING ?? '1';
  const tracingSampling = Number(samplingText);
  if (!/^\d+(\.\d+)?$/.test(samplingText) || tracingSampling > 100) problems.push(`SHOAL_TRACING_SAMPLING: must be a percentage between 0 and 100, got ${JSON.stringify(samplingText)}`);
  const tracingEndpoint = v('tracing-endpoint') ?? env.SHOAL_TRACING_ENDPOINT ?? '';
  if (tracingEndpoint && !/^https?:\/\/[^\s]+$/.test(tracingEndpoint)) problems.push(`SHOAL_TRACING_ENDPOINT: must be an http(s) URL such as http://otel-collector:4318/v1/traces, got ${JSON.stringify(tracingEndpoint)}`);
  let appMetrics: SidecarSettings['appMetrics'] = null;
  if (env.ISTIO_PROMETHEUS_ANNOTATIONS) {
    try {
      const a = JSON.parse(env.ISTIO_PROMETHEUS_ANNOTATIONS) as { scrape?: string; port?: string; path?: string };
      if (a.scrape !== 'false' && a.port) appMetrics = { port: Number(a.port), path: a.path || '/metrics' };
    } catch {
      problems.push('ISTIO_PROMETHEUS_ANNOTATIONS: must be JSON like {"scrape":"true","port":"8080","path":"/metrics"}');
    }
  }
  const { probers: appProbers, problems: proberProblems } = parseAppProbers(env.ISTIO_KUBE_APP_PROBERS);
  problems.push(...proberProblems);
  if (problems.length) return { problems };
  return {
    problems,
    settings: {
      podName, namespace, serviceAccount, instanceIp, workloadName: env.ISTIO_META_WORKLOAD_NAME || podName,
      clusterId: env.ISTIO_META_CLUSTER_ID || 'Kubernetes', trustDomain: 'cluster.local',
      ...(configFile ? { configFile } : {}), pilotAddr, caAddr,
      rootCertFile: v('root-cert-file') ?? '/var/run/secrets/istio/root-cert.pem',
      tokenFile: v('token-file') ?? '/var/run/secrets/kubernetes.io/serviceaccount/token',
      tunnel, certTtlSec: certTtlSec!, keyType, ports, appMetrics, appProbers, sniffTimeoutMs: Math.round(sniff! * 1000), fdReserve: Number(reserveText),
      accessLogFile: v('access-log-file') ?? env.SHOAL_ACCESS_LOG_FILE ?? '', tracingEndpoint, tracingSampling,
    },
  };
}
