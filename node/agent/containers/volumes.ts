// Pod volumes: materialise each volume's content under <podDir>/volumes/<name> (emptyDir, configMap,
// secret, projected service-account token + ca.crt + namespace, downwardAPI) or point at the host
// (hostPath), then plan the bind mounts the sandbox makes inside the pod's private mount namespace.
// Substitute, documented: containers of a pod share one mount namespace, so every container's
// volumeMounts are mounted pod-wide (two containers mounting different volumes at one path is an error).

import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { ConfigError, fieldValue, type ObjectSource, type PodFacts } from './env.js';
import type { Pod, Volume } from '../pods/types.js';

/** One bind mount inside the pod. */
export interface MountPlan {
  source: string;
  target: string;
  readOnly: boolean;
}

/** What volumes need besides the API objects. */
export interface VolumeContext {
  objects: ObjectSource;
  facts: PodFacts;
  /** a service-account token for the pod ('' when none can be had) */
  token(namespace: string, serviceAccount: string, audience?: string, expirationSeconds?: number): Promise<string>;
  caPem: string;
}

function writeFile(dir: string, rel: string, content: string, mode: number): void {
  const p = normalize(join(dir, rel));
  if (!p.startsWith(dir + '/')) throw new ConfigError(`volume path ${JSON.stringify(rel)}: must not leave the volume`);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
  chmodSync(p, mode);
}

async function keyed(
  dir: string, what: 'configmap' | 'secret', ns: string, name: string, items: { key: string; path: string; mode?: number }[] | undefined,
  optional: boolean | undefined, mode: number, ctx: VolumeContext,
): Promise<void> {
  const o = what === 'secret' ? await ctx.objects.secret(ns, name) : await ctx.objects.configMap(ns, name);
  if (!o) {
    if (optional) return;
    throw new ConfigError(`${what} "${name}" not found`);
  }
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(((o as any).data ?? {}) as Record<string, string>)) data[k] = what === 'secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
  for (const [k, v] of Object.entries(((o as any).binaryData ?? {}) as Record<string, string>)) data[k] = Buffer.from(v, 'base64').toString('utf8');
  const list = items ?? Object.keys(data).map((key) => ({ key, path: key, mode: undefined }));
  for (const it of list) {
    if (!(it.key in data)) {
      if (optional) continue;
      throw new ConfigError(`${what} "${name}": couldn't find key ${it.key}`);
    }
    writeFile(dir, it.path, data[it.key], it.mode ?? mode);
  }
}

/** Writes one volume's content; returns the directory (or host path) to mount. */
export async function prepareVolume(pod: Pod, v: Volume, podDir: string, ctx: VolumeContext): Promise<string> {
  const ns = pod.metadata.namespace ?? 'default';
  const dir = join(podDir, 'volumes', v.name);
  if (v.hostPath) {
    const t = v.hostPath.type ?? '';
    if ((t === 'DirectoryOrCreate') && !existsSync(v.hostPath.path)) mkdirSync(v.hostPath.path, { recursive: true });
    if ((t === 'Directory' || t === 'File') && !existsSync(v.hostPath.path)) throw new ConfigError(`hostPath.path: ${v.hostPath.path} does not exist`);
    return v.hostPath.path;
  }
  if (v.emptyDir) {
    mkdirSync(dir, { recursive: true, mode: 0o777 });
    chmodSync(dir, 0o777);
    return dir;
  }
  // content volumes are rewritten from scratch (atomic enough for start-up; no live updates)
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (v.configMap) await keyed(dir, 'configmap', ns, v.configMap.name, v.configMap.items, v.configMap.optional, v.configMap.defaultMode ?? 0o644, ctx);
  else if (v.secret) await keyed(dir, 'secret', ns, v.secret.secretName, v.secret.items, v.secret.optional, v.secret.defaultMode ?? 0o644, ctx);
  else if (v.downwardAPI) for (const it of v.downwardAPI.items) writeFile(dir, it.path, fieldValue(pod, it.fieldRef?.fieldPath ?? '', ctx.facts), 0o644);
  else if (v.projected) {
    const mode = v.projected.defaultMode ?? 0o644;
    for (const s of v.projected.sources ?? []) {
      if (s.serviceAccountToken) {
        const tok = await ctx.token(ns, pod.spec.serviceAccountName ?? 'default', s.serviceAccountToken.audience, s.serviceAccountToken.expirationSeconds);
        writeFile(dir, s.serviceAccountToken.path, tok, 0o600);
      } else if (s.configMap) {
        if (s.configMap.name === 'kube-root-ca.crt' && !(await ctx.objects.configMap(ns, 'kube-root-ca.crt'))) writeFile(dir, 'ca.crt', ctx.caPem, mode);
        else await keyed(dir, 'configmap', ns, s.configMap.name, s.configMap.items, s.configMap.optional, mode, ctx);
      } else if (s.secret) await keyed(dir, 'secret', ns, s.secret.name, s.secret.items, s.secret.optional, mode, ctx);
      else if (s.downwardAPI) for (const it of s.downwardAPI.items) writeFile(dir, it.path, fieldValue(pod, it.fieldRef?.fieldPath ?? '', ctx.facts), mode);
    }
  } else throw new ConfigError(`volumes[${v.name}]: unsupported volume type (supported: emptyDir, hostPath, configMap, secret, projected, downwardAPI)`);
  return dir;
}

/** Prepares every volume and plans the pod's bind mounts (init containers' mounts included). */
export async function planMounts(pod: Pod, podDir: string, ctx: VolumeContext): Promise<MountPlan[]> {
  const sources = new Map<string, string>();
  for (const v of pod.spec.volumes ?? []) sources.set(v.name, await prepareVolume(pod, v, podDir, ctx));
  const byTarget = new Map<string, MountPlan>();
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const [i, m] of (c.volumeMounts ?? []).entries()) {
      const src = sources.get(m.name);
      if (src === undefined) throw new ConfigError(`containers[${c.name}].volumeMounts[${i}].name: volume ${JSON.stringify(m.name)} not found`);
      const plan = { source: m.subPath ? join(src, m.subPath) : src, target: normalize(m.mountPath), readOnly: !!m.readOnly };
      if (m.subPath && !existsSync(plan.source)) mkdirSync(plan.source, { recursive: true });
      const prev = byTarget.get(plan.target);
      if (prev && prev.source !== plan.source) {
        throw new ConfigError(`containers[${c.name}].volumeMounts[${i}].mountPath: ${plan.target} is mounted from another volume by a sibling container (containers of a pod share one mount namespace here)`);
      }
      byTarget.set(plan.target, plan);
    }
  }
  return [...byTarget.values()];
}
