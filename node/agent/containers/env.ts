// A container's environment, resolved as the kubelet does: envFrom first (in order, with prefix), then
// env (later wins), `$(VAR)` expanded against what is defined so far (`$$(VAR)` escapes), valueFrom
// fieldRef / resourceFieldRef / secretKeyRef / configMapKeyRef. A missing secret, config map or key that
// is not optional is a ConfigError, which the worker reports as CreateContainerConfigError.

import { parseQuantity } from '../../../api/quantity.js';
import type { KubeObject } from '../../../api/meta.js';
import type { ContainerSpec, EnvVar, Pod } from '../pods/types.js';

/** A container cannot be configured (→ waiting reason CreateContainerConfigError). */
export class ConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
  override name = 'ConfigError';
}

/** Reads the objects env and volumes refer to; undefined when absent. */
export interface ObjectSource {
  secret(namespace: string, name: string): Promise<KubeObject | undefined>;
  configMap(namespace: string, name: string): Promise<KubeObject | undefined>;
}

/** Facts about the pod that fieldRef and resourceFieldRef need. */
export interface PodFacts {
  podIP?: string;
  podIPs?: string[];
  hostIP?: string;
  /** node allocatable, used when a container sets no limit (cpu in cores, memory in bytes) */
  nodeCpu: number;
  nodeMemory: number;
  /** the `kubernetes` Service's ClusterIP (first address of the service range): in-cluster clients find the API server by it */
  kubernetesServiceIP?: string;
}

/** What kubelet puts in every container so in-cluster clients find the API server (the `kubernetes` Service). */
export function kubernetesServiceEnv(ip: string | undefined): Record<string, string> {
  if (!ip) return {};
  return {
    KUBERNETES_SERVICE_HOST: ip, KUBERNETES_SERVICE_PORT: '443', KUBERNETES_SERVICE_PORT_HTTPS: '443',
    KUBERNETES_PORT: `tcp://${ip}:443`, KUBERNETES_PORT_443_TCP: `tcp://${ip}:443`, KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
    KUBERNETES_PORT_443_TCP_PORT: '443', KUBERNETES_PORT_443_TCP_ADDR: ip,
  };
}

/** The value of a fieldRef path (kubelet's supported set); throws ConfigError for anything else. */
export function fieldValue(pod: Pod, path: string, f: PodFacts): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return (pod.metadata[m[1] as 'labels' | 'annotations'] ?? {})[m[2]] ?? '';
  switch (path) {
    case 'metadata.name': return pod.metadata.name ?? '';
    case 'metadata.namespace': return pod.metadata.namespace ?? 'default';
    case 'metadata.uid': return pod.metadata.uid ?? '';
    case 'metadata.labels': return formatMap(pod.metadata.labels);
    case 'metadata.annotations': return formatMap(pod.metadata.annotations);
    case 'spec.nodeName': return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec.serviceAccountName ?? 'default';
    case 'status.hostIP': return f.hostIP ?? '';
    case 'status.hostIPs': return f.hostIP ?? '';
    case 'status.podIP': return f.podIP ?? '';
    case 'status.podIPs': return (f.podIPs ?? (f.podIP ? [f.podIP] : [])).join(',');
  }
  throw new ConfigError(`fieldRef.fieldPath: Unsupported value: ${JSON.stringify(path)}`);
}

