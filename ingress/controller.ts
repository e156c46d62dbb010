// The ingress controller loop: informers for Ingress, IngressClass, GatewayClass, Gateway, HTTPRoute,
// ReferenceGrant, Secret, Namespace and Istio's Gateway, VirtualService and DestinationRule (Services and Endpoints come from the mesh snapshot), a debounced
// rebuild on any change (config.ts, pure), the new handler and certificates swapped in atomically, then
// status written last and only when it changed: Ingress status.loadBalancer, GatewayClass / Gateway /
// HTTPRoute conditions (lastTransitionTime kept while a condition's status holds), and Warning events for
// problems (a missing Service or port, a bad TLS Secret), once per distinct message.
import { Informer, type KubeClient } from '../api/client/index.js';
import type { EventRecorder } from '../api/client/events.js';
import type { KubeObject } from '../api/meta.js';
import type { Snapshot } from '../proxy/config/store.js';
import type { Log } from '../proxy/context.js';
import { buildConfig, type IngressConfig, type Settings } from './config.js';
import type { CertStore, TlsSecret } from './tls.js';

const GW = 'gateway.networking.k8s.io/v1';
const REFS = {
  ingresses: { apiVersion: 'networking.k8s.io/v1', plural: 'ingresses', namespaced: true },
  ingressClasses: { apiVersion: 'networking.k8s.io/v1', plural: 'ingressclasses', namespaced: false },
  gatewayClasses: { apiVersion: GW, plural: 'gatewayclasses', namespaced: false },
  gateways: { apiVersion: GW, plural: 'gateways', namespaced: true },
  httpRoutes: { apiVersion: GW, plural: 'httproutes', namespaced: true },
  referenceGrants: { apiVersion: 'gateway.networking.k8s.io/v1beta1', plural: 'referencegrants', namespaced: true },
  secrets: { apiVersion: 'v1', plural: 'secrets', namespaced: true },
  namespaces: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  istioGateways: { apiVersion: 'networking.istio.io/v1', plural: 'gateways', namespaced: true },
  virtualServices: { apiVersion: 'networking.istio.io/v1', plural: 'virtualservices', namespaced: true },
  destinationRules: { apiVersion: 'networking.istio.io/v1', plural: 'destinationrules', namespaced: true },
} as const;
type Kind = keyof typeof REFS;

export interface ControllerOptions {
  client: KubeClient;
  recorder: EventRecorder;
  settings: Settings;
  certs: CertStore;
  snapshot: () => Snapshot;
  /** Called with each new configuration (the server swaps its handler). */
  apply: (cfg: IngressConfig) => void;
  log: Log;
  debounceMs?: number;
}

