// The canary controller (Flagger's loop, smaller): a Canary names a Deployment and a new image. It makes
// `<deployment>-canary` (the same pod template with the new image and the `version` label the canary
// subset selects), shifts the weight step by step in the VirtualService (or HTTPRoute) that routes the
// Deployment's Service, judges each step on the canary's requests as the sidecars counted them
// (analysis.ts), then promotes (the primary gets the image, traffic returns to it, the canary is removed)
// or rolls back (weight back to 0, canary removed). It edits only the weights of its two destinations
// (routes.ts) and pauses when a person changed those weights (manual override).
// Runs in the controller manager: that process is on the host, which reaches every pod IP on the node's
// bridge (as the dashboard does), so it scrapes the sidecars' :15090 itself; no Prometheus in between.

import type { KubeObject } from '../../../api/meta.js';
import { isAlreadyExists, isNotFound, keyOf } from '../../../api/client/index.js';
import { parsePercent, type CanaryPhase } from '../../../api/kinds/shoal/canary.js';
import { parseDuration } from '../../../lib/time/duration.js';
import { fetchText } from '../../../dashboard/run.js';
import { Controller, type ReconcileResult } from '../controller.js';
import type { ControllerContext } from '../context.js';
import { refs } from '../informers.js';
import { deepEqual, isoSeconds, setCondition } from '../podutil.js';
import { decide, nextStep, snapshot, stepMetrics, type Snapshot, type SnapshotSources } from './analysis.js';
import { canaryPercent, dropHttpRouteCanary, hostIs, isOverride, readWeights, setWeights, vsRoutes, type Managed } from './routes.js';

/** The Canary resource. */
export const canaryRef = { apiVersion: 'shoal.io/v1alpha1', plural: 'canaries', namespaced: true };
const vsRef = { apiVersion: 'networking.istio.io/v1', plural: 'virtualservices', namespaced: true };
const drRef = { apiVersion: 'networking.istio.io/v1', plural: 'destinationrules', namespaced: true };
const routeRef = { apiVersion: 'gateway.networking.k8s.io/v1', plural: 'httproutes', namespaced: true };

/** Options (tests shorten the polls). */
export interface CanaryOptions {
  /** how often a waiting canary looks again (default 1 s) */
  pollMs?: number;
  sources?: Partial<SnapshotSources>;
}

const TERMINAL: CanaryPhase[] = ['Succeeded', 'Failed'];
/** held while a canary runs: deleting it then first puts the traffic back on the primary */
export const CANARY_FINALIZER = 'shoal.io/canary';
/** how long the canary keeps running after its weight went to 0 (sidecars update, requests in flight finish) */
const DRAIN_MS = 3000;