function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}="${m![k]}"`).join('\n');
}

/** resourceFieldRef: limits fall back to node allocatable; cpu rounds up to the divisor (default 1). */
export function resourceValue(pod: Pod, c: ContainerSpec, ref: { resource: string; containerName?: string; divisor?: string | number }, f: PodFacts): string {
  const target = ref.containerName ? [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((x) => x.name === ref.containerName) : c;
  if (!target) throw new ConfigError(`resourceFieldRef.containerName: container ${JSON.stringify(ref.containerName)} not found`);
  const [kind, res] = ref.resource.split('.', 2) as ['limits' | 'requests', string];
  if (!['limits', 'requests'].includes(kind) || !['cpu', 'memory', 'ephemeral-storage'].includes(res)) {
    throw new ConfigError(`resourceFieldRef.resource: Unsupported value: ${JSON.stringify(ref.resource)}`);
  }
  const raw = target.resources?.[kind]?.[res] ?? (kind === 'requests' ? target.resources?.limits?.[res] : undefined);
  let v: number;
  if (raw !== undefined) v = parseQuantity(raw);
  else if (kind === 'requests') v = 0;
  else v = res === 'cpu' ? f.nodeCpu : res === 'memory' ? f.nodeMemory : 0;
  const divisor = ref.divisor !== undefined ? parseQuantity(ref.divisor) : 1;
  if (!(divisor > 0)) throw new ConfigError(`resourceFieldRef.divisor: must be positive`);
  const q = v / divisor;
  return String(res === 'cpu' ? Math.max(Math.ceil(q - 1e-9), kind === 'limits' ? 1 : 0) : Math.ceil(q - 1e-9));
}

/** `$(VAR)` expansion as Kubernetes' expansion.Expand: unknown references stay as written. */
export function expand(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && name in vars ? vars[name] : m;
  });
}

function decode(o: KubeObject, key: string, isSecret: boolean): string | undefined {
  const data = (o as any).data as Record<string, string> | undefined;
  const v = data?.[key];
  if (v !== undefined) return isSecret ? Buffer.from(v, 'base64').toString('utf8') : v;
  if (isSecret) return (o as any).stringData?.[key];
  const bin = (o as any).binaryData?.[key];
  return bin !== undefined ? Buffer.from(bin, 'base64').toString('utf8') : undefined;
}

function entries(o: KubeObject, isSecret: boolean): [string, string][] {
  const out: [string, string][] = [];
  for (const k of Object.keys(((o as any).data ?? {}) as object)) out.push([k, decode(o, k, isSecret)!]);
  if (!isSecret) for (const k of Object.keys(((o as any).binaryData ?? {}) as object)) out.push([k, decode(o, k, false)!]);
  return out;
}

/** Resolves the whole environment of `c` in order; throws ConfigError on the first missing reference. */
export async function resolveEnv(pod: Pod, c: ContainerSpec, src: ObjectSource, f: PodFacts, base: Record<string, string> = {}): Promise<Record<string, string>> {
  const ns = pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = { ...base };
  for (const [i, ef] of (c.envFrom ?? []).entries()) {
    const isSecret = !!ef.secretRef;
    const ref = ef.secretRef ?? ef.configMapRef;
    if (!ref) continue;
    const o = isSecret ? await src.secret(ns, ref.name) : await src.configMap(ns, ref.name);
    if (!o) {
      if (ref.optional) continue;
      throw new ConfigError(`envFrom[${i}]: ${isSecret ? 'secret' : 'configmap'} "${ref.name}" not found`);
    }
    for (const [k, v] of entries(o, isSecret)) env[(ef.prefix ?? '') + k] = v;
  }
  for (const [i, e] of (c.env ?? []).entries()) {
    const v = await envValue(pod, c, e, i, src, f, env);
    if (v !== undefined) env[e.name] = v;
  }
  return env;
}

async function envValue(pod: Pod, c: ContainerSpec, e: EnvVar, i: number, src: ObjectSource, f: PodFacts, sofar: Record<string, string>): Promise<string | undefined> {
  const ns = pod.metadata.namespace ?? 'default';
  const vf = e.valueFrom;
  if (!vf) return expand(e.value ?? '', sofar);
  if (vf.fieldRef) return fieldValue(pod, vf.fieldRef.fieldPath, f);
  if (vf.resourceFieldRef) return resourceValue(pod, c, vf.resourceFieldRef, f);
  const ref = vf.secretKeyRef ?? vf.configMapKeyRef;
  if (!ref) return '';
  const isSecret = !!vf.secretKeyRef;
  const kind = isSecret ? 'secret' : 'configmap';
  const o = isSecret ? await src.secret(ns, ref.name) : await src.configMap(ns, ref.name);
  if (!o) {
    if (ref.optional) return undefined;
    throw new ConfigError(`env[${i}] ${e.name}: ${kind} "${ref.name}" not found`);
  }
  const v = decode(o, ref.key, isSecret);
  if (v === undefined) {
    if (ref.optional) return undefined;
    throw new ConfigError(`env[${i}] ${e.name}: couldn't find key ${ref.key} in ${isSecret ? 'Secret' : 'ConfigMap'} ${ns}/${ref.name}`);
  }
  return v;
}
