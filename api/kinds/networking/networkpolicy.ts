// networking.k8s.io/v1 NetworkPolicy: pod selector, ingress/egress rules of peers and ports, with
// Kubernetes' policyTypes inference (Ingress always, Egress when egress rules exist), port protocol
// TCP, and its checks (one peer kind per peer, ipBlock.except strictly inside cidr, endPort rules).

import { age } from '../../age.js';
import { fromLabelSelector, toString as selectorString, validateLabelSelector } from '../../labels.js';
import { arr, enm, int, intOrStr, obj, str } from '../../schema/schema.js';
import { cidrCovers, parseCIDR } from '../../../lib/net/ip.js';
import { cidr } from '../../validation/names.js';
import { type FieldError, Path, asArr, asObj, dupChecker, each, ensureObj, fieldError, kindSchema, labelSelector, setDefault, validatePortNumOrName } from '../common.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';

const port = obj({ protocol: enm('TCP', 'UDP', 'SCTP'), port: intOrStr, endPort: int });
const peer = obj({ podSelector: labelSelector, namespaceSelector: labelSelector, ipBlock: obj({ cidr: str, except: arr(str) }, ['cidr']) });

const npSpec = obj(
  {
    podSelector: labelSelector,
    ingress: arr(obj({ ports: arr(port), from: arr(peer) })),
    egress: arr(obj({ ports: arr(port), to: arr(peer) })),
    policyTypes: arr(enm('Ingress', 'Egress')),
  },
  ['podSelector'],
);

/** policyTypes inference and port protocol defaults, in place. */
export function defaultNetworkPolicy(o: Record<string, any>): void {
  const spec = ensureObj(o, 'spec');
  if (!spec) return;
  for (const dir of ['ingress', 'egress'])
    for (const rule of asArr(spec[dir])) for (const p of asArr(asObj(rule)?.ports)) if (asObj(p)) setDefault(p, 'protocol', 'TCP');
  if (spec.policyTypes === undefined || spec.policyTypes === null || (Array.isArray(spec.policyTypes) && spec.policyTypes.length === 0)) {
    const types = ['Ingress'];
    if (Array.isArray(spec.egress) && spec.egress.length > 0) types.push('Egress');
    spec.policyTypes = types;
  }
}

function validatePeer(errs: FieldError[], p: Path, peerObj: any): void {
  const n = ['podSelector', 'namespaceSelector', 'ipBlock'].filter((k) => peerObj[k]).length;
  if (n === 0) errs.push(fieldError.required(p, 'must specify a peer'));
  else if (peerObj.ipBlock && n > 1) errs.push(fieldError.forbidden(p, 'may not specify both ipBlock and another peer'));
  errs.push(...validateLabelSelector(peerObj.podSelector, p.child('podSelector')));
  errs.push(...validateLabelSelector(peerObj.namespaceSelector, p.child('namespaceSelector')));
  const ib = peerObj.ipBlock;
  if (!ib) return;
  const bp = p.child('ipBlock');
  if (!ib.cidr) return void errs.push(fieldError.required(bp.child('cidr')));
  each(errs, bp.child('cidr'), ib.cidr, cidr(ib.cidr));
  const outer = parseCIDR(ib.cidr);
  asArr(ib.except).forEach((e: string, i: number) => {
    const ep = bp.child('except').index(i);
    const inner = parseCIDR(e);
    if (!inner) return each(errs, ep, e, cidr(e));
    if (outer && (!cidrCovers(outer, inner) || inner.prefix <= outer.prefix))
      errs.push(fieldError.invalid(ep, e, 'must be a strict subset of `cidr`'));
  });
}

function validatePorts(errs: FieldError[], p: Path, ports: any[]): void {
  ports.forEach((pt: any, i: number) => {
    const pp = p.index(i);
    if (pt.port !== undefined) validatePortNumOrName(errs, pp.child('port'), pt.port);
    if (pt.endPort !== undefined) {
      if (typeof pt.port !== 'number') errs.push(fieldError.required(pp.child('port'), 'must be specified when endPort is specified'));
      else if (pt.endPort < pt.port) errs.push(fieldError.invalid(pp.child('endPort'), pt.endPort, 'must be greater than or equal to `port`'));
      if (pt.endPort < 1 || pt.endPort > 65535) errs.push(fieldError.invalid(pp.child('endPort'), pt.endPort, 'must be between 1 and 65535, inclusive'));
    }
  });
}

/** networking.k8s.io/v1 NetworkPolicy */
export const networkPolicy = defineKind({
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  shortNames: ['netpol'],
  namespaced: true,
  schema: kindSchema({ spec: npSpec }),
  defaults: defaultNetworkPolicy,
  semantic(o) {
    const errs: FieldError[] = [];
    const spec = o.spec ?? {};
    const p = Path.root('spec');
    errs.push(...validateLabelSelector(spec.podSelector, p.child('podSelector')));
    asArr(spec.ingress).forEach((r: any, i: number) => {
      const rp = p.child('ingress').index(i);
      validatePorts(errs, rp.child('ports'), asArr(r.ports));
      asArr(r.from).forEach((pe: any, j: number) => validatePeer(errs, rp.child('from').index(j), pe));
    });
    asArr(spec.egress).forEach((r: any, i: number) => {
      const rp = p.child('egress').index(i);
      validatePorts(errs, rp.child('ports'), asArr(r.ports));
      asArr(r.to).forEach((pe: any, j: number) => validatePeer(errs, rp.child('to').index(j), pe));
    });
    const types = asArr(spec.policyTypes);
    if (types.length > 2) errs.push(fieldError.invalid(p.child('policyTypes'), types, 'may not specify more than two policyTypes'));
    const dup = dupChecker(errs);
    types.forEach((t: string, i: number) => dup(p.child('policyTypes').index(i), t));
    return errs;
  },
  columns: [nameCol, col('Pod-Selector'), ageCol],
  cells: (o, now) => {
    let sel = '<none>';
    try {
      sel = selectorString(fromLabelSelector(o.spec?.podSelector ?? {})) || '<none>';
    } catch {
      sel = '<error>';
    }
    return [o.metadata.name, sel, age(o.metadata.creationTimestamp, now)];
  },
});
