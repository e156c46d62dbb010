// An API server with the Service allocator plugged in, the controllers in-process, and a fake kubelet
// (an informer that marks pods Running/Ready with an IP, and completes graceful deletion) for the
// controller and scheduler integration tests. `close()` (registered with t.teardown) stops all of it and
// removes the temp dir.

import { startCluster, type TestCluster } from '../client/fixture.js';
import { Informer, keyOf, isNotFound, type KubeClient } from '../../api/client/index.js';
import type { KubeObject } from '../../api/meta.js';
import { buildControllers } from '../../control-plane/controllers/manager.js';
import { parseManagerFlags } from '../../control-plane/controllers/flags.js';

/** The one polling helper (test/wait.ts), re-exported for the tests that take the fixture. */
export { waitFor } from '../wait.js';

/** A fake kubelet: pods get phase Running, an IP and Ready (unless `notReady(pod)`; the fixture's uses the label `test/not-ready=true`); bound pods under graceful deletion are removed. */
export function fakeKubelet(client: KubeClient, o: { notReady?: (p: KubeObject) => boolean } = {}) {
  const inf = new Informer(client, { apiVersion: 'v1', plural: 'pods', namespaced: true }, { namespace: '' });
  let n = 2;
  const ips = new Map<string, string>();
  const handle = async (p: KubeObject) => {
    try {
      if (p.metadata.deletionTimestamp) {
        if (p.spec?.nodeName) await client.delete({ apiVersion: 'v1', plural: 'pods', namespaced: true }, p.metadata.name!, { namespace: p.metadata.namespace, gracePeriodSeconds: 0 });
        return;
      }
      const ready = !(o.notReady?.(p) ?? false);
      const cur = (p.status?.conditions ?? []).find((c: any) => c.type === 'Ready')?.status === (ready ? 'True' : 'False');
      if (p.status?.podIP && cur) return;
      const ip = ips.get(p.metadata.uid!) ?? `10.244.${Math.floor(n / 250)}.${(n++ % 250) + 2}`;
      ips.set(p.metadata.uid!, ip);
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const others = (p.status?.conditions ?? []).filter((c: any) => c.type !== 'Ready');
      await client.updateStatus({ apiVersion: 'v1', plural: 'pods', namespaced: true }, { ...structuredClone(p), status: { ...p.status, phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [...others, { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }] } });
    } catch (e) {
      if (!isNotFound(e)) void 0;
    }
  };
  inf.addEventHandler({ onAdd: (p) => void handle(p), onUpdate: (_o, p) => void handle(p) });
  inf.start();
  return { informer: inf, resync: () => { for (const p of inf.list()) void handle(p); }, stop: () => inf.stop(), key: keyOf };
}

/** A cluster with allocator and controllers. */
export interface ControllerCluster extends TestCluster {
  admin: KubeClient;
  stopControllers(): Promise<void>;
}

/** Start everything; `controllers` picks which (default all). */
export async function startControllerCluster(prefix: string, o: { controllers?: string; kubelet?: boolean; extraFlags?: string[] } = {}): Promise<ControllerCluster & { kubelet?: ReturnType<typeof fakeKubelet> }> {
  const c = await startCluster(prefix);
  // the API server allocates Service IPs itself (buildServer's default serviceAllocation)
  const admin = c.client();
  const { config } = parseManagerFlags(['--leader-elect=false', '--health-port', '0', '--api-server-url', c.url, '--controllers', o.controllers ?? '*', ...(o.extraFlags ?? [])], { SHOAL_HOME: c.home });
  const ctl = buildControllers(c.client(), config!, () => undefined);
  await ctl.start();
  const kubelet = o.kubelet === false ? undefined : fakeKubelet(c.client(), { notReady: (p) => p.metadata.labels?.['test/not-ready'] === 'true' });
  let stopped = false;
  const stopControllers = async () => {
    if (stopped) return;
    stopped = true;
    await ctl.stop();
  };
  const close = c.close;
  return {
    ...c, admin, kubelet, stopControllers,
    async close() {
      await stopControllers();
      await kubelet?.stop();
      await close();
    },
  };
}
