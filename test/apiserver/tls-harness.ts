// A real API server process-equivalent: HTTPS on 127.0.0.1 with the generated PKI and admin token, and
// a kubeconfig file on disk for clients nobody here wrote (kubectl, @kubernetes/client-node).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { startApiServer } from '../../control-plane/apiserver/run.js';
import { kubeconfigYaml } from '../../control-plane/apiserver/kubeconfig.js';
import { ensurePki } from '../../control-plane/apiserver/pki.js';
import type { ApiServer } from '../../control-plane/apiserver/server.js';

export interface TlsCluster {
  server: ApiServer;
  url: string;
  home: string;
  kubeconfig: string;
  /** the admin bearer token */
  token: string;
  /** run kubectl with this cluster's kubeconfig */
  kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export async function tlsCluster(store?: string): Promise<TlsCluster> {
  const home = mkdtempSync(join(tmpdir(), 'shoalt-tls-'));
  const { server, url } = await startApiServer({
    home, store: store ?? join(home, 'state.db'), bindAddress: '127.0.0.1', port: 0, advertiseAddress: '127.0.0.1', logLevel: 'silent',
  });
  const kubeconfig = join(home, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml({ home, server: url.replace('http://', 'https://') }));
  return {
    server, url, home, kubeconfig, token: ensurePki(home).adminToken,
    kubectl(args, input) {
      return new Promise((resolve) => {
        const child = execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000, env: { ...process.env, HOME: home, KUBECACHEDIR: join(home, 'kcache') } }, (err, stdout, stderr) => {
          resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr });
        });
        if (input !== undefined) child.stdin!.end(input);
      });
    },
    async close() {
      await server.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
