// The desired content of the policy table, computed incrementally: (pods, namespaces, policies) →
// TableState (named sets with their elements, per-pod chains with their rules, the two verdict maps).
// Same semantics as model/policy.ts (the oracle the tests compare against), but laid out so that a pod
// change touches set elements and map entries, not chains:
//   - every distinct peer selector (policy namespace + podSelector + namespaceSelector) is one named set
//     `sel-<hash>` of the selected pods' IPs; ipBlocks stay inline in the rules;
//   - an egress rule with named ports adds, per (selector, port name, protocol), a concatenated set
//     `np-<hash>` of `ip . proto . port` for the selected pods that declare that port;
//   - a pod's chain refers to sets by name, so its text depends only on the policies selecting it (and,
//     for ingress named ports, on its own declared ports).
// The Compiler keeps caches between calls (parsed policies, set membership, which policies select
// each pod, chain rules keyed by their inputs), so one policy write or one pod change costs only what
// it touches. Everything here is pure: no kernel, no clock.

import { createHash } from 'node:crypto';
import { fromLabelSelector, matches, type LabelSelector } from '../../../api/labels.js';
import { policyTypes, podKey, resolvePorts, type Block, type NamespaceInfo, type PodInfo, type Protocol } from '../model/policy.js';
import { egressChain, ingressChain, peerMatches, portMatches, proto } from '../nftables/rules.js';

// ---------------------------------------------------------------------------------------------------
// the state (shared with nftables/transaction.ts): treat every collection in it as immutable

/** Element type of a named set: pod addresses, or `ip . proto . port` for egress named ports. */
export type SetType = 'ipv4_addr' | 'ipv4_addr . inet_proto . inet_service';

/** One named set. */
export interface SetState {
  type: SetType;
  elements: ReadonlySet<string>;
}

/** The whole table's content, as the diff sees it. */
export interface TableState {
  /** set name → type and elements */
  sets: ReadonlyMap<string, SetState>;
  /** chain name → rules (the forward chain is fixed and not listed) */
  chains: ReadonlyMap<string, readonly string[]>;
  /** pod IP → chain it jumps to, per direction */
  ingress: ReadonlyMap<string, string>;
  egress: ReadonlyMap<string, string>;
}

/** A table with nothing in it. */
export const emptyState = (): TableState => ({ sets: new Map(), chains: new Map(), ingress: new Map(), egress: new Map() });

// ---------------------------------------------------------------------------------------------------
// parsed inputs

interface Rule {
  /** no peers: any address */
  all: boolean;
  /** selector keys of the pod/namespace peers */
  selectors: string[];
  blocks: Block[];
  ports: any[] | undefined;
  /** named (non-numeric) ports of this rule */
  named: { name: string; protocol: Protocol }[];
}

interface Policy {
  id: number;
  /** `namespace/name`: names the policy's chains, so an update rewrites them in place */
  sortKey: string;
  ns: string;
  podSel: LabelSelector;
  ingress?: Rule[];
  egress?: Rule[];
  /** an ingress rule names a port: the policy's ingress chain has a variant per resolution */
  namedIngress: boolean;
  /** namespace + canonical podSelector: policies sharing it select exactly the same pods */
  selKey: string;
}

interface Selector {
  setName: string;
  /** '*': every pod (egress named ports towards any address) */
  all: boolean;
  podSel?: LabelSelector;
  nsSel?: LabelSelector;
  ns?: string;
  members: Map<string, string>;
  elements: ReadonlySet<string>;
  /** bumped when members change or a member pod changes (its named ports may have) */
  version: number;
}

/** The policies selecting one pod, valid while its fingerprint and its namespace's policy list hold; `out` caches its chains. */
interface Selecting {
  fp: string;
  gen: string;
  policies: Policy[];
  out?: PodOutput[];
}

/** What one pod contributes in one direction: its jump-list chain and the policy chains it jumps to. */
interface PodOutput {
  dir: 'ingress' | 'egress';
  /** cache key of the pod chain (name + jumps) */
  jk: string;
  podChain: Chain;
  /** [cache key, chain] */
  policyChains: [string, Chain][];
}

interface Chain {
  name: string;
  rules: readonly string[];
  sets: string[];
}

