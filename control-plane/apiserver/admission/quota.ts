// ResourceQuota, as kube-apiserver's admission plugin and the controller manager's resourcequota
// controller (both kept in the API server here, next to the store):
// - admission: a namespaced create is charged to every ResourceQuota of its namespace that limits something
//   it uses (quota-usage.ts); over the limit → 403 `exceeded quota: q, requested: pods=1, used: pods=2,
//   limited: pods=2`; a pod without the requests/limits a quota limits → `failed quota: q: must specify
//   limits.cpu for: app`; a quota whose status is not computed yet → `status unknown for quota: q, resource:
//   pods`. An admitted create is added to `status.used` at once (compare-and-swap), so a burst of creates
//   cannot overrun the quota before the recount.
// - `QuotaKeeper`: sets `status.hard` from `spec.hard` and recounts `status.used` from the store when a quota
//   is created or changed, shortly after a delete in its namespace, and every `resyncMs`.

import { ApiError, errors } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { tryParseQuantity } from '../../../api/quantity.js';
import { registry } from '../api-adapter.js';
import type { Writer, WriteContext } from '../handlers/write.js';
import { ADMIN } from '../layers/core.js';
import type { ObjectStore } from '../storage/objects.js';
import type { AdmissionPlugin, AdmissionRequest, AdmissionResult } from './chain.js';
import { formatFor, missingCompute, podTerminal, prettyPrint, usageOf, type Usage } from './quota-usage.js';

const quotaRt = () => registry.get('', 'v1', 'resourcequotas') as ResourceType;
const ctx = (): WriteContext => ({ user: ADMIN, dryRun: false, fieldManager: 'resourcequota-controller', now: new Date() });
const num = (v: unknown) => (v === undefined ? undefined : tryParseQuantity(v as string) ?? undefined);

/** The resource type a quota key counts, and whether it counts pods' compute. */
function keyTarget(key: string): ResourceType | undefined {
  if (/^(requests\.|limits\.)?(cpu|memory|ephemeral-storage)$/.test(key)) return registry.get('', 'v1', 'pods');
  if (key === 'services.nodeports' || key === 'services.loadbalancers') return registry.get('', 'v1', 'services');
  const m = /^(?:count\/)?([a-z0-9-]+)(?:\.(.+))?$/.exec(key);
  if (!m) return undefined;
  return registry.all().find((rt) => rt.plural === m[1] && rt.group === (m[2] ?? '') && rt.namespaced);
}

/** Recounts what the namespace uses of each key of `hard`. */
export async function computeUsed(objects: ObjectStore, namespace: string, hard: Record<string, unknown>): Promise<Record<string, string>> {
  const byRt = new Map<ResourceType, KubeObject[]>();
  const used: Record<string, string> = {};
  for (const key of Object.keys(hard).sort()) {
    const rt = keyTarget(key);
    let total = 0;
    if (rt) {
      if (!byRt.has(rt)) byRt.set(rt, (await objects.list(rt, namespace)).items);
      for (const o of byRt.get(rt)!) {
        if (rt.kind === 'Pod' && podTerminal(o)) continue;
        total += usageOf(rt, o).get(key) ?? 0;
      }
    }
    used[key] = formatFor(key, total);
  }
  return used;
}

/** The admission plugin. */
export function resourceQuotaPlugin(objects: ObjectStore, writer: Writer, keeper: { touched(namespace: string): void; mayHaveQuota(namespace: string): boolean }): AdmissionPlugin {
  return {
    name: 'ResourceQuota',
    async validate(req: AdmissionRequest): Promise<AdmissionResult> {
      const rt = req.resource;
      if (!rt.namespaced || req.subresource || !req.namespace) return { allowed: true };
      // most namespaces have no quota: the keeper's watch says so without a store read
      if (!keeper.mayHaveQuota(req.namespace)) return { allowed: true };
      if (req.operation === 'DELETE') {
        keeper.touched(req.namespace);
        return { allowed: true };
      }
      if (req.operation !== 'CREATE' || !req.object) return { allowed: true };
      const quotas = (await objects.list(quotaRt(), req.namespace)).items;
      if (!quotas.length) return { allowed: true };
      const delta = usageOf(rt, req.object);
      const charges: { q: KubeObject; keys: string[] }[] = [];
      for (const q of quotas) {
        const hard: Record<string, unknown> = q.status?.hard ?? q.spec?.hard ?? {};
        const keys = Object.keys(hard).filter((k) => delta.has(k));
        if (!keys.length) continue;
        const forbid = (msg: string) => new ApiError('Forbidden', `${rt.group ? `${rt.plural}.${rt.group}` : rt.plural} ${JSON.stringify(req.object!.metadata.name ?? req.object!.metadata.generateName ?? '')} is forbidden: ${msg}`, { group: rt.group, kind: rt.plural, name: req.object!.metadata.name ?? '' });
        if (rt.kind === 'Pod' && !rt.group) {
          const missing = missingCompute(req.object, Object.fromEntries(keys.map((k) => [k, hard[k]])));
          if (missing.length) throw forbid(`failed quota: ${q.metadata.name}: must specify ${missing.join('; ')}`);
        }
        const unknown = keys.filter((k) => q.status?.used?.[k] === undefined);
        if (unknown.length) throw forbid(`status unknown for quota: ${q.metadata.name}, resource: ${unknown.sort().join(',')}`);
        const exceeded = keys.filter((k) => (num(q.status.used[k]) ?? 0) + delta.get(k)! > (num(hard[k]) ?? 0) && delta.get(k)! > 0);
        if (exceeded.length) {
          const pick = (f: (k: string) => number) => new Map(exceeded.map((k) => [k, f(k)]));
          throw forbid(`exceeded quota: ${q.metadata.name}, requested: ${prettyPrint(pick((k) => delta.get(k)!))}, used: ${prettyPrint(pick((k) => num(q.status.used[k]) ?? 0))}, limited: ${prettyPrint(pick((k) => num(hard[k]) ?? 0))}`);
        }
        charges.push({ q, keys });
      }
      if (!req.dryRun) for (const c of charges) await charge(objects, writer, c.q, c.keys, delta);
      return { allowed: true };
    },
  };
}

