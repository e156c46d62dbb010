// The semantics of networking.k8s.io/v1 NetworkPolicy as a pure function: (pods, namespaces, policies)
// → per pod, for each direction, either "not isolated" or the list of allow entries (peer address blocks
// × port matches) that the union of the selecting policies grants. Nothing here touches the kernel; the
// nftables generator (../nftables/rules.ts) and the tests' truth tables both read this one result, so
// the kernel can be checked against the model packet by packet (`allowed`).

import { fromLabelSelector, matches } from '../../../api/labels.js';
import { ipv4InCidr } from '../../../lib/net/ip.js';

// ---------------------------------------------------------------------------------------------------
// inputs (the subset of Pod / Namespace / NetworkPolicy the semantics read)

/** A container port a pod declares (named ports resolve against these). */
export interface NamedPort {
  name: string;
  port: number;
  protocol: Protocol;
}

/** One pod as the model sees it: only pods with an IP take part. */
export interface PodInfo {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ip?: string;
  hostNetwork?: boolean;
  ports: NamedPort[];
}

/** One namespace: its labels (`kubernetes.io/metadata.name` is added if absent). */
export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
}

/** Protocols a policy port may name; never conflated. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

// ---------------------------------------------------------------------------------------------------
// output

/** An address block: `cidr` minus `except` (a pod is `ip/32` with no except). */
export interface Block {
  cidr: string;
  except: string[];
}

/** A port match: protocol with a port range, or the whole protocol when `port` is absent. */
export interface PortRange {
  protocol: Protocol;
  port?: number;
  endPort?: number;
}

/** One allow entry: traffic to/from any of `peers` ('all': any address) on any of `ports` ('all': any). */
export interface Allow {
  peers: Block[] | 'all';
  ports: PortRange[] | 'all';
}

/** What the policies say about one pod; `undefined` per direction means not isolated in it. */
export interface PodPolicy {
  key: string;
  ip: string;
  ingress?: Allow[];
  egress?: Allow[];
}

/** `namespace/name` */
export const podKey = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;

// ---------------------------------------------------------------------------------------------------
// conversion from API objects

/** Pod object → PodInfo (IP from status.podIP; ports from every container). */
export function podInfo(o: any): PodInfo {
  const ports: NamedPort[] = [];
  for (const c of [...(o.spec?.initContainers ?? []), ...(o.spec?.containers ?? [])])
    for (const p of c.ports ?? []) if (p.name) ports.push({ name: p.name, port: p.containerPort, protocol: p.protocol ?? 'TCP' });
  return {
    namespace: o.metadata?.namespace ?? 'default', name: o.metadata?.name ?? '', labels: o.metadata?.labels ?? {},
    ip: o.status?.podIP || undefined, hostNetwork: !!o.spec?.hostNetwork, ports,
  };
}

/** Namespace object → NamespaceInfo. */
export function namespaceInfo(o: any): NamespaceInfo {
  return { name: o.metadata?.name ?? '', labels: o.metadata?.labels ?? {} };
}

// ---------------------------------------------------------------------------------------------------
// the semantics

/**
 * Per-pod policy for every pod with an IP that is not on the host network, sorted by key. Policies are
 * additive: a pod is isolated in a direction when any policy selecting it has that policyType, and the
 * union of those policies' rules in that direction is what it allows.
 */
export function computePolicy(pods: PodInfo[], namespaces: NamespaceInfo[], policies: any[]): PodPolicy[] {
  const nsLabels = new Map<string, Record<string, string>>();
  for (const n of namespaces) nsLabels.set(n.name, { 'kubernetes.io/metadata.name': n.name, ...n.labels });
  const live = pods.filter((p) => p.ip && !p.hostNetwork).sort((a, b) => podKey(a).localeCompare(podKey(b)));
  // a rule's peers do not depend on the selected pod: computed once per rule per call
  const memo = new Map<any, Peers>();
  const peersOf = (rule: any, dir: 'from' | 'to', np: any): Peers => {
    let v = memo.get(rule);
    if (!v) memo.set(rule, (v = peerBlocks(rule[dir], np, live, nsLabels)));
    return v;
  };
  const out: PodPolicy[] = [];
  for (const pod of live) {
    const pp: PodPolicy = { key: podKey(pod), ip: pod.ip! };
    for (const np of policies) {
      if ((np.metadata?.namespace ?? 'default') !== pod.namespace) continue;
      if (!matches(fromLabelSelector(np.spec?.podSelector ?? {}), pod.labels)) continue;
      const types = policyTypes(np.spec ?? {});
      if (types.has('Ingress')) {
        pp.ingress ??= [];
        for (const r of np.spec?.ingress ?? []) pp.ingress.push(...ingressAllows(r, pod, peersOf(r, 'from', np)));
      }
      if (types.has('Egress')) {
        pp.egress ??= [];
        for (const r of np.spec?.egress ?? []) pp.egress.push(...egressAllows(r, live, peersOf(r, 'to', np)));
      }
    }
    out.push(pp);
  }
  return out;
}

/** policyTypes as given, else inferred: Ingress always, Egress when an egress section is non-empty. */
export function policyTypes(spec: any): Set<string> {
  if (Array.isArray(spec.policyTypes) && spec.policyTypes.length) return new Set(spec.policyTypes);
  return new Set(Array.isArray(spec.egress) && spec.egress.length ? ['Ingress', 'Egress'] : ['Ingress']);
}

/** Port matches of one rule: a list, or 'all' ports. */
export type Ports = PortRange[] | 'all';

