// `shoal inject -f app.yaml [-o out.yaml]`: the sidecar injector offline, like `istioctl kube-inject`.
// Pods and the pod templates of Deployments, ReplicaSets, DaemonSets, StatefulSets, Jobs and CronJobs
// get istio-init and the istio-proxy native sidecar (unless the pod opts out with
// sidecar.istio.io/inject=false, or is hostNetwork, or already injected); every other object is printed
// unchanged. Output is multi-document YAML on stdout or in the -o file. No cluster is contacted.

import { writeFileSync } from 'node:fs';
import YAML from 'yaml';
import type { Parsed } from '../args.js';
import type { Context } from '../context.js';
import { CliError } from '../errors.js';
import { loadManifests } from '../manifest/load.js';
import { InjectError, injectObject, injectable } from '../../inject/inject.js';
import { filenameFlag, recursiveFlag, type Command } from './command.js';

export const injectCommand: Command = {
  name: 'inject',
  summary: 'Add the mesh sidecar to Pods and workload templates in manifests (like istioctl kube-inject)',
  usage: 'shoal inject -f FILENAME [-f FILENAME...] [-o OUTPUT_FILE]',
  flags: [
    filenameFlag,
    recursiveFlag,
    { name: 'output', short: 'o', type: 'string', help: 'write the injected manifests to this file instead of stdout' },
  ],
  run: async (ctx: Context, a: Parsed) => {
    const files = (a.flags.filename as string[] | undefined) ?? [];
    if (!files.length) throw new CliError('error: filename not specified (-f)', 64);
    const { docs, errors } = await loadManifests(files, { recursive: !!a.flags.recursive, readStdin: () => ctx.io.readStdin() });
    for (const e of errors) ctx.io.err(`error: ${e.message}\n`);
    if (errors.length) return 1;
    const out: string[] = [];
    let failed = 0;
    for (const d of docs) {
      const o: any = d.object;
      if (!injectable(o.kind)) {
        out.push(YAML.stringify(o));
        continue;
      }
      try {
        const r = injectObject(o, { defaultInject: true });
        if (!r.decision.inject) ctx.io.err(`${o.kind.toLowerCase()}/${o.metadata?.name ?? o.metadata?.generateName ?? ''}: not injected: ${r.decision.reason}\n`);
        out.push(YAML.stringify(r.object));
      } catch (e) {
        if (!(e instanceof InjectError)) throw e;
        ctx.io.err(`error: ${d.source}: ${o.kind.toLowerCase()}/${o.metadata?.name ?? ''}: ${e.message}\n`);
        failed++;
      }
    }
    if (failed) return 1;
    const text = out.join('---\n');
    const file = a.flags.output as string | undefined;
    if (file) writeFileSync(file, text);
    else ctx.io.out(text);
    return 0;
  },
};
