// A real API server (HTTPS on 127.0.0.1, SQLite, ServiceAccount token authentication) and an in-process
// mesh control against it (gRPC and debug on 127.0.0.1 port 0 by default), for the mesh-control tests and
// bench/mesh. ServiceAccounts are created with their uid so `tokenFor()` mints tokens the TokenReview
// accepts. `close()` removes the temp dir; register it with t.teardown.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { buildServer, type ApiServer } from '../../control-plane/apiserver/server.js';
import { kubeconfigYaml } from '../../control-plane/apiserver/kubeconfig.js';
import { ensurePki, readTokenFile } from '../../control-plane/apiserver/pki.js';
import { openStore } from '../../control-plane/store/open.js';
import { ensureServiceAccountKey, serviceAccountToken } from '../../control-plane/controllers/serviceaccount/token.js';
import { KubeClient, isAlreadyExists } from '../../api/client/index.js';
import type { KubeObject } from '../../api/meta.js';
import { startMeshControl, type MeshControl } from '../../control-plane/mesh/control.js';
import type { MeshConfig } from '../../control-plane/mesh/flags.js';

/** The API side of a mesh-control test. */
export interface MeshApi {
  home: string;
  url: string;
  kubeconfigPath: string;
  client: KubeClient;
  server: ApiServer;
  /** a token for ServiceAccount ns/name (created if missing) */
  tokenFor(ns: string, name: string): Promise<string>;
  /** a Pod object (status podIP set through /status) */
  pod(ns: string, name: string, o: { sa?: string; labels?: Record<string, string>; ip?: string; sidecar?: boolean }): Promise<KubeObject>;
  close(): Promise<void>;
}

export const R = {
  namespaces: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  serviceaccounts: { apiVersion: 'v1', plural: 'serviceaccounts', namespaced: true },
  pods: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  services: { apiVersion: 'v1', plural: 'services', namespaced: true },
  endpointslices: { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true },
  configmaps: { apiVersion: 'v1', plural: 'configmaps', namespaced: true },
  secrets: { apiVersion: 'v1', plural: 'secrets', namespaced: true },
  peerauthentications: { apiVersion: 'security.istio.io/v1', plural: 'peerauthentications', namespaced: true },
  authorizationpolicies: { apiVersion: 'security.istio.io/v1', plural: 'authorizationpolicies', namespaced: true },
};

/** Starts the API server; `prefix` names the temp dir. */
export async function startApi(prefix: string): Promise<MeshApi> {
  const home = mkdtempSync(join(tmpdir(), prefix));
  try {
    const pki = ensurePki(home);
    const sa = ensureServiceAccountKey(join(pki.dir, 'sa.key'));
    const store = await openStore(join(home, 'db.sqlite'));
    const server = buildServer({
      store, tls: { key: pki.serverKeyPem, cert: pki.serverCertPem }, tokens: readTokenFile(join(pki.dir, 'tokens.csv')),
      serviceAccountPublicKey: sa.publicKeyPem, logger: false, processMetrics: false, bookmarkIntervalMs: 1000,
    });
    await server.bootstrap();
    const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    const kubeconfigPath = join(home, 'kubeconfig.yaml');
    writeFileSync(kubeconfigPath, kubeconfigYaml({ home, server: url }));
    const client = new KubeClient({ server: url, caPem: pki.caCertPem, token: pki.adminToken });
    const ensureNs = async (ns: string) => client.create(R.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch((e) => { if (!isAlreadyExists(e)) throw e; });
    return {
      home, url, kubeconfigPath, client, server,
      async tokenFor(ns, name) {
        await ensureNs(ns);
        let obj: any;
        try {
          obj = await client.create(R.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns } }, { namespace: ns });
        } catch (e) {
          if (!isAlreadyExists(e)) throw e;
          obj = await client.get(R.serviceaccounts, name, { namespace: ns });
        }
        return serviceAccountToken(sa.privateKeyPem, { namespace: ns, name, uid: obj.metadata.uid });
      },
      async pod(ns, name, o) {
        await ensureNs(ns);
        const containers = [{ name: 'app', image: 'shoal/hello:1' }];
        const p: any = await client.create(R.pods, {
          apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels: o.labels ?? {} },
          spec: { serviceAccountName: o.sa ?? 'default', containers, ...(o.sidecar ? { initContainers: [{ name: 'istio-proxy', image: 'shoal/sidecar', restartPolicy: 'Always' }] } : {}) },
        } as KubeObject, { namespace: ns });
        if (!o.ip) return p;
        return client.updateStatus(R.pods, { ...p, status: { ...(p.status ?? {}), phase: 'Running', podIP: o.ip, podIPs: [{ ip: o.ip }] } }, { namespace: ns });
      },
      async close() {
        await client.close().catch(() => undefined);
        await server.close();
        await store.close();
        rmSync(home, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(home, { recursive: true, force: true });
    throw e;
  }
}

/** Mesh control settings for tests: loopback, port 0, fast debounce unless given. */
export function meshConfig(api: MeshApi, o: Partial<MeshConfig> = {}): MeshConfig {
  return {
    kubeconfig: api.kubeconfigPath, grpcPort: 0, debugPort: 0, bindAddress: '127.0.0.1', bindDebugAddress: '127.0.0.1',
    caDir: join(api.home, 'pki', 'mesh'), advertiseAddress: '127.0.0.1', maxCertTtlSec: 24 * 3600, debounceQuietMs: 100,
    debounceMaxMs: 1000, rootNamespace: 'istio-system', tokenAudiences: [], manageIstiodService: true, logLevel: 'silent', ...o,
  };
}

/** Starts mesh control in-process; log lines are kept in `logs`. */
export async function startMesh(api: MeshApi, o: Partial<MeshConfig> = {}, logs: string[] = []): Promise<MeshControl> {
  return startMeshControl(meshConfig(api, o), (level, msg, fields) => logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`));
}

/** gRPC channel credentials trusting the mesh root, with the bearer token on every call. */
export function meshCredentials(rootPem: string, token: string): grpc.ChannelCredentials {
  const callCreds = grpc.credentials.createFromMetadataGenerator((_p, cb) => {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    cb(null, md);
  });
  return grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(Buffer.from(rootPem)), callCreds);
}
