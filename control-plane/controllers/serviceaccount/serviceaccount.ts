// The service account controller: every active namespace gets a `default` ServiceAccount, and every
// ServiceAccount a token Secret (`<sa>-token`, type kubernetes.io/service-account-token, with `token`,
// `ca.crt` and `namespace`), which the SA lists in `secrets`, as kube did before 1.24. The token is a
// JWT signed by token.ts; a Secret whose token is missing is filled in again.

import type { KubeObject } from '../../../api/meta.js';
import { isAlreadyExists, isApiReason, isNotFound, keyOf } from '../../../api/client/index.js';
import { Controller } from '../controller.js';
import type { ControllerContext } from '../context.js';
import { refs } from '../informers.js';
import { serviceAccountToken } from './token.js';

/** Settings: the signing key and the cluster CA to put in each Secret. */
export interface ServiceAccountOptions {
  privateKeyPem: string;
  caPem: string;
}

/** The service account + token controller. Keys: `ns:<name>` for namespaces, `ns/name` for accounts. */
export function serviceAccountController(ctx: ControllerContext, o: ServiceAccountOptions): Controller {
  const nsInf = ctx.informers.for(refs.namespaces);
  const saInf = ctx.informers.for(refs.serviceaccounts);
  const secInf = ctx.informers.for(refs.secrets);
  const c = new Controller({ name: 'serviceaccount', log: ctx.log, reconcile });
  nsInf.addEventHandler({ onAdd: (n) => c.enqueue(`ns:${n.metadata.name}`), onUpdate: (_o, n) => c.enqueue(`ns:${n.metadata.name}`) });
  saInf.addEventHandler({ onAdd: (s) => c.enqueue(keyOf(s)), onUpdate: (_o, s) => c.enqueue(keyOf(s)), onDelete: (s) => c.enqueue(`ns:${s.metadata.namespace}`) });
  const secretOwner = (s: KubeObject) => {
    const sa = s.metadata.annotations?.['kubernetes.io/service-account.name'];
    if (s.type === 'kubernetes.io/service-account-token' && sa) c.enqueue(`${s.metadata.namespace}/${sa}`);
  };
  secInf.addEventHandler({ onUpdate: (_o, s) => secretOwner(s), onDelete: secretOwner });

  async function reconcile(key: string) {
    if (key.startsWith('ns:')) {
      const name = key.slice(3);
      const ns = nsInf.get(name);
      if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
      if (saInf.get(`${name}/default`)) return;
      try {
        await ctx.client.create(refs.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } }, { namespace: name });
      } catch (e) {
        if (!isAlreadyExists(e) && !isApiReason(e, 'Forbidden')) throw e; // Forbidden: the namespace is terminating
      }
      return;
    }
    const sa = saInf.get(key);
    if (!sa || sa.metadata.deletionTimestamp) return;
    const ns = sa.metadata.namespace!;
    const secretName = `${sa.metadata.name}-token`;
    const existing = secInf.get(`${ns}/${secretName}`);
    if (existing && existing.data?.token && existing.metadata.annotations?.['kubernetes.io/service-account.uid'] === sa.metadata.uid) {
      if (!(sa.secrets ?? []).some((s: any) => s.name === secretName)) {
        await ctx.client.update(refs.serviceaccounts, { ...structuredClone(sa), secrets: [...(sa.secrets ?? []), { name: secretName }] }, { namespace: ns });
      }
      return;
    }
    const token = serviceAccountToken(o.privateKeyPem, { namespace: ns, name: sa.metadata.name!, uid: sa.metadata.uid!, secretName }, ctx.now());
    const data = { token: b64(token), 'ca.crt': b64(o.caPem), namespace: b64(ns) };
    const secret: KubeObject = {
      apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token',
      metadata: {
        name: secretName, namespace: ns,
        annotations: { 'kubernetes.io/service-account.name': sa.metadata.name!, 'kubernetes.io/service-account.uid': sa.metadata.uid! },
        ownerReferences: [{ apiVersion: 'v1', kind: 'ServiceAccount', name: sa.metadata.name!, uid: sa.metadata.uid! }],
      },
      data,
    };
    if (existing) {
      await ctx.client.update(refs.secrets, { ...secret, metadata: { ...secret.metadata, resourceVersion: existing.metadata.resourceVersion } }, { namespace: ns }).catch((e) => { if (!isNotFound(e)) throw e; });
    } else {
      await ctx.client.create(refs.secrets, secret, { namespace: ns }).catch((e) => { if (!isAlreadyExists(e)) throw e; });
    }
  }
  return c;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