const ALL_PODS = '["*"]';
const hash = (s: string) => createHash('sha1').update(s).digest('hex').slice(0, 12);
/** The chain egress allow rules go to: the destination's ingress check, then accept (nftables/transaction.ts). */
export const INGRESS_CHECK = 'ingress-check';
/** A policy's chain per direction (and named-port resolution): `pol-in-<hash>` / `pol-eg-<hash>`, stable across updates. */
export const policyChainName = (dir: 'ingress' | 'egress', key: string, res: string) => `pol-${dir === 'ingress' ? 'in' : 'eg'}-${hash(`${key}|${res}`)}`;
/** The chain of all policies sharing one podSelector in one namespace (and named-port resolution): `grp-in-<hash>` / `grp-eg-<hash>`. */
export const groupChainName = (dir: 'ingress' | 'egress', selKey: string, res: string) => `grp-${dir === 'ingress' ? 'in' : 'eg'}-${hash(`${selKey}|${res}`)}`;
/** Set name for a peer selector key. */
export const selectorSetName = (key: string) => `sel-${hash(key)}`;
/** Set name for (selector key, port name, protocol). */
export const namedSetName = (key: string, name: string, p: Protocol) => `np-${hash(`${key}|${name}|${p}`)}`;

const podFingerprint = (p: PodInfo) => `${p.ip}|${JSON.stringify(p.labels)}|${JSON.stringify(p.ports)}`;

/**
 * Computes TableStates; keep one per table and feed it every sync. Each call returns a fresh state
 * object; unchanged sets and chains are the same objects as last time (the diff skips them by identity).
 */
export class Compiler {
  private nextId = 1;
  private nextVersion = 1;
  private parsed = new WeakMap<object, Policy>();
  private selectors = new Map<string, Selector>();
  private pods = new Map<string, { fp: string; info: PodInfo }>();
  private nsFp = '';
  private nsLabels = new Map<string, Record<string, string>>();
  /** pod key → policies selecting it, valid while the pod and its namespace's policy list are unchanged */
  private selecting = new Map<string, Selecting>();
  /** policy chains by (direction, policy object, resolution) */
  private chains = new Map<string, Chain>();
  /** named-port resolutions by (policy id, pod ports), kept while used */
  private resolutions = new Map<string, string>();
  private usedResolutions = new Map<string, string>();
  /** pod chains (jump lists) by (name, jumps): kept so unchanged ones keep their identity */
  private podChains = new Map<string, Chain>();
  private named = new Map<string, { version: number; elements: ReadonlySet<string> }>();

