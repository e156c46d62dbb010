// KubeClient: a typed client for any resource of a Kubernetes-style API server (ours, or a real one).
// It builds REST paths from (apiVersion, plural or kind, namespace), sends JSON through the Transport seam,
// turns error answers into KubeApiError with the server's Status, and streams watches as decoded events.

import type { KubeList, KubeObject, Status } from '../meta.js';
import { splitApiVersion } from '../meta.js';
import { type ClusterConfig, type KubeconfigSource, loadKubeconfig } from './config.js';
import { type ApiResource, Discovery } from './discovery.js';
import { errorFromResponse, KubeApiError } from './errors.js';
import { type HttpRequest, type Transport, undiciTransport } from './transport.js';
import { decodeWatch, type WatchEvent } from './watch.js';

/**
 * Names a resource: an ApiResource from discovery, or an apiVersion with a plural ('pods') or a kind
 * ('Pod'). With a kind (or when `namespaced` is unknown) discovery is consulted once.
 */
export type ResourceRef = ApiResource | { apiVersion: string; plural?: string; kind?: string; namespaced?: boolean };

/** The ref for an object's own apiVersion and kind. */
export function refOf(obj: { apiVersion: string; kind: string }): ResourceRef {
  return { apiVersion: obj.apiVersion, kind: obj.kind };
}

/** Options common to writes. */
export interface WriteOptions {
  namespace?: string;
  /** server-side dry run (`?dryRun=All`) */
  dryRun?: boolean;
  fieldManager?: string;
}

/** Options of list and watch. */
export interface ListOptions {
  /** '' or absent = all namespaces for a namespaced resource */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

/** Options of a watch. */
export interface WatchOptions extends Omit<ListOptions, 'limit' | 'continue'> {
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
  signal?: AbortSignal;
  /** ask for Table rows (what `get -w` prints) instead of objects */
  asTable?: boolean;
}

/** The four patch types; `apply` is server-side apply. */
export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

/** Options of a patch. */
export interface PatchOptions extends WriteOptions {
  type: PatchType;
  /** take ownership of conflicting fields (apply only) */
  force?: boolean;
  subresource?: string;
}

/** metav1.DeleteOptions plus the namespace. */
export interface DeleteOptions {
  namespace?: string;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

const PATCH_MEDIA: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** The Accept header that asks for a meta.k8s.io/v1 Table, as kubectl sends it. */
export const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

/** How to build a client. */
export interface ClientOptions {
  transport?: Transport;
  userAgent?: string;
  /** discovery cache lifetime (default 10 minutes) */
  discoveryTtlMs?: number;
}

/** A resolved resource: where its REST paths start. */
interface Target {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean | undefined;
}

/** A client for one API server. */
export class KubeClient {
  readonly transport: Transport;
  readonly discovery: Discovery;
  /** the namespace of the kubeconfig's context ('default' when none) */
  readonly namespace: string;
  readonly server: string;

  constructor(readonly config: ClusterConfig, o: ClientOptions = {}) {
    this.transport = o.transport ?? undiciTransport(config, o.userAgent);
    this.discovery = new Discovery((p) => this.getJson(p), o.discoveryTtlMs);
    this.namespace = config.namespace || 'default';
    this.server = config.server;
  }

  /** From a kubeconfig: a path, a source description, or the default ($KUBECONFIG, ~/.kube/config). */
  static fromKubeconfig(src: string | KubeconfigSource = {}, o: ClientOptions = {}): KubeClient {
    return new KubeClient(loadKubeconfig(typeof src === 'string' ? { path: src } : src), o);
  }

  /** Release the connection pool. */
  close(): Promise<void> {
    return this.transport.close();
  }

  // ------------------------------------------------------------------------------------ raw requests

