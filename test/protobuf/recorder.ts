// A test-only HTTPS endpoint that stands in for the API server when kubectl creates objects: it answers
// /version, records every request with its raw body, decodes protobuf bodies with decodeKubeProtobuf and
// answers with the decoded object (201) or the ApiError's Status, so kubectl sees a normal round trip.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { ApiError } from '../../api/errors.js';
import { ensurePki } from '../../control-plane/apiserver/pki.js';
import { kubeconfigYaml } from '../../control-plane/apiserver/kubeconfig.js';
import { decodeKubeProtobuf } from '../../control-plane/apiserver/protobuf/index.js';

/** One request as kubectl sent it, with what the decoder made of the body. */
export interface Recorded {
  method: string;
  url: string;
  contentType: string;
  body: Buffer;
  decoded?: unknown;
  error?: ApiError;
}

/** The running recorder. */
export interface Recorder {
  requests: Recorded[];
  kubeconfig: string;
  kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

function send(res: import('node:http').ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Start the recorder on 127.0.0.1 with a fresh PKI under `home` (the caller removes `home`). */
export async function startRecorder(home: string): Promise<Recorder> {
  const pki = ensurePki(home);
  const requests: Recorded[] = [];
  const server: Server = createServer({ cert: pki.serverCertPem, key: pki.serverKeyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Recorded = { method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) };
      requests.push(rec);
      if (rec.method === 'GET' && rec.url.startsWith('/version')) {
        send(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.0-shoal-test', platform: 'linux/amd64' });
        return;
      }
      if (rec.method === 'POST' && rec.contentType.startsWith('application/vnd.kubernetes.protobuf')) {
        try {
          rec.decoded = decodeKubeProtobuf(rec.body);
          send(res, 201, rec.decoded);
        } catch (e) {
          rec.error = e as ApiError;
          send(res, rec.error.code ?? 500, rec.error instanceof ApiError ? rec.error.toStatus() : { message: String(e) });
        }
        return;
      }
      send(res, 404, new ApiError('NotFound', `the test recorder does not serve ${rec.method} ${rec.url}`).toStatus());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kubeconfig = join(home, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml({ home, server: `https://127.0.0.1:${port}` }));
  const env = { ...process.env, HOME: home, KUBECACHEDIR: join(home, 'kcache') };
  return {
    requests,
    kubeconfig,
    kubectl(args) {
      return new Promise((resolve) => {
        execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000, env, cwd: home }, (err, stdout, stderr) => {
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