/** The canary controller. */
export function canaryController(ctx: ControllerContext, o: CanaryOptions = {}): Controller {
  const pollMs = o.pollMs ?? 1000;
  const canaries = ctx.informers.for(canaryRef);
  const pods = ctx.informers.for(refs.pods);
  const rec = ctx.recorder('canary-controller');
  const src: SnapshotSources = {
    pods: (ns) => pods.list().filter((p: KubeObject) => p.metadata.namespace === ns),
    fetchText, now: () => ctx.now(), ...o.sources,
  };
  /** per canary: the snapshot its current step is measured from */
  const before = new Map<string, { step: number; snap: Snapshot }>();
  const c = new Controller({ name: 'canary', log: ctx.log, reconcile });
  canaries.addEventHandler({
    onAdd: (x) => c.enqueue(keyOf(x)),
    onUpdate: (old, cur) => { if (old.metadata.generation !== cur.metadata.generation || (!old.metadata.deletionTimestamp && cur.metadata.deletionTimestamp)) c.enqueue(keyOf(cur)); },
    onDelete: (x) => { before.delete(keyOf(x)); c.enqueue(keyOf(x)); },
  });

  /** Take the finalizer off (the object as it is now; gone already is fine). */
  async function release(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    try {
      const cur = await ctx.client.get(canaryRef, name, { namespace: ns });
      if (!(cur.metadata.finalizers ?? []).includes(CANARY_FINALIZER)) return;
      await ctx.client.update(canaryRef, { ...cur, metadata: { ...cur.metadata, finalizers: cur.metadata.finalizers!.filter((f) => f !== CANARY_FINALIZER) } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async function reconcile(key: string): Promise<ReconcileResult> {
    const cached = canaries.get(key);
    if (!cached) return void before.delete(key);
    const cn = structuredClone(cached);
    const st: Record<string, any> = structuredClone(cached.status ?? {});
    const phase: CanaryPhase = st.phase ?? 'Initializing';
    const held = (cached.metadata.finalizers ?? []).includes(CANARY_FINALIZER);
    if (cached.metadata.deletionTimestamp) {
      // deleted while running: traffic back on the primary before the canary's pods go (GC, owner refs)
      if (held && !TERMINAL.includes(phase)) await new Run(cn, st).abort();
      if (held) await release(key);
      return void before.delete(key);
    }
    if (TERMINAL.includes(phase)) {
      if (held) await release(key);
      return;
    }
    const r = new Run(cn, st);
    let next: ReconcileResult;
    try {
      next = await (phase === 'Initializing' ? r.initialize() : phase === 'Progressing' ? r.progress() : phase === 'Promoting' ? r.promote() : r.rollback());
    } catch (e) {
      if (isNotFound(e) && !canaries.get(key)) return;
      r.st.message = `${(e as Error).message}`;
      await r.save(cached);
      throw e;
    }
    await r.save(cached);
    if (TERMINAL.includes(r.st.phase)) await release(key);
    return next;
  }

  /** One reconcile of one Canary: reads and writes through the client, mutates `st` (written by save). */
  class Run {
    readonly ns: string;
    readonly spec: Record<string, any>;
    constructor(public cn: KubeObject, readonly st: Record<string, any>) {
      this.ns = cn.metadata.namespace!;
      this.spec = cn.spec ?? {};
    }
    get depName(): string { return this.spec.targetRef.name; }
    get canaryName(): string { return `${this.depName}-canary`; }
    get managed(): Managed {
      return { kind: this.st.routeRef?.kind ?? 'VirtualService', service: this.spec.service ?? this.st.service, namespace: this.ns, primary: this.st.primarySubset, canary: this.st.canarySubset };
    }
    owner() {
      return [{ apiVersion: 'shoal.io/v1alpha1', kind: 'Canary', name: this.cn.metadata.name!, uid: this.cn.metadata.uid!, controller: true, blockOwnerDeletion: true }];
    }

    transition(phase: CanaryPhase, reason: string, message: string, type: 'Normal' | 'Warning' = 'Normal'): void {
      const now = isoSeconds(ctx.now());
      if (this.st.phase !== phase) this.st.lastTransitionTime = now;
      this.st.phase = phase;
      this.st.message = message;
      const status = phase === 'Succeeded' ? 'True' : phase === 'Failed' ? 'False' : 'Unknown';
      this.st.conditions = setCondition(this.st.conditions ?? [], { type: 'Promoted', status, lastTransitionTime: now, reason, message });
      rec.event(this.cn, type, reason, message);
    }

    async save(cached: KubeObject): Promise<void> {
      this.st.observedGeneration = this.cn.metadata.generation;
      if (deepEqual(this.st, cached.status ?? {})) return;
      try {
        await ctx.client.updateStatus(canaryRef, { ...this.cn, status: this.st });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }

    fail(reason: string, message: string): ReconcileResult {
      this.transition('Failed', reason, message, 'Warning');
      return undefined;
    }

    // ------------------------------------------------------------------ Initializing

    async initialize(): Promise<ReconcileResult> {
      if (!(this.cn.metadata.finalizers ?? []).includes(CANARY_FINALIZER)) {
        this.cn = await ctx.client.update(canaryRef, { ...this.cn, metadata: { ...this.cn.metadata, finalizers: [...(this.cn.metadata.finalizers ?? []), CANARY_FINALIZER] } });
      }
      let dep: KubeObject;
      try {
        dep = await ctx.client.get(refs.deployments, this.depName, { namespace: this.ns });
      } catch (e) {
        if (!isNotFound(e)) throw e;
        this.st.phase = 'Initializing';
        this.st.message = `waiting for Deployment ${this.ns}/${this.depName}`;
        return { requeueAfterMs: pollMs * 5 };
      }
      const tpl = dep.spec?.template ?? {};
      const labels: Record<string, string> = tpl.metadata?.labels ?? {};
      const containers: any[] = tpl.spec?.containers ?? [];
      const ctr = this.spec.container ? containers.find((x) => x.name === this.spec.container) : containers.find((x) => x.name !== 'istio-proxy');
      if (!ctr) return this.fail('ContainerNotFound', `Deployment ${this.depName} has no container ${this.spec.container ?? ''}`.trim());
      if (!labels.version) return this.fail('NoVersionLabel', `Deployment ${this.depName}'s pod template has no \`version\` label: add one (e.g. version: v1) so the primary subset can select its pods apart from the canary's`);
      const canaryVersion: string = this.spec.canaryVersion ?? 'canary';
      if (labels.version === canaryVersion) return this.fail('VersionClash', `the primary's version label is already ${canaryVersion}: set spec.canaryVersion to another value`);
      this.st.previousImage ??= ctr.image;
      // the Service in front of the Deployment
      if (!this.spec.service && !this.st.service) {
        const svcs = (await ctx.client.list(refs.services, { namespace: this.ns })).items;
        const svc = svcs.find((s: any) => {
          const sel: Record<string, string> = s.spec?.selector ?? {};
          return Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v) && !s.metadata.name.endsWith('-canary');
        });
        if (!svc) return this.fail('ServiceNotFound', `no Service in ${this.ns} selects Deployment ${this.depName}'s pods`);
        this.st.service = svc.metadata.name;
      }
      const service: string = this.spec.service ?? this.st.service;
      // the route that sends traffic to it, and the two managed destinations
      if (!this.st.routeRef) {
        this.st.routeRef = this.spec.routeRef ?? (await this.findRoute(service));
        if (!this.st.routeRef) {
          await ctx.client.create(vsRef, {
            apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `${service}-canary`, namespace: this.ns, ownerReferences: this.owner() },
            spec: { hosts: [service], http: [{ route: [{ destination: { host: service, subset: labels.version } }] }] },
          });
          this.st.routeRef = { kind: 'VirtualService', name: `${service}-canary` };
          this.st.createdRoute = true;
        }
      }
      if (this.st.routeRef.kind === 'VirtualService') await this.ensureSubsets(service, labels.version, canaryVersion);
      else await this.ensureCanaryService(service, canaryVersion);
      await this.ensureCanaryDeployment(dep, ctr.name, canaryVersion);
      // the canary destination appears at 0 % (the user's route keeps its shape otherwise)
      if (!this.st.appliedWeights) await this.writeWeights(0);
      const cd = await ctx.client.get(refs.deployments, this.canaryName, { namespace: this.ns });
      const want = cd.spec?.replicas ?? 1;
      if ((cd.status?.availableReplicas ?? 0) < want || (cd.status?.updatedReplicas ?? 0) < want) {
        this.st.phase = 'Initializing';
        this.st.message = `waiting for Deployment ${this.canaryName} (${this.spec.image}) to be available: ${cd.status?.availableReplicas ?? 0}/${want}`;
        if (!this.st.lastTransitionTime) this.transition('Initializing', 'Initializing', this.st.message);
        return { requeueAfterMs: pollMs };
      }
      await this.startStep(0);
      this.transition('Progressing', 'Progressing', `canary ${this.canaryName} is available; weight ${this.st.canaryWeight}%`);
      return { requeueAfterMs: this.intervalMs };
    }

    async findRoute(service: string): Promise<{ kind: string; name: string } | undefined> {
      const vss = (await ctx.client.list(vsRef, { namespace: this.ns })).items;
      const vs = vss.find((v) => vsRoutes(v, service, this.ns));
      if (vs) return { kind: 'VirtualService', name: vs.metadata.name! };
      let routes: KubeObject[] = [];
      try {
        routes = (await ctx.client.list(routeRef, { namespace: this.ns })).items;
      } catch {
        /* no Gateway API served */
      }
      const hr = routes.find((h: any) => (h.spec?.rules ?? []).some((r: any) => (r.backendRefs ?? []).some((b: any) => b.name === service && (b.kind ?? 'Service') === 'Service')));
      return hr ? { kind: 'HTTPRoute', name: hr.metadata.name! } : undefined;
    }

    /** DestinationRule subsets for both versions: the user's when they exist, added (only them) when not. */
    async ensureSubsets(service: string, primaryVersion: string, canaryVersion: string): Promise<void> {
      const drs = (await ctx.client.list(drRef, { namespace: this.ns })).items;
      const dr: any = drs.find((d: any) => hostIs(d.spec?.host, service, this.ns));
      const find = (list: any[], v: string) => list.find((s) => s?.labels?.version === v && Object.keys(s.labels).length === 1)?.name ?? list.find((s) => s?.labels?.version === v)?.name;
      if (!dr) {
        this.st.primarySubset = primaryVersion;
        this.st.canarySubset = canaryVersion;
        await ctx.client.create(drRef, {
          apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', metadata: { name: `${service}-canary`, namespace: this.ns, ownerReferences: this.owner() },
          spec: { host: service, subsets: [{ name: primaryVersion, labels: { version: primaryVersion } }, { name: canaryVersion, labels: { version: canaryVersion } }] },
        }).catch((e) => { if (!isAlreadyExists(e)) throw e; });
        return;
      }
      const subsets: any[] = structuredClone(dr.spec.subsets ?? []);
      const add = (v: string) => {
        const name = subsets.some((s) => s.name === v) ? `${v}-${this.cn.metadata.name}` : v;
        subsets.push({ name, labels: { version: v } });
        return name;
      };
      this.st.primarySubset = find(subsets, primaryVersion) ?? add(primaryVersion);
      this.st.canarySubset = find(subsets, canaryVersion) ?? add(canaryVersion);
      if (subsets.length !== (dr.spec.subsets ?? []).length) await ctx.client.update(drRef, { ...dr, spec: { ...dr.spec, subsets } });
    }

    /** HTTPRoute: a `<service>-canary` Service selecting the canary pods (backendRefs name Services). */
    async ensureCanaryService(service: string, canaryVersion: string): Promise<void> {
      this.st.primarySubset = service;
      this.st.canarySubset = `${service}-canary`;
      const svc = await ctx.client.get(refs.services, service, { namespace: this.ns });
      const ports = (svc.spec?.ports ?? []).map((p: any) => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: p.protocol, appProtocol: p.appProtocol }));
      await ctx.client.create(refs.services, {
        apiVersion: 'v1', kind: 'Service', metadata: { name: `${service}-canary`, namespace: this.ns, ownerReferences: this.owner() },
        spec: { selector: { ...(svc.spec?.selector ?? {}), version: canaryVersion }, ports },
      }).catch((e) => { if (!isAlreadyExists(e)) throw e; });
    }

    async ensureCanaryDeployment(dep: KubeObject, container: string, canaryVersion: string): Promise<void> {
      const tpl = structuredClone(dep.spec.template);
      tpl.metadata = { ...(tpl.metadata ?? {}), labels: { ...(tpl.metadata?.labels ?? {}), version: canaryVersion, 'shoal.io/canary': this.cn.metadata.name! } };
      delete tpl.metadata.labels['pod-template-hash'];
      for (const x of tpl.spec.containers ?? []) if (x.name === container) x.image = this.spec.image;
      const matchLabels = { ...(dep.spec.selector?.matchLabels ?? {}), version: canaryVersion };
      await ctx.client.create(refs.deployments, {
        apiVersion: 'apps/v1', kind: 'Deployment',
        metadata: { name: this.canaryName, namespace: this.ns, labels: { ...(dep.metadata.labels ?? {}), 'shoal.io/canary': this.cn.metadata.name! }, ownerReferences: this.owner() },
        spec: { replicas: Math.max(1, dep.spec.replicas ?? 1), selector: { matchLabels, ...(dep.spec.selector?.matchExpressions ? { matchExpressions: dep.spec.selector.matchExpressions } : {}) }, template: tpl },
      }).then(() => rec.event(this.cn, 'Normal', 'Created', `created Deployment ${this.canaryName} with ${this.spec.image}`)).catch(async (e) => {
        if (!isAlreadyExists(e)) throw e;
        // left from an earlier run (or this one): make sure it runs this canary's template
        const have = await ctx.client.get(refs.deployments, this.canaryName, { namespace: this.ns });
        const img = (d: any) => (d?.spec?.containers ?? []).find((x: any) => x.name === container)?.image;
        if (img(have.spec?.template) !== this.spec.image || have.spec?.template?.metadata?.labels?.['shoal.io/canary'] !== this.cn.metadata.name) await ctx.client.update(refs.deployments, { ...have, spec: { ...have.spec, template: tpl } });
      });
    }

    // ------------------------------------------------------------------ weights

    routeApi() {
      return this.st.routeRef.kind === 'VirtualService' ? vsRef : routeRef;
    }

    /** Write `percent` for the canary into the route; remembers the weights written. */
    async writeWeights(percent: number): Promise<void> {
      const ref = this.routeApi();
      const route = await ctx.client.get(ref, this.st.routeRef.name, { namespace: this.ns });
      const edited = setWeights(route, this.managed, percent);
      if (!deepEqual(edited.spec, route.spec)) await ctx.client.update(ref, edited);
      this.st.appliedWeights = readWeights(edited, this.managed);
      this.st.canaryWeight = percent;
    }

    get intervalMs(): number {
      return parseDuration(this.spec.interval ?? '30s') ?? 30_000;
    }

    async startStep(index: number): Promise<void> {
      const weight = (this.spec.steps ?? [10, 25, 50, 100])[index];
      await this.writeWeights(weight);
      this.st.stepIndex = index;
      this.st.stepStartedAt = new Date(ctx.now()).toISOString();
      before.set(keyOf(this.cn), { step: index, snap: await snapshot(src, this.ns) });
      rec.event(this.cn, 'Normal', 'Progressing', `weight ${weight}% to ${this.canaryName} (step ${index + 1} of ${this.spec.steps.length})`);
    }

    // ------------------------------------------------------------------ Progressing

    async progress(): Promise<ReconcileResult> {
      const ref = this.routeApi();
      const route = await ctx.client.get(ref, this.st.routeRef.name, { namespace: this.ns });
      if (isOverride(route, this.managed, this.st.appliedWeights)) {
        const now = readWeights(route, this.managed);
        const msg = `paused: manual override — the route's weights were changed by hand (${this.managed.primary} ${now?.primary ?? 'removed'}, ${this.managed.canary} ${now?.canary ?? 'removed'}; the canary last wrote ${this.st.appliedWeights.primary}/${this.st.appliedWeights.canary}). Put them back to resume, or delete the Canary to stop`;
        if (!this.st.paused) {
          this.st.conditions = setCondition(this.st.conditions ?? [], { type: 'ManualOverride', status: 'True', lastTransitionTime: isoSeconds(ctx.now()), reason: 'WeightsEdited', message: msg });
          rec.event(this.cn, 'Warning', 'ManualOverride', msg);
        }
        this.st.paused = true;
        this.st.message = msg;
        if (now) this.st.canaryWeight = canaryPercent(now);
        return { requeueAfterMs: pollMs * 2 };
      }
      const key = keyOf(this.cn);
      if (this.st.paused) {
        this.st.paused = false;
        this.st.conditions = setCondition(this.st.conditions ?? [], { type: 'ManualOverride', status: 'False', lastTransitionTime: isoSeconds(ctx.now()), reason: 'WeightsRestored', message: 'the route has the canary\'s weights again; the step starts over' });
        rec.event(this.cn, 'Normal', 'Resumed', `resumed at weight ${this.st.canaryWeight}%`);
        before.delete(key);
      }
      const b = before.get(key);
      if (!b || b.step !== this.st.stepIndex) {
        // a new controller (or a resume): the step is measured from now
        this.st.canaryWeight = canaryPercent(this.st.appliedWeights);
        this.st.stepStartedAt = new Date(ctx.now()).toISOString();
        before.set(key, { step: this.st.stepIndex, snap: await snapshot(src, this.ns) });
        return { requeueAfterMs: this.intervalMs };
      }
      const elapsed = ctx.now() - Date.parse(this.st.stepStartedAt);
      if (elapsed < this.intervalMs) return { requeueAfterMs: this.intervalMs - elapsed };
      const after = await snapshot(src, this.ns);
      const m = stepMetrics(b.snap, after, this.ns, this.canaryName);
      const v = decide(m, {
        maxErrorRate: parsePercent(this.spec.maxErrorRate ?? '1%') ?? 0.01,
        maxP99Ms: parseDuration(this.spec.maxP99 ?? '500ms') ?? 500,
        minRequests: this.spec.minRequests ?? 10,
      });
      this.st.lastAnalysis = { requests: m.requests, errorRate: Math.round(m.errorRate * 10_000) / 10_000, ...(m.p99Ms !== null ? { p99Ms: m.p99Ms } : {}), at: isoSeconds(ctx.now()), verdict: v.action };
      if (v.action === 'wait') {
        this.st.message = `weight ${this.st.canaryWeight}%: ${v.reason}`;
        return { requeueAfterMs: Math.max(pollMs, this.intervalMs / 2) };
      }
      if (v.action === 'rollback') {
        this.transition('RollingBack', 'AnalysisFailed', `rolling back at weight ${this.st.canaryWeight}%: ${v.reason}`, 'Warning');
        return this.rollback();
      }
      rec.event(this.cn, 'Normal', 'AnalysisPassed', `weight ${this.st.canaryWeight}%: ${v.reason}`);
      const n = nextStep(this.spec.steps, this.st.stepIndex);
      if (n === 'promote') {
        this.transition('Promoting', 'Promoting', `analysis passed at every step (${v.reason}); Deployment ${this.depName} gets ${this.spec.image}`);
        return this.promote();
      }
      await this.startStep(n.index);
      this.st.message = `weight ${n.weight}%: last step ${v.reason}`;
      return { requeueAfterMs: this.intervalMs };
    }

    // ------------------------------------------------------------------ Promoting / RollingBack

    async promote(): Promise<ReconcileResult> {
      const dep = await ctx.client.get(refs.deployments, this.depName, { namespace: this.ns });
      const containers: any[] = dep.spec?.template?.spec?.containers ?? [];
      const ctr = this.spec.container ? containers.find((x) => x.name === this.spec.container) : containers.find((x) => x.name !== 'istio-proxy');
      if (ctr && ctr.image !== this.spec.image) {
        ctr.image = this.spec.image;
        await ctx.client.update(refs.deployments, dep);
        return { requeueAfterMs: pollMs };
      }
      const want = dep.spec?.replicas ?? 1;
      const s = dep.status ?? {};
      if ((s.observedGeneration ?? 0) < (dep.metadata.generation ?? 0) || (s.updatedReplicas ?? 0) < want || (s.availableReplicas ?? 0) < want || (s.replicas ?? 0) > want) {
        this.st.message = `promoting: Deployment ${this.depName} rolls out ${this.spec.image} (${s.updatedReplicas ?? 0}/${want} updated) while the canary serves ${this.st.canaryWeight}%`;
        return { requeueAfterMs: pollMs };
      }
      if (this.st.canaryWeight !== 0) this.st.message = `promoting: Deployment ${this.depName} runs ${this.spec.image}; traffic back on it`;
      await this.writeWeights(0);
      if (!this.drained()) return { requeueAfterMs: pollMs };
      await this.cleanup();
      this.transition('Succeeded', 'Succeeded', `promoted: Deployment ${this.depName} runs ${this.spec.image}; all traffic on the primary, ${this.canaryName} removed`);
      return undefined;
    }

    async rollback(): Promise<ReconcileResult> {
      if (this.st.routeRef && this.st.appliedWeights) await this.writeWeights(0);
      if (this.st.appliedWeights && !this.drained()) return { requeueAfterMs: pollMs };
      await this.cleanup();
      const why = String(this.st.message ?? '').replace(/; draining.*$/, '').replace(/^rolling back /, '');
      this.transition('Failed', 'RolledBack', `rolled back ${why}; all traffic on the primary (${this.st.previousImage}), ${this.canaryName} removed`, 'Warning');
      return undefined;
    }

    /**
     * Whether the canary pods have had time to drain since the weights went back to the primary: the
     * sidecars get the new route within a moment, and requests in flight to the canary must finish
     * before its pods are deleted (or clients see resets). Starts the clock on the first call.
     */
    drained(): boolean {
      const now = ctx.now();
      if (!this.st.drainStartedAt) {
        this.st.drainStartedAt = new Date(now).toISOString();
        this.st.message = `${String(this.st.message ?? '').replace(/; draining.*$/, '')}; draining the canary (${DRAIN_MS / 1000} s) before removing it`;
        return false;
      }
      return now - Date.parse(this.st.drainStartedAt) >= DRAIN_MS;
    }

    /** The Canary was deleted mid-run: weights back to the primary (the owner refs remove the rest). */
    async abort(): Promise<void> {
      if (!this.st.routeRef || !this.st.appliedWeights) return;
      await this.writeWeights(0).catch((e) => { if (!isNotFound(e)) throw e; });
      if (this.st.routeRef.kind === 'HTTPRoute') {
        const route = await ctx.client.get(routeRef, this.st.routeRef.name, { namespace: this.ns }).catch(() => undefined);
        if (route) await ctx.client.update(routeRef, dropHttpRouteCanary(route, this.managed));
      }
      rec.event(this.cn, 'Warning', 'Aborted', `deleted at weight ${this.st.canaryWeight ?? 0}%: all traffic back on the primary; ${this.canaryName} goes with the Canary`);
    }

    async cleanup(): Promise<void> {
      before.delete(keyOf(this.cn));
      const gone = (p: Promise<unknown>) => p.catch((e) => { if (!isNotFound(e)) throw e; });
      await gone(ctx.client.delete(refs.deployments, this.canaryName, { namespace: this.ns, propagationPolicy: 'Background' }));
      if (this.st.routeRef?.kind === 'HTTPRoute') {
        // the canary's backendRef goes with its Service (a ref to a missing Service would be ResolvedRefs=False)
        const route = await ctx.client.get(routeRef, this.st.routeRef.name, { namespace: this.ns }).catch(() => undefined);
        if (route && readWeights(route, this.managed)?.canary === 0) await ctx.client.update(routeRef, dropHttpRouteCanary(route, this.managed));
        await gone(ctx.client.delete(refs.services, this.st.canarySubset, { namespace: this.ns }));
      }
      if (this.st.createdRoute) await gone(ctx.client.delete(vsRef, this.st.routeRef.name, { namespace: this.ns }));
    }
  }
  return c;
}