const key = (o: KubeObject) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : String(o.metadata.name));
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class IngressController {
  private readonly informers = {} as Record<Kind, Informer>;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private again = false;
  private readonly reported = new Map<string, string>();
  /** The last configuration built (admin, tests). */
  current: IngressConfig | null = null;
  rebuilds = 0;

  constructor(private readonly o: ControllerOptions) {
    for (const k of Object.keys(REFS) as Kind[]) {
      const inf = new Informer(o.client, REFS[k], { onError: (e) => o.log('warn', `informer ${k}: ${(e as Error).message ?? e}`) });
      inf.addEventHandler({ onAdd: () => this.trigger(), onUpdate: () => this.trigger(), onDelete: () => this.trigger() });
      this.informers[k] = inf;
    }
  }

  async start(): Promise<void> {
    for (const inf of Object.values(this.informers)) inf.start();
    await Promise.all(Object.values(this.informers).map((i) => i.waitForSync()));
    await this.rebuild();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(Object.values(this.informers).map((i) => i.stop()));
  }

  synced(): boolean {
    return Object.values(this.informers).every((i) => i.hasSynced());
  }

  /** Something changed (an informer, the mesh snapshot): rebuild soon. */
  trigger(): void {
    if (!this.synced()) return;
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; void this.rebuild(); }, this.o.debounceMs ?? 50);
  }

  private list<T = any>(k: Kind): T[] {
    return this.informers[k].list() as T[];
  }

  /** Builds, applies, writes status. Runs one at a time; a change meanwhile runs it once more. */
  async rebuild(): Promise<void> {
    if (this.running) { this.again = true; return; }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.once();
      } while (this.again);
    } finally {
      this.running = false;
    }
  }

  private async once(): Promise<void> {
    const secrets = new Map(this.list<TlsSecret>('secrets').map((s) => [key(s as any), s]));
    const getSecret = (ref: string) => secrets.get(ref);
    const namespaces = new Map(this.list('namespaces').map((n: any) => [n.metadata.name as string, (n.metadata.labels ?? {}) as Record<string, string>]));
    const cfg = buildConfig({
      services: this.o.snapshot().config.services, ingresses: this.list('ingresses'), ingressClasses: this.list('ingressClasses'),
      gatewayClasses: this.list('gatewayClasses'), gateways: this.list('gateways'), httpRoutes: this.list('httpRoutes'),
      referenceGrants: this.list('referenceGrants'), namespaces,
      istioGateways: this.list('istioGateways'), virtualServices: this.list('virtualServices'), destinationRules: this.list('destinationRules'),
      secretProblem: (ns, name) => this.o.certs.secret(`${ns}/${name}`, getSecret).problem,
    }, this.o.settings);
    // Certificates: Ingress TLS Secrets are checked here (Gateways' were judged by the compiler).
    const tlsProblems = new Map<string, string[]>();
    const entries = [];
    for (const t of cfg.tls) {
      const r = this.o.certs.secret(t.secret, getSecret);
      if (r.ctx) entries.push({ hosts: t.hosts, ctx: r.ctx });
      else if (t.owner.startsWith('Ingress ')) {
        const id = t.owner.slice(8);
        tlsProblems.set(id, [...(tlsProblems.get(id) ?? []), `spec.tls: ${r.problem} (the default certificate is served)`]);
      } else if (t.owner.startsWith('Gateway.networking.istio.io ')) {
        const id = `Gateway ${t.owner.slice(28)}`;
        cfg.istio.problems.set(id, [...(cfg.istio.problems.get(id) ?? []), `spec.servers[].tls.credentialName: ${r.problem} (the default certificate is served)`]);
      }
    }
    this.o.certs.install(entries);
    this.current = cfg;
    this.rebuilds++;
    this.o.apply(cfg);
    await this.writeStatus(cfg, tlsProblems);
  }

  private async writeStatus(cfg: IngressConfig, tlsProblems: Map<string, string[]>): Promise<void> {
    const ingInf = this.informers.ingresses;
    for (const [id, probs] of cfg.ingresses) {
      const obj = ingInf.get(id);
      if (!obj) continue;
      const all = [...probs, ...(tlsProblems.get(id) ?? [])];
      this.report(obj, 'Ingress', all);
      const want = { loadBalancer: { ingress: [{ ip: this.o.settings.address }] } };
      if (JSON.stringify((obj as any).status?.loadBalancer ?? {}) !== JSON.stringify(want.loadBalancer))
        await this.put(REFS.ingresses, obj, want);
    }
    // Ingresses no longer ours (class changed, default class moved) lose the address we wrote, as
    // ingress-nginx clears status it no longer owns.
    for (const obj of ingInf.list()) {
      if (cfg.ingresses.has(key(obj))) continue;
      const lb = (obj as any).status?.loadBalancer?.ingress ?? [];
      if (lb.length === 1 && lb[0].ip === this.o.settings.address) await this.put(REFS.ingresses, obj, { loadBalancer: {} });
    }
    // Istio objects: events only (Istio writes no status for these either).
    const istioKinds: Record<string, Kind> = { 'Gateway': 'istioGateways', 'VirtualService': 'virtualServices', 'DestinationRule': 'destinationRules' };
    for (const [id, probs] of cfg.istio.problems) {
      const [kind, key] = id.split(' ');
      const obj = istioKinds[kind] ? this.informers[istioKinds[kind]].get(key) : undefined;
      if (obj) this.report(obj, `${kind}.networking.istio.io`, probs);
    }
    for (const [name, st] of cfg.gateway.classStatus) {
      const obj = this.informers.gatewayClasses.get(name);
      if (obj) await this.putConditions(REFS.gatewayClasses, obj, { ...(obj as any).status, conditions: this.keepTimes((obj as any).status?.conditions, st.conditions) });
    }
    for (const [id, st] of cfg.gateway.gatewayStatus) {
      const obj = this.informers.gateways.get(id);
      if (!obj) continue;
      const old = (obj as any).status ?? {};
      const listeners = st.listeners.map((l: any) => ({ ...l, conditions: this.keepTimes(old.listeners?.find((x: any) => x.name === l.name)?.conditions, l.conditions) }));
      const bad = listeners.flatMap((l: any) => l.conditions.filter((x: any) => x.status === 'False' && x.type !== 'Conflicted').map((x: any) => `listener ${l.name}: ${x.reason}${x.message ? `: ${x.message}` : ''}`));
      this.report(obj, 'Gateway', bad);
      await this.putConditions(REFS.gateways, obj, { ...st, conditions: this.keepTimes(old.conditions, st.conditions), listeners });
    }
    for (const [id, st] of cfg.gateway.routeStatus) {
      const obj = this.informers.httpRoutes.get(id);
      if (!obj) continue;
      const old: any[] = (obj as any).status?.parents ?? [];
      const others = old.filter((p) => p.controllerName !== this.o.settings.gatewayController);
      const parents = st.parents.map((p) => {
        const prev = old.find((x) => x.controllerName === p.controllerName && JSON.stringify(x.parentRef) === JSON.stringify(p.parentRef));
        return { ...p, conditions: this.keepTimes(prev?.conditions, p.conditions) };
      });
      this.report(obj, 'HTTPRoute', parents.flatMap((p: any) => p.conditions.filter((x: any) => x.status === 'False').map((x: any) => `${x.type} ${x.reason}: ${x.message}`)));
      await this.putConditions(REFS.httpRoutes, obj, { parents: [...others, ...parents] });
    }
    // Routes that no longer reference a Gateway of ours lose the entries we wrote (the spec asks controllers
    // to remove their stale parent statuses); other controllers' entries stay.
    for (const obj of this.informers.httpRoutes.list()) {
      const parents: any[] = (obj as any).status?.parents ?? [];
      if (cfg.gateway.routeStatus.has(key(obj)) || !parents.some((p) => p.controllerName === this.o.settings.gatewayController)) continue;
      await this.put(REFS.httpRoutes, obj, { parents: parents.filter((p) => p.controllerName !== this.o.settings.gatewayController) });
    }
  }

  /** Conditions with lastTransitionTime carried over while type and status are unchanged. */
  private keepTimes(old: any[] | undefined, next: any[]): any[] {
    return next.map((c) => {
      const o = (old ?? []).find((x) => x.type === c.type);
      return { ...c, lastTransitionTime: o && o.status === c.status ? o.lastTransitionTime : now() };
    });
  }

  private async putConditions(ref: (typeof REFS)[Kind], obj: KubeObject, status: any): Promise<void> {
    if (JSON.stringify((obj as any).status ?? {}) === JSON.stringify(status)) return;
    await this.put(ref, obj, status);
  }

  private async put(ref: (typeof REFS)[Kind], obj: KubeObject, status: any): Promise<void> {
    try {
      await this.o.client.updateStatus(ref, { ...obj, status } as KubeObject);
    } catch (e) {
      // A conflict means a newer object is on its way: its event triggers the next rebuild.
      this.o.log('warn', `status of ${key(obj)}: ${(e as Error).message}`);
    }
  }

  /** One Warning event per distinct problem list; a Normal `Sync` once it is clean again. */
  private report(obj: KubeObject, kind: string, problems: string[]): void {
    const id = `${kind}/${key(obj)}`;
    const text = problems.join('\n');
    if ((this.reported.get(id) ?? '') === text) return;
    this.reported.set(id, text);
    if (problems.length === 0) this.o.recorder.event(obj, 'Normal', 'Sync', 'Scheduled for sync');
    for (const p of problems) this.o.recorder.event(obj, 'Warning', reasonOf(p), p);
    for (const p of problems) this.o.log('warn', `${kind} ${key(obj)}: ${p}`);
  }
}

function reasonOf(p: string): string {
  if (/Secret|certificate/i.test(p)) return 'InvalidCertificate';
  if (/not found|has no port|BackendNotFound/.test(p)) return 'BackendNotFound';
  return 'InvalidConfiguration';
}
