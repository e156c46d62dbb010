// Which user a container runs as: `securityContext.runAsUser` / `runAsGroup` of the container, else of the
// pod (Kubernetes' precedence), with the pod's `fsGroup` and `supplementalGroups` as supplementary groups.
// The process is started as root (it must join its cgroups first) and then execs through
// `setpriv --reuid --regid` into the command, so the PID the agent tracks stays the container's.
// A numeric user with no runAsGroup gets GID 0, as container runtimes do for a UID absent from the
// image's /etc/passwd (containers here share the host's filesystem). runAsNonRoot with no or a zero
// UID is refused, with the kubelet's message.

import type { ContainerSpec, Pod } from '../pods/types.js';

/** The identity to switch to; undefined fields mean "stay root". */
export interface ProcessIdentity {
  uid?: number;
  gid?: number;
  groups: number[];
}

/** Resolves the identity, or throws with the kubelet's CreateContainerConfigError message. */
export function processIdentity(pod: Pod, c: ContainerSpec): ProcessIdentity {
  const psc = pod.spec.securityContext ?? {};
  const csc = c.securityContext ?? {};
  const uid: number | undefined = csc.runAsUser ?? psc.runAsUser;
  const gid: number | undefined = csc.runAsGroup ?? psc.runAsGroup ?? (uid !== undefined ? 0 : undefined);
  const nonRoot: boolean | undefined = csc.runAsNonRoot ?? psc.runAsNonRoot;
  if (nonRoot && !uid) {
    throw new Error(uid === 0
      ? `container's runAsUser breaks non-root policy (pod: "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})", container: ${c.name})`
      : `container has runAsNonRoot and image will run as root (pod: "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})", container: ${c.name})`);
  }
  const groups = [...new Set([...(psc.fsGroup !== undefined ? [psc.fsGroup] : []), ...(psc.supplementalGroups ?? [])])];
  return { uid, gid, groups };
}

/** The argv prefix that switches to the identity (empty when the container runs as root). */
export function identityPrefix(id: ProcessIdentity): string[] {
  if (id.uid === undefined && id.gid === undefined && id.groups.length === 0) return [];
  const p = ['setpriv'];
  if (id.uid !== undefined) p.push(`--reuid=${id.uid}`);
  if (id.gid !== undefined) p.push(`--regid=${id.gid}`);
  p.push(id.groups.length ? `--groups=${id.groups.join(',')}` : '--clear-groups');
  p.push('--');
  return p;
}