/** Ingress: named ports resolve against the selected (destination) pod itself. */
function ingressAllows(rule: any, pod: PodInfo, peers: Peers): Allow[] {
  const ports = resolvePorts(rule.ports, pod);
  if (ports !== 'all' && !ports.length) return [];
  return [{ peers: peers.blocks, ports }];
}

/**
 * Egress: named ports resolve per destination pod, so pod peers whose resolution differs become
 * separate entries; ipBlock peers get only the numeric ports (a name means nothing outside a pod).
 */
function egressAllows(rule: any, pods: PodInfo[], peers: Peers): Allow[] {
  const hasNamed = (rule.ports ?? []).some((p: any) => typeof p.port === 'string');
  const { blocks, pods: peerPods, cidrs } = peers;
  if (!hasNamed) {
    const ports = resolvePorts(rule.ports, undefined);
    return ports !== 'all' && !ports.length ? [] : [{ peers: blocks, ports }];
  }
  const out: Allow[] = [];
  const byPorts = new Map<string, { ports: PortRange[]; peers: Block[] }>();
  const targets = blocks === 'all' ? pods : peerPods;
  for (const dst of targets) {
    const ports = resolvePorts(rule.ports, dst) as PortRange[];
    if (!ports.length) continue;
    const k = JSON.stringify(ports);
    const e = byPorts.get(k) ?? { ports, peers: [] };
    e.peers.push({ cidr: `${dst.ip}/32`, except: [] });
    byPorts.set(k, e);
  }
  for (const e of byPorts.values()) out.push({ peers: e.peers, ports: e.ports });
  const numeric = resolvePorts(rule.ports, undefined) as PortRange[];
  const rest = blocks === 'all' ? 'all' : cidrs;
  if (numeric.length && (rest === 'all' || rest.length)) out.push({ peers: rest, ports: numeric });
  return out;
}

/** The peers of one rule: as blocks, and the selected pods and ipBlocks separately. */
interface Peers {
  blocks: Block[] | 'all';
  pods: PodInfo[];
  cidrs: Block[];
}

/** Peers of one rule: absent or empty means any address; else pods by selector and ipBlocks. */
function peerBlocks(peers: any[] | undefined, np: any, pods: PodInfo[], ns: Map<string, Record<string, string>>): Peers {
  if (!peers || !peers.length) return { blocks: 'all', pods: [], cidrs: [] };
  const selected = new Map<string, PodInfo>();
  const cidrs: Block[] = [];
  const polNs = np.metadata?.namespace ?? 'default';
  for (const peer of peers) {
    if (peer.ipBlock) {
      cidrs.push({ cidr: peer.ipBlock.cidr, except: [...(peer.ipBlock.except ?? [])] });
      continue;
    }
    const podSel = peer.podSelector ? fromLabelSelector(peer.podSelector) : undefined;
    const nsSel = peer.namespaceSelector ? fromLabelSelector(peer.namespaceSelector) : undefined;
    for (const p of pods) {
      const inNs = nsSel ? matches(nsSel, ns.get(p.namespace) ?? { 'kubernetes.io/metadata.name': p.namespace }) : p.namespace === polNs;
      if (inNs && (!podSel || matches(podSel, p.labels))) selected.set(podKey(p), p);
    }
  }
  const sel = [...selected.values()];
  return { blocks: [...sel.map((p) => ({ cidr: `${p.ip}/32`, except: [] })), ...cidrs], pods: sel, cidrs };
}

/** Ports of one rule: absent or empty means all; names resolve on `pod` (none given: names dropped). */
export function resolvePorts(ports: any[] | undefined, pod: PodInfo | undefined): Ports {
  if (!ports || !ports.length) return 'all';
  const out: PortRange[] = [];
  for (const p of ports) {
    const protocol: Protocol = p.protocol ?? 'TCP';
    if (p.port === undefined) out.push({ protocol });
    else if (typeof p.port === 'number') out.push(p.endPort !== undefined ? { protocol, port: p.port, endPort: p.endPort } : { protocol, port: p.port });
    else if (/^[0-9]+$/.test(p.port)) out.push({ protocol, port: Number(p.port) });
    else {
      const named = pod?.ports.find((c) => c.name === p.port && c.protocol === protocol);
      if (named) out.push({ protocol, port: named.port });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// evaluation (the truth-table oracle)

/** Whether `ip` lies in the block. */
export function inBlock(ip: string, b: Block): boolean {
  return ipv4InCidr(ip, b.cidr) && !b.except.some((e) => ipv4InCidr(ip, e));
}

function allows(list: Allow[] | undefined, peer: string, protocol: Protocol, port: number): boolean {
  if (!list) return true;
  return list.some((a) => (a.peers === 'all' || a.peers.some((b) => inBlock(peer, b)))
    && (a.ports === 'all' || a.ports.some((p) => p.protocol === protocol && (p.port === undefined || (port >= p.port && port <= (p.endPort ?? p.port))))));
}

/**
 * Whether a new connection from `srcIp` to `dstIp`:`port`/`protocol` is allowed: the source pod's egress
 * (if it is a pod) and the destination pod's ingress (if it is one) must both allow it.
 */
export function allowed(model: PodPolicy[], srcIp: string, dstIp: string, protocol: Protocol, port: number): boolean {
  const src = model.find((p) => p.ip === srcIp);
  const dst = model.find((p) => p.ip === dstIp);
  return allows(src?.egress, dstIp, protocol, port) && allows(dst?.ingress, srcIp, protocol, port);
}
