// The write path for one resource: create, update (main resource and /status, /scale), patch (four patch
// types, server-side apply included) and delete with finalizers, graceful deletion and propagation
// policies. Everything follows kube-apiserver's generic registry (staging/src/k8s.io/apiserver/pkg/
// registry/generic/registry/store.go): prepare the object, run admission, compare-and-swap in the store,
// retry an unconditional update when the store moved underneath.

import { randomUUID, randomBytes } from 'node:crypto';
import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { ApiError, errors } from '../../../api/errors.js';
import type { ObjectStore } from '../storage/objects.js';
import type { AdmissionChain, UserInfo } from '../admission/chain.js';
import { applyPatch, trackWrite, type PatchType } from './patch-adapter.js';
import { prepareUpdate } from '../api-adapter.js';

/** Per-request context shared by every handler. */
export interface WriteContext {
  user: UserInfo;
  dryRun: boolean;
  fieldManager: string;
  now: Date;
}

/** DeleteOptions (meta/v1), from the body or the query. */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  orphanDependents?: boolean;
}

const MAX_CAS_RETRIES = 8;

/** Lookups the write path needs outside its own resource. */
export interface WriteDeps {
  objects: ObjectStore;
  admission: AdmissionChain;
  /** the Namespace resource type, to check that a namespace exists and is not terminating */
  namespaces: ResourceType;
}

function clone<T>(o: T): T {
  return structuredClone(o);
}

/** Everything but metadata and status, to decide whether the spec changed (generation). */
function specOf(o: KubeObject): string {
  const { metadata: _m, status: _s, ...rest } = o;
  return JSON.stringify(rest);
}

/** The object without its resourceVersion, to detect writes that change nothing. */
function withoutVolatile(o: KubeObject): string {
  const m = { ...o.metadata };
  delete m.resourceVersion;
  return JSON.stringify({ ...o, metadata: m });
}

/** Kinds whose status a create keeps (the node agent registers a Node with its status). */
const KEEP_STATUS_ON_CREATE = new Set(['Node', 'Event']);

/** The write handlers for all resources. */
export class Writer {
  constructor(private readonly d: WriteDeps) {}

  // ---------------------------------------------------------------- create