  /** Send one request; JSON body in and out; non-2xx throws KubeApiError. */
  async request<T = unknown>(method: HttpRequest['method'], path: string, o: { query?: Record<string, unknown>; body?: unknown; contentType?: string; accept?: string; signal?: AbortSignal } = {}): Promise<T> {
    const headers: Record<string, string> = { accept: o.accept ?? 'application/json' };
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] = o.contentType ?? 'application/json';
    }
    const res = await this.send({ method, path: path + queryString(o.query), headers, body, signal: o.signal });
    const text = await res.body.text();
    if (res.status < 200 || res.status >= 300) throw errorFromResponse(res.status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async send(r: HttpRequest) {
    try {
      return await this.transport.request(r);
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      const err = e as NodeJS.ErrnoException;
      const cause = (err.cause as NodeJS.ErrnoException | undefined) ?? err;
      const what = cause.code ? `${cause.code}${cause.message && !cause.message.includes(cause.code) ? ` ${cause.message}` : ''}` : cause.message;
      throw Object.assign(new Error(`Unable to connect to the server: ${this.server}${r.path.split('?')[0]}: ${what}`), { code: cause.code ?? err.code, cause: e });
    }
  }

  /** GET a path and parse JSON (discovery, /version). */
  getJson<T = any>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** The server's /version document. */
  version(): Promise<Record<string, string>> {
    return this.getJson('/version');
  }

  // ------------------------------------------------------------------------------------ paths

  private async target(ref: ResourceRef): Promise<Target> {
    if ('plural' in ref && ref.plural && 'group' in ref) return { group: ref.group, version: ref.version, plural: ref.plural, namespaced: ref.namespaced };
    const r = ref as { apiVersion: string; plural?: string; kind?: string; namespaced?: boolean };
    const { group, version } = splitApiVersion(r.apiVersion);
    if (r.plural && r.namespaced !== undefined) return { group, version, plural: r.plural, namespaced: r.namespaced };
    if (r.kind) {
      const found = await this.discovery.forKind(r.apiVersion, r.kind);
      return { group, version, plural: found.plural, namespaced: found.namespaced };
    }
    if (!r.plural) throw new Error('resource reference: plural or kind: Required value');
    const all = await this.discovery.resources().catch(() => [] as ApiResource[]);
    const found = all.find((x) => x.group === group && x.version === version && x.plural === r.plural);
    return { group, version, plural: r.plural, namespaced: found?.namespaced };
  }

  /** The REST path of a collection or object (`name` ''), with an optional subresource. */
  async path(ref: ResourceRef, namespace: string | undefined, name = '', subresource = ''): Promise<string> {
    const t = await this.target(ref);
    return buildPath(t, namespace, name, subresource);
  }

  // ------------------------------------------------------------------------------------ verbs

  /** GET one object. */
  async get<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, o: { namespace?: string } = {}): Promise<T> {
    return this.request<T>('GET', await this.path(ref, o.namespace ?? this.namespace, name));
  }

  /** GET a collection (one page when `limit` is set; follow `metadata.continue` for the next). */
  async list<T extends KubeObject = KubeObject>(ref: ResourceRef, o: ListOptions = {}): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', await this.path(ref, o.namespace), { query: listQuery(o) });
  }

  /** Every item of a collection, following continue tokens page by page (`pageSize` default 500). */
  async listAll<T extends KubeObject = KubeObject>(ref: ResourceRef, o: Omit<ListOptions, 'limit' | 'continue'> & { pageSize?: number } = {}): Promise<KubeList<T>> {
    const { pageSize = 500, ...rest } = o;
    let page = await this.list<T>(ref, { ...rest, limit: pageSize });
    const items = [...page.items];
    while (page.metadata.continue) {
      page = await this.list<T>(ref, { ...rest, limit: pageSize, continue: page.metadata.continue, resourceVersion: undefined, resourceVersionMatch: undefined });
      items.push(...page.items);
    }
    return { ...page, items };
  }

  /** A collection (or one object with `name`) as a meta.k8s.io/v1 Table. */
  async table(ref: ResourceRef, o: ListOptions & { name?: string; includeObject?: 'None' | 'Metadata' | 'Object' } = {}): Promise<Table> {
    const path = await this.path(ref, o.namespace, o.name ?? '');
    const query = o.name ? {} : listQuery(o);
    return this.request<Table>('GET', path, { query: { ...query, includeObject: o.includeObject }, accept: TABLE_ACCEPT });
  }

