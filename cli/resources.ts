// Turning the CLI's resource arguments into (resource, name) pairs as kubectl does:
// `pods`, `pods web`, `pods/web`, `pods,svc`, `deploy/web svc/web`, `all`, with names resolved through
// discovery (plural, singular, short name, kind, `name.group`).

import { type ApiResource, UnknownKindError, UnknownResourceError } from '../api/client/discovery.js';
import type { KubeClient } from '../api/client/client.js';
import { CliError, NoKindMatchError } from './errors.js';

/** What `get`/`delete`/`describe` were asked for: resources, each with names (empty = all). */
export interface ResourceArgs {
  resource: ApiResource;
  names: string[];
}

/**
 * Parse positional arguments: either `TYPE[,TYPE...] [NAME...]` or `TYPE/NAME [TYPE/NAME...]`.
 * `all` expands to the discovery category 'all'.
 */
export async function resolveResourceArgs(client: KubeClient, args: string[]): Promise<ResourceArgs[]> {
  if (args.length === 0) throw new CliError('you must specify the type of resource to get. Use "shoal api-resources" for a complete list of supported resources.', 64);
  if (args.some((a) => a.includes('/'))) {
    if (!args.every((a) => a.includes('/'))) throw new CliError('there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. \'shoal get resource/<resource_name>\' instead of \'shoal get resource resource/<resource_name>\'', 64);
    const out: ResourceArgs[] = [];
    for (const a of args) {
      const [type, name] = [a.slice(0, a.indexOf('/')), a.slice(a.indexOf('/') + 1)];
      if (!name) throw new CliError(`arguments in resource/name form must have a single resource and name: ${JSON.stringify(a)}`, 64);
      const resource = await client.discovery.resolve(type);
      const hit = out.find((o) => o.resource === resource);
      if (hit) hit.names.push(name);
      else out.push({ resource, names: [name] });
    }
    return out;
  }
  const [types, ...names] = args;
  const out: ResourceArgs[] = [];
  let categories = false;
  for (const t of types!.split(',').filter((s) => s !== '')) {
    const rs = await resolveOrCategory(client, t);
    if (rs.category) categories = true;
    for (const r of rs.resources) if (!out.some((o) => o.resource === r)) out.push({ resource: r, names: [...names] });
  }
  if (types!.split(',').length > 1 || categories) {
    if (names.length) throw new CliError('you may only specify a single resource type when naming objects', 64);
  }
  return out;
}

/**
 * A resource name, or else a discovery category as kubectl expands it (`all`, `istio-io`,
 * `networking-istio-io`, `gateway-api`: the preferred version of every kind in it).
 */
async function resolveOrCategory(client: KubeClient, t: string): Promise<{ resources: ApiResource[]; category: boolean }> {
  if (t === 'all') return { resources: await client.discovery.category('all'), category: true };
  try {
    return { resources: [await client.discovery.resolve(t)], category: false };
  } catch (e) {
    if (!(e instanceof UnknownResourceError)) throw e;
    const inCategory = await client.discovery.category(t);
    if (!inCategory.length) throw e;
    return { resources: inCategory, category: true };
  }
}

/** kubectl's name for a resource in messages: `deployment.apps`, `pod`. */
export function kindLabel(r: ApiResource): string {
  const k = r.kind.toLowerCase();
  return r.group ? `${k}.${r.group}` : k;
}

/**
 * The resource serving a manifest document's apiVersion and kind; a kind the server does not serve is
 * kubectl's mapping error naming the object and its file (NoKindMatchError), so the other documents of
 * the file still go through.
 */
export async function resourceForDoc(client: KubeClient, d: { object: { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string } }; source: string }): Promise<ApiResource> {
  try {
    return await client.discovery.forKind(d.object.apiVersion, d.object.kind);
  } catch (e) {
    if (e instanceof UnknownKindError) throw new NoKindMatchError(d.object.metadata?.name ?? '', d.object.metadata?.namespace ?? '', d.source, e);
    throw e;
  }
}