  async create(rt: ResourceType, namespace: string, body: KubeObject, ctx: WriteContext): Promise<KubeObject> {
    const obj = clone(body);
    this.checkTypeMeta(rt, obj);
    obj.metadata ??= {};
    if (!obj.apiVersion) obj.apiVersion = rt.group ? `${rt.group}/${rt.version}` : rt.version;
    if (!obj.kind) obj.kind = rt.kind;
    if (rt.namespaced) {
      if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace)
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      obj.metadata.namespace = namespace || obj.metadata.namespace || 'default';
    } else {
      delete obj.metadata.namespace;
    }
    if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = obj.metadata.generateName + randomSuffix();
    const m = obj.metadata;
    m.uid = randomUUID();
    m.creationTimestamp = isoSeconds(ctx.now);
    m.generation = 1;
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    if (rt.subresources.status && !KEEP_STATUS_ON_CREATE.has(rt.kind)) {
      obj.status = rt.kind === 'Pod' ? { phase: 'Pending' } : {};
    }
    await this.d.admission.admit({
      operation: 'CREATE', resource: rt, subresource: '', namespace: m.namespace ?? '', name: m.name ?? '',
      object: obj, oldObject: undefined, dryRun: ctx.dryRun, userInfo: ctx.user,
    });
    if (rt.namespaced) await this.checkNamespaceOpen(m.namespace!);
    trackWrite({ old: undefined, updated: obj, manager: ctx.fieldManager, operation: 'Update', now: ctx.now });
    if (ctx.dryRun) return obj;
    return this.d.objects.create(rt, obj);
  }

  /** POST pods/{name}/binding: set spec.nodeName once. */
  async bind(rt: ResourceType, namespace: string, name: string, binding: KubeObject, ctx: WriteContext): Promise<void> {
    const node = binding?.target?.name;
    if (!node || typeof node !== 'string') throw errors.invalid('Binding', '', name, [{ type: 'Required', field: 'target.name', detail: 'Required value' }]);
    await this.guaranteedUpdate(rt, namespace, name, (cur) => {
      if (cur.spec?.nodeName) throw errors.conflict(rt.plural, rt.group, name, `pod ${name} is already assigned to node "${cur.spec.nodeName}"`);
      if (cur.metadata.deletionTimestamp) throw errors.conflict(rt.plural, rt.group, name, 'pod is being deleted, cannot be assigned to a host');
      const next = clone(cur);
      next.spec.nodeName = node;
      next.status ??= {};
      const conds: any[] = (next.status.conditions ??= []);
      const i = conds.findIndex((c) => c.type === 'PodScheduled');
      const c = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: isoSeconds(ctx.now) };
      if (i >= 0) conds[i] = c;
      else conds.push(c);
      return next;
    }, ctx, { skipAdmission: true });
  }

  // ---------------------------------------------------------------- update

  /** PUT on the main resource or the status subresource. */
  async update(rt: ResourceType, namespace: string, name: string, subresource: string, body: KubeObject, ctx: WriteContext): Promise<{ object: KubeObject; created: boolean }> {
    this.checkTypeMeta(rt, body);
    if (body.metadata?.name && body.metadata.name !== name)
      throw errors.badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    if (rt.namespaced && body.metadata?.namespace && body.metadata.namespace !== namespace)
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const wantRv = body.metadata?.resourceVersion;
    const object = await this.guaranteedUpdate(rt, namespace, name, (cur) => {
      if (wantRv && wantRv !== cur.metadata.resourceVersion)
        throw errors.conflict(rt.plural, rt.group, name, 'the object has been modified; please apply your changes to the latest version and try again');
      return this.merge(rt, cur, clone(body), subresource);
    }, ctx, { subresource });
    return { object, created: false };
  }

  /** PATCH with any of the supported patch types (server-side apply creates when missing). */
  async patch(rt: ResourceType, namespace: string, name: string, subresource: string, type: PatchType, patch: unknown, ctx: WriteContext & { force: boolean }): Promise<{ object: KubeObject; created: boolean }> {
    if (type === 'apply') {
      const existing = await this.d.objects.get(rt, namespace, name);
      if (!existing) {
        const { object } = applyPatch(type, undefined, patch, { rt, manager: ctx.fieldManager, force: ctx.force, now: ctx.now });
        object.metadata ??= {};
        if (object.metadata.name && object.metadata.name !== name)
          throw errors.badRequest(`the name of the object (${object.metadata.name}) does not match the name on the URL (${name})`);
        object.metadata.name = name;
        const created = await this.createWithManagedFields(rt, namespace, object, ctx);
        return { object: created, created: true };
      }
    }
    const object = await this.guaranteedUpdate(rt, namespace, name, (cur) => {
      const { object: patched } = applyPatch(type, cur, patch, { rt, manager: ctx.fieldManager, force: ctx.force, now: ctx.now });
      const rv = patched.metadata?.resourceVersion;
      if (rv && rv !== cur.metadata.resourceVersion)
        throw errors.conflict(rt.plural, rt.group, name, 'the object has been modified; please apply your changes to the latest version and try again');
      if (patched.metadata?.name && patched.metadata.name !== name)
        throw errors.badRequest(`the name of the object (${patched.metadata.name}) does not match the name on the URL (${name})`);
      return this.merge(rt, cur, patched, subresource);
    }, ctx, { subresource, managedByPatch: type === 'apply' });
    return { object, created: false };
  }

  private async createWithManagedFields(rt: ResourceType, namespace: string, obj: KubeObject, ctx: WriteContext): Promise<KubeObject> {
    const managed = obj.metadata.managedFields;
    const created = await this.create(rt, namespace, obj, { ...ctx, fieldManager: ctx.fieldManager });
    if (managed) {
      created.metadata.managedFields = managed;
      if (!ctx.dryRun) return this.d.objects.update(rt, created, Number(created.metadata.resourceVersion));
    }
    return created;
  }

  /** GET/PUT helpers for /scale. */
  async updateScale(rt: ResourceType, namespace: string, name: string, scale: KubeObject, ctx: WriteContext): Promise<KubeObject> {
    const replicas = scale?.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
      throw errors.invalid('Scale', 'autoscaling', name, [{ type: 'Invalid', field: 'spec.replicas', detail: 'must be greater than or equal to 0', value: replicas }]);
    const wantRv = scale.metadata?.resourceVersion;
    const obj = await this.guaranteedUpdate(rt, namespace, name, (cur) => {
      if (wantRv && wantRv !== cur.metadata.resourceVersion)
        throw errors.conflict(rt.plural, rt.group, name, 'the object has been modified; please apply your changes to the latest version and try again');
      const next = clone(cur);
      next.spec ??= {};
      next.spec.replicas = replicas;
      return next;
    }, ctx, {});
    return toScale(rt, obj);
  }

  /** Builds the next object of an update from the current one and the caller's version. */
  private merge(rt: ResourceType, cur: KubeObject, incoming: KubeObject, subresource: string): KubeObject {
    if (subresource === 'status') {
      const next = clone(cur);
      next.status = incoming.status;
      return next;
    }
    if (subresource === 'ephemeralcontainers' && rt.kind === 'Pod') {
      // kubectl debug: only spec.ephemeralContainers changes (validation forbids removing or changing one)
      const next = clone(cur);
      next.spec = { ...(next.spec ?? {}), ephemeralContainers: incoming.spec?.ephemeralContainers ?? [] };
      return next;
    }
    if (subresource === 'finalize' && rt.kind === 'Namespace') {
      const next = clone(cur);
      next.spec = { ...(next.spec ?? {}), finalizers: incoming.spec?.finalizers ?? [] };
      return next;
    }
    incoming.apiVersion ||= cur.apiVersion;
    incoming.kind ||= cur.kind;
    incoming.metadata ??= {};
    const m = incoming.metadata;
    m.name = cur.metadata.name;
    if (rt.namespaced) m.namespace = cur.metadata.namespace;
    m.uid = cur.metadata.uid;
    m.creationTimestamp = cur.metadata.creationTimestamp;
    m.generation = cur.metadata.generation;
    if (cur.metadata.deletionTimestamp) {
      m.deletionTimestamp = cur.metadata.deletionTimestamp;
      if (cur.metadata.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = cur.metadata.deletionGracePeriodSeconds;
    } else {
      delete m.deletionTimestamp;
      delete m.deletionGracePeriodSeconds;
    }
    if (cur.metadata.generateName) m.generateName = cur.metadata.generateName;
    else delete m.generateName;
    if (rt.subresources.status) {
      if (cur.status === undefined) delete incoming.status;
      else incoming.status = cur.status;
    }
    // a Pod's ephemeral containers change only through pods/ephemeralcontainers (kube's pod strategy)
    if (rt.kind === 'Pod' && !rt.group && incoming.spec) {
      if (cur.spec?.ephemeralContainers) incoming.spec.ephemeralContainers = cur.spec.ephemeralContainers;
      else delete incoming.spec.ephemeralContainers;
    }
    prepareUpdate(rt, incoming, cur);
    return incoming;
  }

  /**
   * Read-modify-write with compare-and-swap, retried while the store moves underneath (the object is
   * re-read each time). `mutate` returns the desired object; admission, generation, managedFields, the
   * no-op check and finalizer-driven deletion happen here.
   */
  private async guaranteedUpdate(
    rt: ResourceType,
    namespace: string,
    name: string,
    mutate: (cur: KubeObject) => KubeObject,
    ctx: WriteContext,
    opts: { subresource?: string; skipAdmission?: boolean; managedByPatch?: boolean },
  ): Promise<KubeObject> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.d.objects.mustGet(rt, namespace, name);
      const next = mutate(cur);
      const sub = opts.subresource ?? '';
      if (!opts.skipAdmission) {
        await this.d.admission.admit({
          operation: 'UPDATE', resource: rt, subresource: sub, namespace, name, object: next,
          oldObject: cur, dryRun: ctx.dryRun, userInfo: ctx.user,
        });
      }
      if (specOf(next) !== specOf(cur) && sub === '') next.metadata.generation = (cur.metadata.generation ?? 1) + 1;
      if (!opts.managedByPatch) {
        trackWrite({ old: cur, updated: next, manager: ctx.fieldManager, operation: 'Update', subresource: sub || undefined, now: ctx.now });
      }
      next.metadata.resourceVersion = cur.metadata.resourceVersion;
      if (withoutVolatile(next) === withoutVolatile(cur)) return cur; // no-op: nothing written, RV unchanged
      if (ctx.dryRun) return next;
      if (next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length) && this.finalizersDone(rt, next) && !this.gracePending(rt, next)) {
        try {
          return await this.d.objects.delete(rt, namespace, name, Number(cur.metadata.resourceVersion));
        } catch (e) {
          if (e instanceof ApiError && e.reason === 'Conflict' && attempt < MAX_CAS_RETRIES) continue;
          throw e;
        }
      }
      try {
        return await this.d.objects.update(rt, next, Number(cur.metadata.resourceVersion));
      } catch (e) {
        if (e instanceof ApiError && e.reason === 'Conflict' && attempt < MAX_CAS_RETRIES) continue;
        throw e;
      }
    }
  }

  /** Namespaces also wait for spec.finalizers (emptied through /finalize by the namespace controller). */
  private finalizersDone(rt: ResourceType, o: KubeObject): boolean {
    return rt.kind !== 'Namespace' || !(o.spec?.finalizers?.length);
  }

  /** A pod under graceful deletion stays until its node agent confirms (delete with grace 0). */
  private gracePending(rt: ResourceType, o: KubeObject): boolean {
    return rt.kind === 'Pod' && !!o.spec?.nodeName && (o.metadata.deletionGracePeriodSeconds ?? 0) > 0;
  }

  // ---------------------------------------------------------------- delete

  /** DELETE one object; returns the object (marked for deletion, or as it was when removed). */
  async delete(rt: ResourceType, namespace: string, name: string, opts: DeleteOptions, ctx: WriteContext): Promise<{ object: KubeObject; deleted: boolean }> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.d.objects.mustGet(rt, namespace, name);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== cur.metadata.uid)
        throw errors.conflict(rt.plural, rt.group, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`);
      if (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
        throw errors.conflict(rt.plural, rt.group, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`);
      await this.d.admission.admit({
        operation: 'DELETE', resource: rt, subresource: '', namespace, name, object: undefined,
        oldObject: cur, dryRun: ctx.dryRun, userInfo: ctx.user,
      });
      const next = clone(cur);
      const fin = new Set(next.metadata.finalizers ?? []);
      const policy = opts.propagationPolicy ?? (opts.orphanDependents ? 'Orphan' : undefined);
      if (policy === 'Foreground') fin.add('foregroundDeletion');
      if (policy === 'Orphan') fin.add('orphan');
      let grace = 0;
      if (rt.kind === 'Pod' && cur.spec?.nodeName && cur.status?.phase !== 'Succeeded' && cur.status?.phase !== 'Failed') {
        grace = opts.gracePeriodSeconds ?? cur.spec?.terminationGracePeriodSeconds ?? 30;
        if (cur.metadata.deletionGracePeriodSeconds !== undefined) grace = Math.min(grace, cur.metadata.deletionGracePeriodSeconds);
      }
      const needsNsFinalize = rt.kind === 'Namespace' && (cur.spec?.finalizers?.length ?? 0) > 0;
      if (fin.size === 0 && grace === 0 && !needsNsFinalize) {
        if (ctx.dryRun) return { object: cur, deleted: true };
        try {
          return { object: await this.d.objects.delete(rt, namespace, name, Number(cur.metadata.resourceVersion)), deleted: true };
        } catch (e) {
          if (e instanceof ApiError && e.reason === 'Conflict' && attempt < MAX_CAS_RETRIES) continue;
          throw e;
        }
      }
      next.metadata.finalizers = [...fin];
      if (next.metadata.finalizers.length === 0) delete next.metadata.finalizers;
      const deadline = new Date(ctx.now.getTime() + grace * 1000);
      if (!next.metadata.deletionTimestamp || grace < (next.metadata.deletionGracePeriodSeconds ?? Infinity)) {
        next.metadata.deletionTimestamp = isoSeconds(next.metadata.deletionTimestamp && grace > 0 ? new Date(Math.min(deadline.getTime(), Date.parse(next.metadata.deletionTimestamp))) : deadline);
      }
      next.metadata.deletionGracePeriodSeconds = grace;
      if (rt.kind === 'Namespace') next.status = { ...(next.status ?? {}), phase: 'Terminating' };
      if (ctx.dryRun) return { object: next, deleted: false };
      try {
        return { object: await this.d.objects.update(rt, next, Number(cur.metadata.resourceVersion)), deleted: false };
      } catch (e) {
        if (e instanceof ApiError && e.reason === 'Conflict' && attempt < MAX_CAS_RETRIES) continue;
        throw e;
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  private checkTypeMeta(rt: ResourceType, obj: KubeObject): void {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw errors.badRequest('the request body must be a JSON or YAML object');
    const want = rt.group ? `${rt.group}/${rt.version}` : rt.version;
    if (obj.kind !== undefined && obj.kind !== rt.kind && !(rt.kind === 'Scale'))
      throw errors.badRequest(`the kind of the provided object (${String(obj.kind)}) does not match the resource (${rt.plural}, expected kind ${rt.kind})`);
    if (obj.apiVersion !== undefined && obj.apiVersion !== want)
      throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${want})`);
    if (obj.metadata !== undefined && (obj.metadata === null || typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)))
      throw errors.badRequest('metadata: must be an object');
  }

  /** NamespaceLifecycle admission: the namespace must exist and not be terminating. */
  private async checkNamespaceOpen(ns: string): Promise<void> {
    const nsObj = await this.d.objects.get(this.d.namespaces, '', ns);
    if (!nsObj) throw errors.notFound('namespaces', '', ns);
    if (nsObj.metadata.deletionTimestamp || nsObj.status?.phase === 'Terminating')
      throw new ApiError('Forbidden', `unable to create new content in namespace ${ns} because it is being terminated`, { kind: 'namespaces', name: ns });
  }
}

/** autoscaling/v1 Scale for an object with a scale subresource. */
export function toScale(rt: ResourceType, obj: KubeObject): KubeObject {
  const sel = obj.status?.selector ?? selectorString(obj.spec?.selector);
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: { replicas: obj.status?.replicas ?? 0, ...(sel ? { selector: sel } : {}) },
  };
}

function selectorString(sel: any): string {
  if (!sel?.matchLabels) return '';
  return Object.entries(sel.matchLabels as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',');
}

/** RFC 3339 with second precision, as Kubernetes serializes metav1.Time. */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Five characters from Kubernetes' generateName alphabet (no vowels, no confusable digits). */
export function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const b = randomBytes(5);
  let s = '';
  for (const x of b) s += alphabet[x % alphabet.length];
  return s;
}
