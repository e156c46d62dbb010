// Several cluster components in one Node process, as k3s runs its server and agent: each Node process
// costs ~60 MB before it does anything, so `shoal up` groups the control plane (API server, controller
// manager, scheduler, mesh control, dashboard) and the node (node agent, service proxy, NetworkPolicy enforcer) into two processes.
// argv is `<component> <its flags…> [--- <component> <its flags…>]…`, each component's flags exactly as
// its own main.ts takes them; they start in order (each waits for the previous to be up) and stop in
// reverse order on SIGTERM/SIGINT. Any component failing to start, or losing leadership, ends the process
// with exit 1 so the supervisor restarts the group.

import pino from 'pino';
import { parseApiServerFlags, startApiServer } from '../../control-plane/apiserver/run.js';
import { parseManagerFlags } from '../../control-plane/controllers/flags.js';
import { startControllerManager } from '../../control-plane/controllers/manager.js';
import { parseSchedulerFlags, startScheduler } from '../../control-plane/scheduler/run.js';
import { startAgent } from '../../node/agent/agent.js';
import { parseAgentFlags } from '../../node/agent/config.js';
import { parsePolicyFlags } from '../../node/policy/flags.js';
import { runPolicy } from '../../node/policy/run.js';
import { runProxy } from '../../node/service-proxy/build.js';
import { parseMeshFlags } from '../../control-plane/mesh/flags.js';
import { runMeshControl } from '../../control-plane/mesh/run.js';
import { parseProxyFlags } from '../../node/service-proxy/flags.js';
import { parseDashboardFlags } from '../../dashboard/flags.js';
import { runDashboard } from '../../dashboard/run.js';

/** How one component stops. */
type Stop = () => Promise<void>;

/** A component's parser and starter; `fatal` ends the whole process (e.g. leadership lost). */
interface Starter {
  parse(argv: string[]): { config?: unknown; problems: string[] };
  start(config: any, fatal: (why: string) => void): Promise<Stop>;
}

const elected = (name: string, level: string) => (fatal: (why: string) => void) => {
  const logger = pino({ level, base: { component: name } });
  return { log: (msg: string, fields?: Record<string, unknown>) => logger.info(fields ?? {}, msg), onLost: () => fatal(`${name}: leaderelection lost`) };
};

/** The components a group may hold, by the names `shoal up` gives them. */
export const starters: Readonly<Record<string, Starter>> = {
  apiserver: {
    parse: (a) => parseApiServerFlags(a),
    async start(c) {
      const { server } = await startApiServer(c);
      return () => server.close();
    },
  },
  'controller-manager': {
    parse: (a) => parseManagerFlags(a),
    async start(c, fatal) {
      const cm = await startControllerManager(c, elected('controller-manager', c.logLevel)(fatal));
      return () => cm.stop();
    },
  },
  scheduler: {
    parse: (a) => parseSchedulerFlags(a),
    async start(c, fatal) {
      const s = await startScheduler(c, elected('scheduler', c.logLevel)(fatal));
      return () => s.stop();
    },
  },
  'mesh-control': {
    parse: (a) => parseMeshFlags(a),
    async start(c) {
      const mc = await runMeshControl(c);
      return () => mc.stop();
    },
  },
  dashboard: {
    parse: (a) => parseDashboardFlags(a),
    async start(c) {
      const d = await runDashboard(c);
      return () => d.stop();
    },
  },
  'node-agent': {
    parse: (a) => parseAgentFlags(a),
    async start(c) {
      const agent = await startAgent(c);
      process.stderr.write(`node-agent: node ${c.nodeName} serving on ${agent.url}\n`);
      return () => agent.close(c.cleanupOnExit ? { stopPods: true, removeHostRoutes: true } : {});
    },
  },
  'service-proxy': {
    parse: (a) => parseProxyFlags(a),
    async start(c) {
      const proxy = await runProxy(c);
      return () => proxy.close();
    },
  },
  'network-policy': {
    parse: (a) => parsePolicyFlags(a),
    async start(c) {
      const log = (level: string, msg: string) => process.stderr.write(`${JSON.stringify({ level, component: 'network-policy', time: new Date().toISOString(), msg })}\n`);
      const p = await runPolicy(c, log);
      return () => p.close();
    },
  },
};

/** Splits `a x --- b y` into [['a','x'], ['b','y']]. */
export function splitGroupArgs(argv: string[]): string[][] {
  const out: string[][] = [[]];
  for (const a of argv) {
    if (a === '---') out.push([]);
    else out[out.length - 1]!.push(a);
  }
  return out.filter((s) => s.length);
}

/** Checks every component's flags; returns the parsed list or every problem, prefixed by component. */
export function parseGroup(argv: string[]): { components?: { name: string; config: unknown }[]; problems: string[] } {
  const problems: string[] = [];
  const components: { name: string; config: unknown }[] = [];
  const segments = splitGroupArgs(argv);
  if (!segments.length) problems.push(`no component given; one of: ${Object.keys(starters).join(', ')}`);
  for (const [name, ...args] of segments) {
    const s = starters[name!];
    if (!s) {
      problems.push(`unknown component ${JSON.stringify(name)}; one of: ${Object.keys(starters).join(', ')}`);
      continue;
    }
    const r = s.parse(args);
    if (!r.config) problems.push(...r.problems.map((p) => `${name}: ${p}`));
    else components.push({ name: name!, config: r.config });
  }
  return problems.length ? { problems } : { components, problems };
}

/** Runs a group until SIGTERM/SIGINT (exit 0) or a fatal error (exit 1); 64 for bad flags. */
export async function runGroup(argv: string[], err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { components, problems } = parseGroup(argv);
  if (!components) {
    for (const p of problems) err.write(`shoal group: ${p}\n`);
    return 64;
  }
  const stops: { name: string; stop: Stop }[] = [];
  let fatalWhy: string | undefined;
  let wake: () => void = () => undefined;
  const done = new Promise<void>((res) => (wake = res));
  const fatal = (why: string) => {
    fatalWhy ??= why;
    wake();
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => wake());
  try {
    for (const { name, config } of components) {
      if (fatalWhy) break;
      stops.push({ name, stop: await starters[name]!.start(config, fatal) });
    }
  } catch (e) {
    fatal(`starting ${components[stops.length]?.name}: ${(e as Error).stack ?? e}`);
  }
  await done;
  if (fatalWhy) err.write(`shoal group: ${fatalWhy}\n`);
  for (const { name, stop } of stops.reverse()) {
    try {
      await stop();
    } catch (e) {
      err.write(`shoal group: stopping ${name}: ${(e as Error).message}\n`);
    }
  }
  return fatalWhy ? 1 : 0;
}