  /** The desired table for these inputs. */
  compile(pods: PodInfo[], namespaces: NamespaceInfo[], policies: any[]): TableState {
    // namespaces: any label change re-evaluates every selector (rare, and cheap next to a resync)
    const nsLabels = new Map<string, Record<string, string>>();
    for (const n of namespaces) nsLabels.set(n.name, { 'kubernetes.io/metadata.name': n.name, ...n.labels });
    const nsFp = JSON.stringify([...nsLabels].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    const nsChanged = nsFp !== this.nsFp;
    this.nsFp = nsFp;
    this.nsLabels = nsLabels;

    // pods: which keys were added, removed or changed since the last call
    const live = new Map<string, { fp: string; info: PodInfo }>();
    for (const p of pods) if (p.ip && !p.hostNetwork) live.set(podKey(p), { fp: podFingerprint(p), info: p });
    const changed: string[] = [];
    for (const [k, v] of live) if (this.pods.get(k)?.fp !== v.fp) changed.push(k);
    for (const k of this.pods.keys()) if (!live.has(k)) changed.push(k);
    this.pods = live;

    // policies: parsed once per object, indexed by namespace
    const byNs = new Map<string, Policy[]>();
    const usedSelectors = new Set<string>();
    for (const o of policies) {
      const p = this.parse(o);
      let l = byNs.get(p.ns);
      if (!l) byNs.set(p.ns, (l = []));
      l.push(p);
    }
    for (const l of byNs.values()) l.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    // selector key → named-port sets wanted on it (egress only)
    const wanted = new Map<string, Map<string, { name: string; protocol: Protocol }>>();
    for (const l of byNs.values()) for (const p of l) {
      for (const r of p.ingress ?? []) for (const s of r.selectors) usedSelectors.add(s);
      for (const r of p.egress ?? []) {
        for (const s of r.selectors) usedSelectors.add(s);
        if (r.all && r.named.length) usedSelectors.add(ALL_PODS);
        for (const n of r.named) for (const k of r.all ? [ALL_PODS] : r.selectors) {
          let w = wanted.get(k);
          if (!w) wanted.set(k, (w = new Map()));
          w.set(namedSetName(k, n.name, n.protocol), n);
        }
      }
    }
    for (const k of this.selectors.keys()) if (!usedSelectors.has(k)) this.selectors.delete(k);
    for (const k of usedSelectors) this.updateSelector(k, nsChanged, changed);

    // per pod: selecting policies → chains (cached by their inputs) → map entries
    const gens = new Map<string, string>();
    for (const [ns, l] of byNs) gens.set(ns, l.map((p) => p.id).join(','));
    const chains = new Map<string, readonly string[]>();
    const usedSets = new Set<string>();
    const ingress = new Map<string, string>();
    const egress = new Map<string, string>();
    const nextChains = new Map<string, Chain>();
    const nextPodChains = new Map<string, Chain>();
    const nextSelecting = new Map<string, Selecting>();
    for (const [key, { fp, info }] of [...live].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const gen = gens.get(info.namespace) ?? '';
      let sel = this.selecting.get(key);
      if (!sel || sel.fp !== fp || sel.gen !== gen) {
        const policies = (byNs.get(info.namespace) ?? []).filter((p) => matches(p.podSel, info.labels));
        sel = { fp, gen, policies };
      }
      nextSelecting.set(key, sel);
      // same pod, same namespace policy list: the same chains as last time (their inputs are unchanged)
      sel.out ??= this.podOutputs(key, info, sel.policies, nextChains);
      for (const o of sel.out) {
        for (const [ck, c] of o.policyChains) {
          nextChains.set(ck, c);
          chains.set(c.name, c.rules);
          for (const s of c.sets) usedSets.add(s);
        }
        nextPodChains.set(o.jk, o.podChain);
        chains.set(o.podChain.name, o.podChain.rules);
        (o.dir === 'ingress' ? ingress : egress).set(info.ip!, o.podChain.name);
      }
    }
    this.chains = nextChains;
    this.podChains = nextPodChains;
    this.resolutions = this.usedResolutions;
    this.usedResolutions = new Map();
    this.selecting = nextSelecting;
    return { sets: this.setsFor(usedSets, wanted), chains, ingress, egress };
  }

  // -------------------------------------------------------------------------------------------------

  private parse(o: any): Policy {
    let p = this.parsed.get(o);
    if (p) return p;
    const ns = o.metadata?.namespace ?? 'default';
    const spec = o.spec ?? {};
    const types = policyTypes(spec);
    const rules = (list: any[] | undefined, dir: 'from' | 'to'): Rule[] => (list ?? []).map((r) => this.parseRule(r, dir, ns));
    const podSel = fromLabelSelector(spec.podSelector ?? {});
    p = { id: this.nextId++, sortKey: `${ns}/${o.metadata?.name ?? ''}`, ns, podSel, selKey: `${ns}|${JSON.stringify(podSel.requirements)}`, namedIngress: false };
    if (types.has('Ingress')) p.ingress = rules(spec.ingress, 'from');
    p.namedIngress = !!p.ingress?.some((r) => r.named.length);
    if (types.has('Egress')) p.egress = rules(spec.egress, 'to');
    this.parsed.set(o, p);
    return p;
  }

  private parseRule(r: any, dir: 'from' | 'to', ns: string): Rule {
    const peers: any[] = r?.[dir] ?? [];
    const selectors = new Set<string>();
    const blocks: Block[] = [];
    for (const peer of peers) {
      if (peer.ipBlock) blocks.push({ cidr: peer.ipBlock.cidr, except: [...(peer.ipBlock.except ?? [])] });
      else selectors.add(JSON.stringify([
        peer.namespaceSelector ? fromLabelSelector(peer.namespaceSelector).requirements : null,
        peer.namespaceSelector ? null : ns,
        peer.podSelector ? fromLabelSelector(peer.podSelector).requirements : [],
      ]));
    }
    const named = (r?.ports ?? []).filter((p: any) => typeof p.port === 'string' && !/^[0-9]+$/.test(p.port))
      .map((p: any) => ({ name: p.port as string, protocol: (p.protocol ?? 'TCP') as Protocol }));
    return { all: !peers.length, selectors: [...selectors].sort(), blocks, ports: r?.ports, named };
  }

  /** Brings one selector's members up to date: all pods when new or namespaces changed, else only `changed`. */
  private updateSelector(key: string, nsChanged: boolean, changed: string[]): void {
    let s = this.selectors.get(key);
    let todo: Iterable<string> = changed;
    const changedSet = new Set(changed);
    if (!s || nsChanged) {
      if (!s) {
        const [nsReqs, ns, podReqs] = key === ALL_PODS ? [null, null, []] : JSON.parse(key);
        s = { setName: selectorSetName(key), all: key === ALL_PODS, ns: ns ?? undefined, members: new Map(), elements: new Set(), version: this.nextVersion++,
          nsSel: nsReqs ? { requirements: nsReqs } : undefined, podSel: { requirements: podReqs } };
        this.selectors.set(key, s);
      }
      todo = new Set([...changed, ...this.pods.keys(), ...s.members.keys()]);
    }
    let dirty = false;
    for (const k of todo) {
      const pod = this.pods.get(k)?.info;
      const want = pod !== undefined && this.selects(s, pod);
      if (want) {
        dirty ||= !s.members.has(k) || s.members.get(k) !== pod.ip || changedSet.has(k);
        s.members.set(k, pod.ip!);
      } else if (s.members.delete(k)) dirty = true;
    }
    if (dirty) {
      s.version = this.nextVersion++;
      s.elements = new Set(s.members.values());
    }
  }

  private selects(s: Selector, pod: PodInfo): boolean {
    if (s.all) return true;
    const inNs = s.nsSel ? matches(s.nsSel, this.nsLabels.get(pod.namespace) ?? { 'kubernetes.io/metadata.name': pod.namespace }) : pod.namespace === s.ns;
    return inNs && matches(s.podSel!, pod.labels);
  }

  /**
   * One policy's chain in one direction: each allow entry → ingress `accept`, egress `goto ingress-check`
   * (the destination's ingress still decides). No match falls through to the pod chain's next jump, and
   * after the last one to its `drop`. `res` (ingress named ports resolved on this pod) names a variant.
   */
  private policyChain(dir: 'ingress' | 'egress', p: Policy, pod: PodInfo, res: string): Chain {
    const addr = dir === 'ingress' ? 'saddr' : 'daddr';
    const verdict = dir === 'ingress' ? 'accept' : `goto ${INGRESS_CHECK}`;
    const rules = new Set<string>();
    const sets = new Set<string>();
    const add = (peer: string, ports: ReturnType<typeof resolvePorts>) => {
      for (const port of portMatches(ports, false)) rules.add(`${peer}${port}${verdict}`);
    };
    for (const r of p[dir]!) {
      // ingress: names resolve on this pod; egress: numeric ports here, names per destination below
      const ports = resolvePorts(r.ports, dir === 'ingress' ? pod : undefined);
      if (ports === 'all' || ports.length) {
        if (r.all) add('', ports);
        for (const k of r.selectors) {
          const s = this.selectors.get(k)!;
          sets.add(s.setName);
          add(`ip ${addr} @${s.setName} `, ports);
        }
        for (const m of peerMatches(addr, r.blocks, false)) add(m, ports);
      }
      if (dir === 'egress') {
        for (const n of r.named) for (const k of r.all ? [ALL_PODS] : r.selectors) {
          const name = namedSetName(k, n.name, n.protocol);
          sets.add(name);
          rules.add(`ip daddr . meta l4proto . th dport @${name} ${verdict}`);
        }
      }
    }
    return { name: policyChainName(dir, p.sortKey, res), rules: [...rules], sets: [...sets].sort() };
  }

  /**
   * One pod's chains per direction: one chain per (policy, direction[, this pod's named-port
   * resolution]), and the pod's own chain that only jumps to them, so a policy's rules are written once
   * however many pods it selects.
   */
  private podOutputs(key: string, info: PodInfo, policies: Policy[], fresh: Map<string, Chain>): PodOutput[] {
    const out: PodOutput[] = [];
    let portsKey: string | undefined;
    for (const dir of ['ingress', 'egress'] as const) {
      const mine = policies.filter((p) => p[dir]);
      if (!mine.length) continue;
      const policyChains: [string, Chain][] = [];
      // policies with the same podSelector select the same pods: one group chain jumps to all of them,
      // so a pod chain has one jump per distinct selector, not per policy (fewer rules: every `nft` call
      // reads the whole ruleset, and element updates cost in proportion to it)
      const groups = new Map<string, { jumps: string[]; res: string[] }>();
      for (const p of mine) {
        const res = dir === 'ingress' && p.namedIngress ? this.resolution(p, info, (portsKey ??= JSON.stringify(info.ports))) : '';
        const ck = `${dir}|${p.id}|${res}`;
        const c = fresh.get(ck) ?? this.chains.get(ck) ?? this.policyChain(dir, p, info, res);
        fresh.set(ck, c);
        policyChains.push([ck, c]);
        let g = groups.get(p.selKey);
        if (!g) groups.set(p.selKey, (g = { jumps: [], res: [] }));
        g.jumps.push(`jump ${c.name}`);
        g.res.push(res);
      }
      const jumps: string[] = [];
      for (const [selKey, g] of groups) {
        if (g.jumps.length === 1) {
          jumps.push(g.jumps[0]!);
          continue;
        }
        const ck = `group|${dir}|${g.jumps.join(',')}`;
        const c = fresh.get(ck) ?? this.chains.get(ck) ?? { name: groupChainName(dir, selKey, g.res.join(',')), rules: g.jumps, sets: [] };
        fresh.set(ck, c);
        policyChains.push([ck, c]);
        jumps.push(`jump ${c.name}`);
      }
      const name = dir === 'ingress' ? ingressChain(key) : egressChain(key);
      const jk = `${name}|${jumps.join(',')}`;
      out.push({ dir, jk, podChain: this.podChains.get(jk) ?? { name, rules: [...jumps, 'counter drop'], sets: [] }, policyChains });
    }
    return out;
  }

  /** The ports an ingress-named-port policy resolves to on this pod (cached by policy and the pod's ports). */
  private resolution(p: Policy, pod: PodInfo, portsKey: string): string {
    const k = `${p.id}|${portsKey}`;
    let r = this.resolutions.get(k);
    if (r === undefined) {
      r = JSON.stringify(p.ingress!.map((x) => resolvePorts(x.ports, pod)));
      this.resolutions.set(k, r);
    }
    this.usedResolutions.set(k, r);
    return r;
  }

  /** The referenced sets with their current elements (unchanged ones keep their identity). */
  private setsFor(used: Set<string>, wanted: Map<string, Map<string, { name: string; protocol: Protocol }>>): Map<string, SetState> {
    const out = new Map<string, SetState>();
    const nextNamed = new Map<string, { version: number; elements: ReadonlySet<string> }>();
    for (const [key, s] of this.selectors) {
      if (used.has(s.setName)) out.set(s.setName, { type: 'ipv4_addr', elements: s.elements });
      // named-port sets: derived from their selector's members, recomputed only when those moved
      for (const [name, n] of wanted.get(key) ?? []) {
        if (!used.has(name)) continue;
        let c = this.named.get(name);
        if (!c || c.version !== s.version) {
          const els = new Set<string>();
          for (const podK of s.members.keys()) {
            const pod = this.pods.get(podK)!.info;
            const port = pod.ports.find((x) => x.name === n.name && x.protocol === n.protocol);
            if (port) els.add(`${pod.ip} . ${proto[n.protocol]} . ${port.port}`);
          }
          c = { version: s.version, elements: els };
        }
        nextNamed.set(name, c);
        out.set(name, { type: 'ipv4_addr . inet_proto . inet_service', elements: c.elements });
      }
    }
    this.named = nextNamed;
    return out;
  }
}
