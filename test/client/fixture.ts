// A real API server for client and CLI tests: started in-process on 127.0.0.1 port 0 with a temp state
// dir and SQLite store, plus a kubeconfig file pointing at it. Everything is removed by `close()`, which
// tests register with t.teardown so it runs even when they fail.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer, type ApiServer } from '../../control-plane/apiserver/server.js';
import { kubeconfigYaml } from '../../control-plane/apiserver/kubeconfig.js';
import { ensurePki, readTokenFile } from '../../control-plane/apiserver/pki.js';
import { openStore } from '../../control-plane/store/open.js';
import { KubeClient } from '../../api/client/client.js';

/** A running server and how to reach it. */
export interface TestCluster {
  server: ApiServer;
  url: string;
  home: string;
  kubeconfigPath: string;
  caPem: string;
  token: string;
  client(): KubeClient;
  close(): Promise<void>;
}

/**
 * Start a server; `prefix` names the temp dir (e.g. 'shoalt-client-'). A small `watchCacheSize` makes a
 * resumed watch fall outside the server's watch cache, so compaction turns it into 410 Expired.
 */
export async function startCluster(prefix: string, o: { watchCacheSize?: number } = {}): Promise<TestCluster> {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const clients: KubeClient[] = [];
  try {
    // What startApiServer does, with logging off (it hands fastify a pino instance as `logger`, which
    // fastify 5 rejects; see the report) and a short bookmark interval so tests see bookmarks.
    const pki = ensurePki(home);
    const store = await openStore(join(home, 'db.sqlite'));
    const server = buildServer({
      store, tls: { key: pki.serverKeyPem, cert: pki.serverCertPem }, tokens: readTokenFile(join(pki.dir, 'tokens.csv')),
      logger: false, processMetrics: false, bookmarkIntervalMs: 1000,
      ...(o.watchCacheSize ? { watchCacheSize: o.watchCacheSize } : {}),
    });
    await server.bootstrap();
    const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const close = server.close;
    server.close = async () => {
      await close();
      await store.close();
    };
    const kubeconfigPath = join(home, 'kubeconfig.yaml');
    writeFileSync(kubeconfigPath, kubeconfigYaml({ home, server: url }));
    return {
      server, url, home, kubeconfigPath, caPem: pki.caCertPem, token: pki.adminToken,
      client() {
        const c = new KubeClient({ server: url, caPem: pki.caCertPem, token: pki.adminToken });
        clients.push(c);
        return c;
      },
      async close() {
        for (const c of clients) await c.close().catch(() => undefined);
        await server.close();
        rmSync(home, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(home, { recursive: true, force: true });
    throw e;
  }
}
