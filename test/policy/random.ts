// Seeded random NetworkPolicies over the 4-pod test world (namespaces x, y; pods a, b), shared by the
// kernel tests. Peers may name the placeholders 'CIDR' and 'YB/32', which the tests fill in.

const np = (ns: string, spec: Record<string, any>, name = 'p') => ({ metadata: { namespace: ns, name }, spec });

/** mulberry32: a small seeded PRNG, so a failing seed can be replayed with SHOAL_POLICY_SEED. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random policy over the 4-pod world: selectors, peers, ports, types drawn from small pools. */
export function randomPolicy(r: () => number, i: number): any {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const sel = () => pick([{}, { matchLabels: { pod: 'a' } }, { matchLabels: { pod: 'b' } }, { matchExpressions: [{ key: 'pod', operator: 'NotIn', values: ['a'] }] }]);
  const peer = () => pick<any>([{ podSelector: sel() }, { namespaceSelector: pick([{}, { matchLabels: { ns: 'x' } }, { matchLabels: { ns: 'y' } }]) },
    { namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: sel() }, { ipBlock: { cidr: 'CIDR', except: ['YB/32'] } }]);
  const ports = () => pick<any>([undefined, [{ port: 80 }], [{ port: 'http' }], [{ protocol: 'UDP' }], [{ port: 79, endPort: 81 }], [{ port: 80, protocol: 'UDP' }]]);
  const rule = (dir: 'from' | 'to') => ({ ...(r() < 0.8 ? { [dir]: Array.from({ length: 1 + Math.floor(r() * 2) }, peer) } : {}), ...(r() < 0.7 ? { ports: ports() } : {}) });
  const types = pick([undefined, ['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
  const spec: any = { podSelector: sel() };
  if (!types || types.includes('Ingress')) spec.ingress = Array.from({ length: Math.floor(r() * 3) }, () => rule('from'));
  if (!types || types.includes('Egress')) spec.egress = Array.from({ length: Math.floor(r() * 3) }, () => rule('to'));
  if (types) spec.policyTypes = types;
  return np(pick(['x', 'y']), spec, `r${i}`);
}

