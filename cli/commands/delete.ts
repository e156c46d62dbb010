// `shoal delete (-f FILE | KIND NAME... | KIND/NAME... | KIND -l SEL | KIND --all)`: deletes and prints
// `pod "web" deleted` per object; --grace-period, --cascade (propagation policy), --wait (default true, as
// kubectl: poll until the object is gone), --ignore-not-found. Continues past failures; exit 1 if any.

import type { ApiResource } from '../../api/client/discovery.js';
import { isNotFound } from '../../api/client/errors.js';
import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { CliError, formatError } from '../errors.js';
import { loadManifests } from '../manifest/load.js';
import { kindLabel, resolveResourceArgs, resourceForDoc } from '../resources.js';
import { targetNamespace } from './apply.js';
import { allNamespacesFlag, type Command, dryRunFlag, filenameFlag, isServerDryRun, recursiveFlag, selectorFlag } from './command.js';

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'Delete resources by file, by name, or by label selector',
  usage: 'shoal delete (-f FILE | KIND NAME... | KIND/NAME... | KIND -l SEL | KIND --all) [--grace-period=N] [--wait=false] [--ignore-not-found]',
  flags: [
    filenameFlag, recursiveFlag, selectorFlag, allNamespacesFlag, dryRunFlag,
    { name: 'all', type: 'bool', help: 'delete every object of the kind in the namespace' },
    { name: 'grace-period', type: 'int', help: 'seconds given to the object to terminate gracefully (-1: its default)' },
    { name: 'now', type: 'bool', help: 'same as --grace-period=1' },
    { name: 'force', type: 'bool', help: 'with --grace-period=0: delete immediately' },
    { name: 'cascade', type: 'string', help: 'background, foreground or orphan', values: ['background', 'foreground', 'orphan', 'true', 'false'] },
    { name: 'wait', type: 'bool', help: 'wait until the objects are gone (default true)' },
    { name: 'timeout', type: 'duration', help: 'how long --wait waits (default 60s)' },
    { name: 'ignore-not-found', type: 'bool', help: 'treat "not found" as success' },
  ],
  run: runDelete,
};

interface Victim {
  resource: ApiResource;
  namespace: string;
  name: string;
}

async function runDelete(ctx: Context, a: Parsed): Promise<number> {
  const f = a.flags;
  const files = (f.filename as string[] | undefined) ?? [];
  const victims: Victim[] = [];
  let failed = 0;
  if (files.length) {
    if (a.positionals.length) throw new CliError('when paths are given with -f, resource names may not be given as arguments', 64);
    const { docs, errors } = await loadManifests(files, { recursive: !!f.recursive, readStdin: () => ctx.io.readStdin() });
    for (const e of errors) ctx.io.err(`error: ${e.message}\n`);
    failed += errors.length;
    for (const d of docs) {
      try {
        const r = await resourceForDoc(ctx.client, d);
        victims.push({ resource: r, namespace: targetNamespace(ctx, r, d.object), name: d.object.metadata.name ?? '' });
      } catch (e) {
        ctx.io.err(`${formatError(e)}\n`);
        failed++;
      }
    }
  } else {
    const targets = await resolveResourceArgs(ctx.client, a.positionals);
    for (const t of targets) {
      const ns = t.resource.namespaced ? (f['all-namespaces'] ? '' : ctx.namespace) : '';
      if (t.names.length) {
        for (const name of t.names) victims.push({ resource: t.resource, namespace: ns, name });
        continue;
      }
      if (!f.all && !f.selector) throw new CliError('resource(s) were provided, but no name was specified', 64);
      const list = await ctx.client.listAll(t.resource, { namespace: ns, labelSelector: f.selector as string | undefined });
      for (const o of list.items) victims.push({ resource: t.resource, namespace: o.metadata.namespace ?? '', name: o.metadata.name! });
      if (!list.items.length) ctx.io.err(t.resource.namespaced && ns ? `No resources found in ${ns} namespace.\n` : 'No resources found\n');
    }
  }

  const dryRun = isServerDryRun(f);
  const cascade = f.cascade as string | undefined;
  const propagationPolicy = cascade === 'foreground' ? 'Foreground' : cascade === 'orphan' || cascade === 'false' ? 'Orphan' : cascade ? 'Background' : undefined;
  let grace = f['grace-period'] as number | undefined;
  if (f.now) grace = 1;
  if (grace !== undefined && grace < 0) grace = undefined;
  const deleted: Victim[] = [];
  for (const v of victims) {
    try {
      await ctx.client.delete(v.resource, v.name, { namespace: v.namespace, dryRun, propagationPolicy, ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}) });
      ctx.io.out(`${kindLabel(v.resource)} "${v.name}" deleted${dryRun ? ' (server dry run)' : ''}\n`);
      deleted.push(v);
    } catch (e) {
      if (isNotFound(e) && f['ignore-not-found']) continue;
      ctx.io.err(`${formatError(e)}\n`);
      failed++;
    }
  }
  if (f.wait !== false && !dryRun && deleted.length) failed += await waitGone(ctx, deleted, ((f.timeout as number | undefined) ?? 60) * 1000);
  return failed ? 1 : 0;
}

/** Poll until every object is gone; returns how many were still there at the deadline. */
async function waitGone(ctx: Context, victims: Victim[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let pending = victims;
  let delay = 50;
  while (pending.length) {
    const still: Victim[] = [];
    for (const v of pending) {
      try {
        await ctx.client.get(v.resource, v.name, { namespace: v.namespace });
        still.push(v);
      } catch (e) {
        if (!isNotFound(e)) still.push(v);
      }
    }
    pending = still;
    if (!pending.length) break;
    if (Date.now() >= deadline) {
      for (const v of pending) ctx.io.err(`error: timed out waiting for the condition on ${kindLabel(v.resource)}/${v.name}\n`);
      return pending.length;
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 1000);
  }
  return 0;
}
