// Keeping the default policy and the aggregated ClusterRoles, as kube-apiserver's RBAC post-start hook and
// the controller manager's clusterrole-aggregation controller do:
// - `reconcileDefaultPolicy` creates every default ClusterRole and ClusterRoleBinding that is missing and
//   adds back missing rules / subjects / labels to those that exist, keeping whatever a user added; an
//   object annotated `rbac.authorization.kubernetes.io/autoupdate: "false"` is left alone.
// - `AggregationController`: every ClusterRole with an `aggregationRule` gets, as its rules, the union of
//   the rules of the ClusterRoles its selectors match, whenever any ClusterRole changes.

import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { ApiError } from '../../../api/errors.js';
import { fromLabelSelector, matches } from '../../../api/labels.js';
import { registry } from '../api-adapter.js';
import type { Writer, WriteContext } from '../handlers/write.js';
import { ADMIN } from '../layers/core.js';
import type { ObjectStore } from '../storage/objects.js';
import { DEFAULT_CLUSTER_ROLES, DEFAULT_CLUSTER_ROLE_BINDINGS, subjectOf } from './bootstrap-policy.js';
import type { RbacCache } from './cache.js';

const G = 'rbac.authorization.k8s.io';
const AUTOUPDATE = 'rbac.authorization.kubernetes.io/autoupdate';
const BOOTSTRAP_LABEL = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const rt = (plural: string) => registry.get(G, 'v1', plural) as ResourceType;
const ctx = (): WriteContext => ({ user: ADMIN, dryRun: false, fieldManager: 'kube-apiserver', now: new Date() });
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

async function createOrKeep(writer: Writer, r: ResourceType, obj: KubeObject): Promise<void> {
  try {
    await writer.create(r, '', obj, ctx());
  } catch (e) {
    if (!(e instanceof ApiError && e.reason === 'AlreadyExists')) throw e;
  }
}

/** Creates or tops up the default ClusterRoles and ClusterRoleBindings. */
export async function reconcileDefaultPolicy(objects: ObjectStore, writer: Writer): Promise<void> {
  const meta = (name: string, labels?: Record<string, string>) => ({ name, labels: { ...BOOTSTRAP_LABEL, ...labels }, annotations: { [AUTOUPDATE]: 'true' } });
  for (const d of DEFAULT_CLUSTER_ROLES) {
    const want: any = { apiVersion: `${G}/v1`, kind: 'ClusterRole', metadata: meta(d.name, d.labels), rules: d.rules };
    if (d.aggregateFrom) want.aggregationRule = { clusterRoleSelectors: d.aggregateFrom.map((l) => ({ matchLabels: { [l]: 'true' } })) };
    const cur: any = await objects.get(rt('clusterroles'), '', d.name);
    if (!cur) {
      await createOrKeep(writer, rt('clusterroles'), want);
      continue;
    }
    if (cur.metadata.annotations?.[AUTOUPDATE] === 'false') continue;
    const next = structuredClone(cur);
    next.metadata.labels = { ...want.metadata.labels, ...cur.metadata.labels };
    next.metadata.annotations = { ...want.metadata.annotations, ...cur.metadata.annotations };
    // aggregated roles' rules belong to the aggregation controller
    if (!d.aggregateFrom) next.rules = [...(cur.rules ?? []), ...d.rules.filter((r) => !(cur.rules ?? []).some((c: unknown) => same(c, r)))];
    if (want.aggregationRule) {
      const sel = next.aggregationRule?.clusterRoleSelectors ?? [];
      next.aggregationRule = { clusterRoleSelectors: [...sel, ...want.aggregationRule.clusterRoleSelectors.filter((s: unknown) => !sel.some((c: unknown) => same(c, s)))] };
    }
    if (!same(next, cur)) await writer.update(rt('clusterroles'), '', d.name, '', next, ctx());
  }
  for (const b of DEFAULT_CLUSTER_ROLE_BINDINGS) {
    const subjects = b.subjects.map(subjectOf);
    const roleRef = { apiGroup: G, kind: 'ClusterRole', name: b.role };
    const want: any = { apiVersion: `${G}/v1`, kind: 'ClusterRoleBinding', metadata: meta(b.name), roleRef, subjects };
    const cur: any = await objects.get(rt('clusterrolebindings'), '', b.name);
    if (!cur) {
      await createOrKeep(writer, rt('clusterrolebindings'), want);
      continue;
    }
    if (cur.metadata.annotations?.[AUTOUPDATE] === 'false') continue;
    if (!same(cur.roleRef, roleRef)) {
      // roleRef is immutable: kube's reconciler deletes and re-creates the binding
      await writer.delete(rt('clusterrolebindings'), '', b.name, {}, ctx());
      await createOrKeep(writer, rt('clusterrolebindings'), { ...want, subjects: [...subjects, ...(cur.subjects ?? []).filter((s: unknown) => !subjects.some((w) => same(w, s)))] });
      continue;
    }
    const missing = subjects.filter((s) => !(cur.subjects ?? []).some((c: unknown) => same(c, s)));
    if (missing.length) await writer.update(rt('clusterrolebindings'), '', b.name, '', { ...cur, subjects: [...(cur.subjects ?? []), ...missing] }, ctx());
  }
}

/** The clusterrole-aggregation controller, fed by the RBAC cache's change events. */
export class AggregationController {
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;

  constructor(private readonly cache: RbacCache, private readonly writer: Writer, private readonly log: (msg: string) => void) {
    cache.onChange = (plural) => {
      if (plural === 'clusterroles') this.kick();
    };
  }

  /** Schedules one pass (changes arriving together are handled once). */
  kick(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, 20);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      await this.syncAll();
    } catch (e) {
      this.log(`clusterrole aggregation: ${(e as Error).message}`);
      this.again = true;
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    }
  }

  /** One pass over every aggregated ClusterRole. */
  async syncAll(): Promise<void> {
    const all = [...this.cache.clusterRoles()];
    for (const target of all as any[]) {
      const selectors = target.aggregationRule?.clusterRoleSelectors;
      if (!Array.isArray(selectors) || !selectors.length) continue;
      const sels = selectors.map((s: any) => fromLabelSelector(s));
      const rules: unknown[] = [];
      for (const src of all.filter((c) => c.metadata.name !== target.metadata.name).sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name))) as any[]) {
        if (!sels.some((s) => matches(s, src.metadata.labels))) continue;
        for (const r of src.rules ?? []) if (!rules.some((x) => same(x, r))) rules.push(r);
      }
      if (same(rules, target.rules ?? [])) continue;
      try {
        await this.writer.update(rt('clusterroles'), '', target.metadata.name, '', { ...target, rules }, ctx());
      } catch (e) {
        if (!(e instanceof ApiError && (e.reason === 'Conflict' || e.reason === 'NotFound'))) throw e;
        this.again = true;
      }
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