/** Adds `delta` to a quota's status.used (retrying on conflicts, re-checking the limit each time). */
async function charge(objects: ObjectStore, writer: Writer, q: KubeObject, keys: string[], delta: Usage): Promise<void> {
  let cur: any = q;
  for (let attempt = 0; attempt < 10; attempt++) {
    const next = structuredClone(cur);
    for (const k of keys) next.status.used[k] = formatFor(k, (num(cur.status.used?.[k]) ?? 0) + delta.get(k)!);
    try {
      await writer.update(quotaRt(), cur.metadata.namespace, cur.metadata.name, 'status', next, ctx());
      return;
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'Conflict')) throw e;
      cur = await objects.get(quotaRt(), cur.metadata.namespace, cur.metadata.name);
      if (!cur) return;
      const hard = cur.status?.hard ?? cur.spec?.hard ?? {};
      const over = keys.filter((k) => (num(cur.status?.used?.[k]) ?? 0) + delta.get(k)! > (num(hard[k]) ?? 0) && delta.get(k)! > 0);
      if (over.length) throw errors.conflict('resourcequotas', '', cur.metadata.name, 'please apply your changes to the latest version and try again');
    }
  }
}

/** Keeps every ResourceQuota's status (the resourcequota controller's job). */
export class QuotaKeeper {
  private timer?: NodeJS.Timeout;
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private watch?: { stop(): void };
  /** namespace → names of its quotas (from the watch); undefined until started (then every namespace may have one) */
  private byNamespace?: Map<string, Set<string>>;

  constructor(private readonly objects: ObjectStore, private readonly writer: Writer, private readonly log: (m: string) => void, private readonly resyncMs = 10_000) {}

  /** Recounts every quota now and then every resyncMs; watches quotas for creates and spec changes. */
  async start(): Promise<void> {
    const l = await this.objects.list(quotaRt(), '');
    const index = new Map<string, Set<string>>();
    const add = (o: KubeObject) => {
      const ns = o.metadata.namespace!;
      if (!index.has(ns)) index.set(ns, new Set());
      index.get(ns)!.add(o.metadata.name!);
    };
    for (const q of l.items) add(q);
    this.byNamespace = index;
    await this.syncAll().catch((e) => this.log(`resourcequota: ${(e as Error).message}`));
    this.watch = await this.objects.watch(quotaRt(), '', l.revision, (ev) => {
      if (ev.type === 'DELETED') index.get(ev.object.metadata.namespace!)?.delete(ev.object.metadata.name!);
      else add(ev.object);
      if (ev.type !== 'DELETED' && JSON.stringify(ev.object.status?.hard ?? null) !== JSON.stringify(ev.object.spec?.hard ?? {})) this.touched(ev.object.metadata.namespace!, 0);
    }, () => {
      this.byNamespace = undefined; // unsure from now on: every namespace is checked
    });
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.syncAll().catch((e) => this.log(`resourcequota: ${(e as Error).message}`)).finally(tick), this.resyncMs);
      this.timer.unref();
    };
    tick();
  }

  /** False only when the namespace surely has no ResourceQuota. */
  mayHaveQuota(namespace: string): boolean {
    return !this.byNamespace || (this.byNamespace.get(namespace)?.size ?? 0) > 0;
  }

  /** Schedules a recount of `namespace`'s quotas (after a delete there: once it is stored). */
  touched(namespace: string, delayMs = 100): void {
    if (this.stopped || this.pending.has(namespace)) return;
    const t = setTimeout(() => {
      this.pending.delete(namespace);
      void this.syncNamespace(namespace).catch((e) => this.log(`resourcequota ${namespace}: ${(e as Error).message}`));
    }, delayMs);
    t.unref();
    this.pending.set(namespace, t);
  }

  async syncAll(): Promise<void> {
    const namespaces = new Set((await this.objects.list(quotaRt(), '')).items.map((q) => q.metadata.namespace!));
    for (const ns of namespaces) await this.syncNamespace(ns);
  }

  async syncNamespace(namespace: string): Promise<void> {
    for (const q of (await this.objects.list(quotaRt(), namespace)).items as any[]) {
      const hard = q.spec?.hard ?? {};
      const used = await computeUsed(this.objects, namespace, hard);
      if (JSON.stringify(q.status?.hard ?? {}) === JSON.stringify(hard) && JSON.stringify(q.status?.used ?? {}) === JSON.stringify(used)) continue;
      try {
        await this.writer.update(quotaRt(), namespace, q.metadata.name, 'status', { ...q, status: { hard, used } }, ctx());
      } catch (e) {
        if (!(e instanceof ApiError && (e.reason === 'Conflict' || e.reason === 'NotFound'))) throw e;
        this.touched(namespace);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    if (this.timer) clearTimeout(this.timer);
    for (const t of this.pending.values()) clearTimeout(t);
  }
}
