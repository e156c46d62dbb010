// Test harness: an API server on a temporary SQLite store (or a given store), driven in-process with
// fastify's inject(), with token authentication on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildServer, type ApiServer } from '../../control-plane/apiserver/server.js';
import { openStore } from '../../control-plane/store/open.js';
import type { Store } from '../../control-plane/store/types.js';

export const TOKEN = 'test-admin-token-0123456789';

export interface Harness {
  server: ApiServer;
  store: Store;
  /** send a request; JSON bodies are encoded, the response JSON decoded */
  req(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** Start a server; `makeStore` defaults to a fresh SQLite file. */
export async function harness(makeStore?: () => Promise<Store> | Store): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'shoalt-api-'));
  const store = makeStore ? await makeStore() : await openStore(join(dir, 'state.db'));
  const server = buildServer({
    store,
    tokens: new Map([[TOKEN, { name: 'admin', uid: 'admin-uid', groups: ['system:masters'] }]]),
    processMetrics: false,
    bookmarkIntervalMs: 200,
    watchCacheSize: 20,
  });
  await server.bootstrap();
  return {
    server,
    store,
    async req(method, path, body, headers = {}) {
      const h: Record<string, string> = { authorization: `Bearer ${TOKEN}`, ...headers };
      let payload: string | Buffer | undefined;
      if (body !== undefined) {
        payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
      const res = await server.app.inject({ method: method as any, url: path, headers: h, ...(payload !== undefined ? { payload } : {}) });
      let parsed: any;
      try {
        parsed = JSON.parse(res.body);
      } catch {
        parsed = undefined;
      }
      return { status: res.statusCode, body: parsed, text: res.body, headers: res.headers };
    },
    async close() {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A small valid Pod manifest. */
export function pod(name: string, labels: Record<string, string> = { app: 'web' }, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { containers: [{ name: 'app', image: 'shoal/hello:1', ports: [{ containerPort: 8080 }] }], ...extra },
  };
}
