// `shoal apply -f FILE|DIR|- [-R] [--dry-run=server] [--server-side [--force-conflicts]]`: create each
// object, or update it when it exists. Client-side apply (the default) keeps the applied configuration in
// the last-applied annotation and sends the three-way merge patch; `--server-side` sends an apply patch.
// Every document is tried; each failure is reported, and the exit code is 1 if any failed.

import type { KubeObject } from '../../api/meta.js';
import type { ApiResource } from '../../api/client/discovery.js';
import { isNotFound } from '../../api/client/errors.js';
import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { resourceForDoc } from '../resources.js';
import { formatError } from '../errors.js';
import { loadManifests, type ManifestDoc } from '../manifest/load.js';
import { resourceName } from '../printers/objects.js';
import { lastApplied, threeWayMergePatch, withLastApplied } from '../apply/three-way.js';
import { type Command, dryRunFlag, filenameFlag, isServerDryRun, outputFlag, recursiveFlag } from './command.js';

export const applyCommand: Command = {
  name: 'apply',
  summary: 'Create or update resources from files, directories or stdin',
  usage: 'shoal apply -f FILE|DIR|- [-R] [--dry-run=server] [--server-side [--force-conflicts] [--field-manager NAME]] [-o name]',
  flags: [
    filenameFlag, recursiveFlag, dryRunFlag, { ...outputFlag, values: ['name', 'yaml', 'json'] },
    { name: 'server-side', type: 'bool', help: 'use server-side apply' },
    { name: 'force-conflicts', type: 'bool', help: 'with --server-side: take ownership of conflicting fields' },
    { name: 'field-manager', type: 'string', help: 'field manager name (default kubectl-client-side-apply, or shoal with --server-side)' },
  ],
  run: runApply,
};

/** What happened to one object. */
export type ApplyResult = 'created' | 'configured' | 'unchanged' | 'serverside-applied';

async function runApply(ctx: Context, a: Parsed): Promise<number> {
  const files = (a.flags.filename as string[] | undefined) ?? [];
  if (!files.length) {
    ctx.io.err('error: must specify one of -f and -k\n');
    return 64;
  }
  const { docs, errors } = await loadManifests(files, { recursive: !!a.flags.recursive, readStdin: () => ctx.io.readStdin() });
  let failed = errors.length;
  for (const e of errors) ctx.io.err(`error: ${e.message}\n`);
  const dryRun = isServerDryRun(a.flags);
  const suffix = dryRun ? ' (server dry run)' : '';
  for (const d of docs) {
    try {
      const { result, object } = await applyOne(ctx, d, {
        dryRun, serverSide: !!a.flags['server-side'], force: !!a.flags['force-conflicts'], fieldManager: a.flags['field-manager'] as string | undefined,
      });
      if (a.flags.output === 'name') ctx.io.out(`${resourceName(object)}\n`);
      else ctx.io.out(`${resourceName(object)} ${result}${suffix}\n`);
    } catch (e) {
      failed++;
      ctx.io.err(`${formatError(e, (e as { doing?: string }).doing)}\n`);
    }
  }
  return failed ? 1 : 0;
}

/** The namespace an object goes to: its own, else -n, else the context's; -n must agree with it. */
export function targetNamespace(ctx: Context, r: ApiResource, o: KubeObject): string {
  if (!r.namespaced) return '';
  const own = o.metadata?.namespace;
  if (own && ctx.explicitNamespace && own !== ctx.namespace)
    throw new Error(`the namespace from the provided object "${own}" does not match the namespace "${ctx.namespace}". You must pass '--namespace=${own}' to perform this operation.`);
  return own || ctx.namespace;
}

/** Apply one document; errors carry `doing` (`error when creating "app.yaml"`) for the message. */
export async function applyOne(ctx: Context, d: ManifestDoc, o: { dryRun: boolean; serverSide: boolean; force: boolean; fieldManager?: string }): Promise<{ result: ApplyResult; object: KubeObject }> {
  const c = ctx.client;
  const obj = structuredClone(d.object);
  const r = await resourceForDoc(c, d);
  const ns = targetNamespace(ctx, r, obj);
  const name = obj.metadata?.name;
  const withDoing = async <T>(doing: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw Object.assign(e as Error, { doing: `${doing} "${d.source}"` });
    }
  };
  if (!name) throw Object.assign(new Error('resource name may not be empty'), { doing: `error when retrieving current configuration of "${d.source}"` });
  if (ns) obj.metadata.namespace = ns;
  if (o.serverSide) {
    const object = await withDoing('error when applying', () =>
      c.patch(r, name, obj, { type: 'apply', namespace: ns, fieldManager: o.fieldManager ?? 'shoal', force: o.force, dryRun: o.dryRun }));
    return { result: 'serverside-applied', object: { ...object, apiVersion: object.apiVersion ?? obj.apiVersion, kind: object.kind ?? obj.kind } };
  }
  const modified = withLastApplied(obj);
  let live: KubeObject | undefined;
  try {
    live = await c.get(r, name, { namespace: ns });
  } catch (e) {
    if (!isNotFound(e)) throw Object.assign(e as Error, { doing: `error when retrieving current configuration of "${d.source}"` });
  }
  const manager = o.fieldManager ?? 'kubectl-client-side-apply';
  if (!live) {
    const created = await withDoing('error when creating', () => c.create(r, modified, { namespace: ns, dryRun: o.dryRun, fieldManager: manager }));
    return { result: 'created', object: { ...modified, ...created } };
  }
  const patch = threeWayMergePatch(lastApplied(live), modified as unknown as Record<string, unknown>, live as unknown as Record<string, unknown>);
  if (Object.keys(patch).length === 0) return { result: 'unchanged', object: live };
  const patched = await withDoing('error when patching', () => c.patch(r, name, patch, { type: 'merge', namespace: ns, dryRun: o.dryRun, fieldManager: manager }));
  return { result: 'configured', object: { ...modified, ...patched } };
}