  /** POST a new object (namespace from the object, else `o.namespace`, else the client's). */
  async create<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: KubeObject, o: WriteOptions = {}): Promise<T> {
    const ns = obj.metadata?.namespace ?? o.namespace ?? this.namespace;
    return this.request<T>('POST', await this.path(ref, ns), { query: writeQuery(o), body: obj });
  }

  /** PUT an object (optimistic concurrency when metadata.resourceVersion is set). */
  async update<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: KubeObject, o: WriteOptions = {}): Promise<T> {
    const ns = obj.metadata?.namespace ?? o.namespace ?? this.namespace;
    return this.request<T>('PUT', await this.path(ref, ns, requireName(obj)), { query: writeQuery(o), body: obj });
  }

  /** PUT the status subresource. */
  async updateStatus<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: KubeObject, o: WriteOptions = {}): Promise<T> {
    const ns = obj.metadata?.namespace ?? o.namespace ?? this.namespace;
    return this.request<T>('PUT', await this.path(ref, ns, requireName(obj), 'status'), { query: writeQuery(o), body: obj });
  }

  /** PATCH with one of the four patch types; `apply` needs a fieldManager (default 'shoal'). */
  async patch<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, patch: unknown, o: PatchOptions): Promise<T> {
    const query: Record<string, unknown> = writeQuery(o);
    if (o.type === 'apply') {
      query.fieldManager ??= 'shoal';
      if (o.force) query.force = 'true';
    }
    const path = await this.path(ref, o.namespace ?? this.namespace, name, o.subresource ?? '');
    return this.request<T>('PATCH', path, { query, body: JSON.stringify(patch), contentType: PATCH_MEDIA[o.type] });
  }

  /** DELETE one object; answers with the object (marked for deletion) or a Status. */
  async delete<T = KubeObject | Status>(ref: ResourceRef, name: string, o: DeleteOptions = {}): Promise<T> {
    const path = await this.path(ref, o.namespace ?? this.namespace, name);
    return this.request<T>('DELETE', path, { query: { dryRun: o.dryRun ? 'All' : undefined }, body: deleteBody(o) });
  }

  /** DELETE a collection by selector. */
  async deleteCollection(ref: ResourceRef, o: DeleteOptions & Pick<ListOptions, 'labelSelector' | 'fieldSelector'> = {}): Promise<KubeList> {
    const path = await this.path(ref, o.namespace ?? this.namespace);
    return this.request<KubeList>('DELETE', path, { query: { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, dryRun: o.dryRun ? 'All' : undefined }, body: deleteBody(o) });
  }

  /** GET the autoscaling/v1 Scale of an object. */
  async getScale(ref: ResourceRef, name: string, o: { namespace?: string } = {}): Promise<KubeObject> {
    return this.request('GET', await this.path(ref, o.namespace ?? this.namespace, name, 'scale'));
  }

  /** Set spec.replicas through the scale subresource; `resourceVersion` makes it conditional. */
  async scale(ref: ResourceRef, name: string, replicas: number, o: WriteOptions & { resourceVersion?: string } = {}): Promise<KubeObject> {
    const ns = o.namespace ?? this.namespace;
    const body = { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name, namespace: ns, ...(o.resourceVersion ? { resourceVersion: o.resourceVersion } : {}) }, spec: { replicas } };
    return this.request('PUT', await this.path(ref, ns, name, 'scale'), { query: writeQuery(o), body });
  }

  /**
   * Watch a collection. Yields events until the server ends the stream, `timeoutSeconds` passes or
   * `signal` aborts (then it returns quietly). A non-200 answer throws KubeApiError; an ERROR event is
   * yielded as is (a 410 there means: list again).
   */
  async *watch<T extends KubeObject = KubeObject>(ref: ResourceRef, o: WatchOptions = {}): AsyncGenerator<WatchEvent<T>> {
    const path = await this.path(ref, o.namespace);
    const query = {
      ...listQuery(o), watch: 'true',
      allowWatchBookmarks: o.allowWatchBookmarks ? 'true' : undefined,
      timeoutSeconds: o.timeoutSeconds, sendInitialEvents: o.sendInitialEvents === undefined ? undefined : String(o.sendInitialEvents),
    };
    let res;
    try {
      res = await this.send({ method: 'GET', path: path + queryString(query), headers: { accept: o.asTable ? TABLE_ACCEPT : 'application/json' }, signal: o.signal });
    } catch (e) {
      if (o.signal?.aborted) return;
      throw e;
    }
    if (res.status !== 200) throw errorFromResponse(res.status, await res.body.text());
    try {
      for await (const ev of decodeWatch<T>(res.body)) {
        if (o.signal?.aborted) return;
        yield ev;
      }
    } catch (e) {
      if (o.signal?.aborted) return;
      throw e;
    }
  }
}

/** A meta.k8s.io/v1 Table. */
export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string };
  columnDefinitions: { name: string; type: string; format?: string; description?: string; priority: number }[];
  rows: { cells: unknown[]; object?: KubeObject }[];
}

// -------------------------------------------------------------------------------------- helpers

function buildPath(t: Target, namespace: string | undefined, name: string, subresource: string): string {
  let p = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  if (t.namespaced !== false && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${t.plural}`;
  if (name) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

function requireName(obj: KubeObject): string {
  const n = obj.metadata?.name;
  if (!n) throw new Error('metadata.name: Required value');
  return n;
}

/** `?a=1&b=2` from the defined values, '' when none. */
export function queryString(q: Record<string, unknown> | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, String(x)); // repeated parameters (exec's command=…)
    else p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

function listQuery(o: ListOptions): Record<string, unknown> {
  return {
    labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, limit: o.limit, continue: o.continue,
    resourceVersion: o.resourceVersion, resourceVersionMatch: o.resourceVersionMatch,
  };
}

function writeQuery(o: WriteOptions): Record<string, unknown> {
  return { dryRun: o.dryRun ? 'All' : undefined, fieldManager: o.fieldManager };
}

function deleteBody(o: DeleteOptions): Record<string, unknown> | undefined {
  const b: Record<string, unknown> = {};
  if (o.propagationPolicy) b.propagationPolicy = o.propagationPolicy;
  if (o.gracePeriodSeconds !== undefined) b.gracePeriodSeconds = o.gracePeriodSeconds;
  if (o.preconditions) b.preconditions = o.preconditions;
  return Object.keys(b).length ? { apiVersion: 'v1', kind: 'DeleteOptions', ...b } : undefined;
}

export { KubeApiError };
