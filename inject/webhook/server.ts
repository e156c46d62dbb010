// The injection webhook's HTTPS server: POST /inject (AdmissionReview, review.ts), GET /ready. Bodies are
// capped at kube-apiserver's 3 MiB. The certificate and key are re-read on SIGHUP-free restarts only
// (cert rotation by restarting the pod, as with most webhooks).

import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { handleReview } from './review.js';

/** Largest AdmissionReview accepted. */
export const MAX_BODY = 3 * 1024 * 1024;

/** Options of the server. */
export interface WebhookOptions {
  cert: string;
  key: string;
  port: number;
  host?: string;
  log?: (line: string) => void;
}

/** A listening webhook. */
export interface Webhook {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Starts the webhook; resolves once it listens. */
export function startWebhook(o: WebhookOptions): Promise<Webhook> {
  const log = o.log ?? (() => undefined);
  const server = createServer({ cert: o.cert, key: o.key }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && (path === '/ready' || path === '/healthz')) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path !== '/inject' && path !== '/inject/') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no handler for ${path}\n`);
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'POST' }).end('method not allowed\n');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        res.writeHead(413, { 'content-type': 'text/plain' }).end('request body too large\n');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      let r;
      try {
        r = handleReview(Buffer.concat(chunks).toString('utf8'), req.headers['content-type'], log);
      } catch (e) {
        log(`internal error: ${(e as Error).stack}`);
        r = { status: 500, contentType: 'text/plain', body: `internal error: ${(e as Error).message}\n` };
      }
      res.writeHead(r.status, { 'content-type': r.contentType }).end(r.body);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve({
        server, port: (server.address() as AddressInfo).port,
        close: () => new Promise((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}
