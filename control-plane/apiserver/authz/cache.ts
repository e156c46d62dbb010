// The RBAC objects in memory, as the authorizer's informers in kube-apiserver: the four kinds are listed
// once and then kept by a watch from the list's revision, so authorizing a request reads maps, never the
// store. A write is visible to the authorizer once its watch event arrives (milliseconds; Kubernetes is
// eventually consistent here too). A watch that fails re-lists.

import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import type { Watch } from '../../store/types.js';
import { registry } from '../api-adapter.js';
import type { ObjectStore } from '../storage/objects.js';
import type { RbacSource } from './rbac.js';

const G = 'rbac.authorization.k8s.io';
const KINDS = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'] as const;
type Plural = (typeof KINDS)[number];

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** The RBAC objects of one store, kept current by watches. */
export class RbacCache implements RbacSource {
  private readonly maps: Record<Plural, Map<string, KubeObject>> = { roles: new Map(), clusterroles: new Map(), rolebindings: new Map(), clusterrolebindings: new Map() };
  private readonly watches = new Map<Plural, Watch>();
  /** RoleBindings by namespace (a request reads only its namespace's) */
  private readonly bindingsByNs = new Map<string, Map<string, KubeObject>>();
  private stopped = false;
  /** called after every change (the aggregation controller listens) */
  onChange?: (plural: Plural, obj: KubeObject) => void;

  constructor(private readonly objects: ObjectStore) {}

  /** Lists and starts watching; resolves once every kind is loaded. */
  async start(): Promise<void> {
    await Promise.all(KINDS.map((k) => this.sync(k)));
  }

  private async sync(plural: Plural): Promise<void> {
    if (this.stopped) return;
    const rt = registry.get(G, 'v1', plural) as ResourceType;
    const l = await this.objects.list(rt, '');
    const m = this.maps[plural];
    m.clear();
    for (const o of l.items) m.set(keyOf(o), o);
    this.watches.get(plural)?.stop();
    if (plural === 'rolebindings') this.reindexRoleBindings();
    const w = await this.objects.watch(rt, '', l.revision, (ev) => {
      if (ev.type === 'DELETED') m.delete(keyOf(ev.object));
      else m.set(keyOf(ev.object), ev.object);
      if (plural === 'rolebindings') {
        const ns = ev.object.metadata.namespace ?? '';
        if (!this.bindingsByNs.has(ns)) this.bindingsByNs.set(ns, new Map());
        if (ev.type === 'DELETED') this.bindingsByNs.get(ns)!.delete(ev.object.metadata.name!);
        else this.bindingsByNs.get(ns)!.set(ev.object.metadata.name!, ev.object);
      }
      this.onChange?.(plural, ev.object);
    }, () => {
      // history gone or the watch broke: list again after a pause
      setTimeout(() => void this.sync(plural).catch(() => undefined), 500).unref();
    });
    if (this.stopped) w.stop();
    else this.watches.set(plural, w);
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches.values()) w.stop();
  }

  clusterRole(name: string) { return this.maps.clusterroles.get(`/${name}`); }
  role(namespace: string, name: string) { return this.maps.roles.get(`${namespace}/${name}`); }
  clusterRoleBindings() { return this.maps.clusterrolebindings.values(); }
  roleBindings(namespace: string) {
    return this.bindingsByNs.get(namespace)?.values() ?? [];
  }

  private reindexRoleBindings(): void {
    this.bindingsByNs.clear();
    for (const b of this.maps.rolebindings.values()) {
      const ns = b.metadata.namespace ?? '';
      if (!this.bindingsByNs.has(ns)) this.bindingsByNs.set(ns, new Map());
      this.bindingsByNs.get(ns)!.set(b.metadata.name!, b);
    }
  }
  /** every ClusterRole (aggregation) */
  clusterRoles() { return this.maps.clusterroles.values(); }
}
