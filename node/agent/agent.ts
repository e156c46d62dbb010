// The node agent, wired: API client → Node registration + Lease → pod manager (informer, workers,
// status) → sandboxes (netns + CNI through the embedded CNI daemon) and container supervisors → the
// :10250 server. `startAgent` returns a handle whose `close()` stops watching and serving; pods keep
// running (a restarted agent adopts them) unless `stopPods` is set.

import { mkdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { KubeClient } from '../../api/client/client.js';
import { loadKubeconfig } from '../../api/client/config.js';
import { isNotFound } from '../../api/client/errors.js';
import { CniRuntime } from '../../cni/runtime/runtime.js';
import { startCniDaemon, type CniDaemon } from '../../cni/daemon/server.js';
import type { AgentConfig } from './config.js';
import { type BackoffPolicy, kubeletBackoff } from './containers/backoff.js';
import { type Cgroups, HostCgroups } from './containers/cgroups.js';
import type { ObjectSource } from './containers/env.js';
import { ImageCatalog } from './images/catalog.js';
import { NodeHeartbeat } from './node/node.js';
import { type Os, realOs } from './os.js';
import { PodManager } from './pods/manager.js';
import { firstHost } from '../../lib/net/ip.js';
import { type Clock, realClock } from '../../lib/time/clock.js';
import { addUnreachable, removeUnreachable, unreachableCidrs } from './sandbox/routes.js';
import { Sandboxes } from './sandbox/sandbox.js';
import { realSysctls } from './sandbox/sysctls.js';
import { buildAgentServer } from './server/server.js';
import { agentUsageSource } from './server/resource-metrics.js';

/** Replaceable parts (tests). */
export interface AgentSeams {
  os?: Os;
  cgroups?: Cgroups;
  clock?: Clock;
  backoff?: BackoffPolicy;
  log?: (msg: string, err?: unknown) => void;
}

/** A running agent. */
export interface Agent {
  url: string;
  port: number;
  pods: PodManager;
  catalog: ImageCatalog;
  cgroups: Cgroups;
  client: KubeClient;
  /** stops the agent; `stopPods` terminates every pod first, `removeHostRoutes` drops the unreachable routes */
  close(o?: { stopPods?: boolean; removeHostRoutes?: boolean }): Promise<void>;
}

function objectSource(client: KubeClient): ObjectSource {
  const get = (plural: string) => async (namespace: string, name: string) => {
    try {
      return await client.get({ apiVersion: 'v1', plural, namespaced: true }, name, { namespace });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
  return { secret: get('secrets'), configMap: get('configmaps') };
}

/** Starts the agent. */
export async function startAgent(cfg: AgentConfig, seams: AgentSeams = {}): Promise<Agent> {
  const os = seams.os ?? realOs;
  const log = seams.log ?? ((m: string, e?: unknown) => process.stderr.write(`node-agent: ${m}${e ? `: ${(e as Error).message ?? e}` : ''}\n`));
  mkdirSync(join(cfg.home, 'pods'), { recursive: true });
  const kc = loadKubeconfig(typeof cfg.kubeconfig === 'string' ? { path: cfg.kubeconfig } : { object: cfg.kubeconfig });
  const client = new KubeClient(kc, { userAgent: `shoal-node-agent/${cfg.nodeName}` });
  let daemon: CniDaemon | undefined;
  if (cfg.cniSocket) {
    mkdirSync(join(cfg.cniSocket, '..'), { recursive: true });
    daemon = await startCniDaemon(cfg.cniSocket);
  }
  const cgroups = seams.cgroups ?? new HostCgroups('/sys/fs/cgroup', cfg.cgroupName);
  const catalog = new ImageCatalog(cfg.home);
  let hostResolv = '';
  try {
    hostResolv = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    /* none */
  }
  const sandboxes = new Sandboxes({
    os, home: cfg.home, netnsPrefix: cfg.netnsPrefix, cniConfDir: cfg.cniConfDir,
    cniRuntime: new CniRuntime({ binDirs: cfg.cniBinDirs, cacheDir: join(cfg.home, 'cni') }),
    dns: { clusterDns: cfg.clusterDns, clusterDomain: cfg.clusterDomain, hostResolvConf: hostResolv },
  });
  const routes = cfg.hostRoutes ? unreachableCidrs(cfg.serviceCidr, cfg.clusterCidr, cfg.podCidr) : [];
  // held per node and netns prefix: side-by-side clusters (and tests) often share a node name (the hostname)
  const routeHolder = `${cfg.nodeName}.${cfg.netnsPrefix}`;
  let routesDone: Promise<void> | undefined;
  // `shoal up` sets the host's forwarding once its guard is in place (sandbox/sysctls.ts); an agent run on
  // its own says plainly why pods would not reach Services
  const checkHost = () => {
    if (realSysctls.read('net.ipv4.ip_forward') !== '1') log('host: net.ipv4.ip_forward is 0: pods cannot reach ClusterIPs (pod → Service → pod is routed back out of the bridge); `shoal up` sets it, or run sysctl -w net.ipv4.ip_forward=1');
  };
  const objects = objectSource(client);
  const pods = new PodManager({
    client, nodeName: cfg.nodeName,
    deps: {
      os, home: cfg.home, sandboxes, cgroups, catalog, objects,
      volumes: {
        caPem: kc.caPem ?? '',
        token: async (ns, sa, audience, exp) => {
          try {
            const r = await client.request<any>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
              body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: audience ? [audience] : [], expirationSeconds: exp ?? 3600 } },
            });
            return String(r?.status?.token ?? '');
          } catch {
            return '';
          }
        },
      },
      node: { hostIP: cfg.nodeIP, cpu: cpus().length, memory: totalmem(), kubernetesServiceIP: firstHost(cfg.serviceCidr) },
      backoff: seams.backoff ?? kubeletBackoff,
      clock: seams.clock ?? realClock,
      beforeFirstSandbox: () => (routesDone ??= addUnreachable(os, routes, routeHolder).catch((e) => log('host routes', e)).finally(checkHost)),
      log,
    },
  });
  let server: FastifyInstance | undefined;
  let heartbeat: NodeHeartbeat | undefined;
  try {
    server = buildAgentServer(pods, os, agentUsageSource(pods, cgroups, cfg.nodeName));
    await server.listen({ host: cfg.bindAddress, port: cfg.port });
    const port = (server.server.address() as { port: number }).port;
    // the Node advertises the port actually bound (--port 0 picks a free one), so logs and exec reach it
    heartbeat = new NodeHeartbeat(client, { name: cfg.nodeName, hostIP: cfg.nodeIP, port, podCIDR: cfg.podCidr }, log, undefined, seams.clock);
    await heartbeat.register();
    // pods left by a previous agent: their routes must be there before they are adopted
    if (sandboxes.known().length) await (routesDone ??= addUnreachable(os, routes, routeHolder).catch((e) => log('host routes', e)));
    await pods.start();
    return {
      url: `http://${cfg.bindAddress === '0.0.0.0' ? '127.0.0.1' : cfg.bindAddress}:${port}`, port, pods, catalog, cgroups, client,
      async close(o = {}) {
        heartbeat?.stop();
        await pods.close(!!o.stopPods);
        await server?.close();
        if (o.removeHostRoutes) await removeUnreachable(os, routes, routeHolder);
        await daemon?.close();
        await client.close().catch(() => undefined); // undici throws when already destroyed
      },
    };
  } catch (e) {
    heartbeat?.stop();
    await pods.close(false).catch(() => undefined);
    await server?.close().catch(() => undefined);
    await daemon?.close().catch(() => undefined);
    await client.close().catch(() => undefined);
    throw e;
  }
}
