// The agent's HTTP endpoint (:10250, plain HTTP on the bind address; the API server proxies to it):
//   GET /healthz                                        → ok
//   GET /pods                                           → PodList of the pods this agent runs
//   GET /metrics/resource, /stats/summary               → kubelet's resource metrics and summary (resource-metrics.ts)
//   GET /containerLogs/{ns}/{pod}/{container}?follow&previous&tailLines&limitBytes
//   GET|POST /exec/{ns}/{pod}/{container}?command=…&command=…[&input=1]  → runs, answers
//        {"exitCode", "stdout", "stderr"} (non-streaming; a POST body becomes stdin)
//   GET /exec/{ns}/{pod}/{container}?command=…&stdin&stdout&stderr with `Upgrade: websocket`
//        → streaming exec over the remotecommand channel protocol (exec-stream.ts), TTY with `tty=1`
//   GET /attach/{ns}/{pod}/{container}?stdout&stderr (WebSocket) → the container's output from now (attach.ts)
//   GET /portForward/{ns}/{pod}?port=N (WebSocket, portforward.k8s.io) → 127.0.0.1:N in the pod (port-forward.ts)
// Errors are Kubernetes Status objects, produced in one place (`fail`).

import { createReadStream, existsSync, readFileSync, statSync, watch } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { execInPod } from '../containers/runner.js';
import { attachExecStream } from './exec-stream.js';
import type { Os } from '../os.js';
import type { PodManager } from '../pods/manager.js';
import { podStatus } from '../pods/status.js';
import { resourceMetricsText, summaryOf, type UsageSource } from './resource-metrics.js';

/** The last `n` lines of a text. */
export function tailLines(text: string, n: number | undefined): string {
  if (n === undefined || n < 0) return text;
  if (n === 0) return '';
  const lines = text.split('\n');
  const endsWithNl = lines[lines.length - 1] === '';
  if (endsWithNl) lines.pop();
  return lines.slice(-n).join('\n') + (endsWithNl && lines.length ? '\n' : '');
}

class HttpError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string) {
    super(message);
  }
}

function fail(reply: FastifyReply, e: unknown) {
  const he = e instanceof HttpError ? e : new HttpError(500, 'InternalError', (e as Error).message);
  return reply.code(he.code).type('application/json').send({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: he.message, reason: he.reason, code: he.code });
}

/** Builds the server (not listening; `inject()` works for tests). */
export function buildAgentServer(pods: PodManager, os: Os, usage?: UsageSource): FastifyInstance {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  if (usage) app.get('/metrics/resource', async (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(resourceMetricsText(usage, Date.now())));
  if (usage) app.get('/stats/summary', async () => summaryOf(usage, Date.now()));

  const container = (ns: string, pod: string, name: string | undefined) => {
    const w = pods.find(ns, pod);
    if (!w) throw new HttpError(404, 'NotFound', `pods "${pod}" not found`);
    const all = [...w.app, ...w.init, ...w.ephemeral];
    const c = name ? all.find((x) => x.spec.name === name) : w.app.length === 1 ? w.app[0] : undefined;
    if (!c) throw new HttpError(name ? 404 : 400, name ? 'NotFound' : 'BadRequest', name ? `container ${name} is not valid for pod ${pod}` : `a container name must be specified for pod ${pod}, choose one of: [${w.app.map((x) => x.spec.name).join(' ')}]`);
    return { w, c };
  };

  app.get('/healthz', async () => 'ok');

  app.get('/pods', async () => ({
    apiVersion: 'v1', kind: 'PodList', metadata: {},
    items: [...pods.workers.values()].map((w) => ({ ...w.pod, status: podStatus(w.pod, w.snapshot(), new Date()) })),
  }));

  app.get<{ Params: { ns: string; pod: string; container: string }; Querystring: Record<string, string> }>('/containerLogs/:ns/:pod/:container', async (req, reply) => {
    try {
      const { c } = container(req.params.ns, req.params.pod, req.params.container);
      const q = req.query;
      const previous = q.previous === 'true' || q.previous === '1';
      const index = c.status.restartCount - (previous ? 1 : 0);
      const file = c.logFile(index);
      if (previous && (index < 0 || !existsSync(file))) throw new HttpError(400, 'BadRequest', `previous terminated container "${c.spec.name}" in pod "${req.params.pod}" not found`);
      if (!existsSync(file)) throw new HttpError(400, 'BadRequest', `container "${c.spec.name}" in pod "${req.params.pod}" is waiting to start: ${c.status.state.waiting?.reason ?? 'ContainerCreating'}`);
      const tail = q.tailLines !== undefined ? Number(q.tailLines) : undefined;
      if (tail !== undefined && !Number.isInteger(tail)) throw new HttpError(400, 'BadRequest', `tailLines: Invalid value: ${JSON.stringify(q.tailLines)}`);
      let text = tailLines(readFileSync(file, 'utf8'), tail);
      const limit = q.limitBytes !== undefined ? Number(q.limitBytes) : undefined;
      if (limit !== undefined && limit >= 0) text = text.slice(0, limit);
      const follow = (q.follow === 'true' || q.follow === '1') && !previous;
      reply.type('text/plain; charset=utf-8');
      if (!follow) return reply.send(text);
      return followFile(reply, file, text, () => c.status.restartCount !== index || !pods.find(req.params.ns, req.params.pod));
    } catch (e) {
      return fail(reply, e);
    }
  });

  const exec = async (req: { params: { ns: string; pod: string; container: string }; query: Record<string, string | string[]>; body?: unknown }, reply: FastifyReply) => {
    try {
      const { w, c } = container(req.params.ns, req.params.pod, req.params.container);
      const command = ([] as string[]).concat(req.query.command ?? []);
      if (!command.length) throw new HttpError(400, 'BadRequest', 'command: Required value');
      if (!w.sandbox || !c.proc) throw new HttpError(400, 'BadRequest', `container ${c.spec.name} is not running`);
      const input = typeof req.body === 'string' ? req.body : Buffer.isBuffer(req.body) ? req.body.toString('utf8') : undefined;
      const timeout = Number(req.query.timeoutSeconds ?? 60);
      const r = await execInPod(os, w.sandbox.holderPid, [...c.execPrefix, ...command], c.env, timeout * 1000, input, c.spec.workingDir);
      return reply.type('application/json').send({ exitCode: r.code, stdout: r.stdout, stderr: r.stderr });
    } catch (e) {
      return fail(reply, e);
    }
  };
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.get('/exec/:ns/:pod/:container', exec as any);
  app.post('/exec/:ns/:pod/:container', exec as any);
  const stopStreams = attachExecStream(app.server, {
    find(ns, pod, name) {
      const { w, c } = container(ns, pod, name);
      if (!w.sandbox || !c.proc) throw new HttpError(400, 'BadRequest', `container ${c.spec.name} is not running`);
      return { holderPid: w.sandbox.holderPid, env: c.env, workingDir: c.spec.workingDir, userPrefix: c.execPrefix };
    },
    findPod(ns, pod) {
      const w = pods.find(ns, pod);
      if (!w) throw new HttpError(404, 'NotFound', `pods "${pod}" not found`);
      if (!w.sandbox) throw new HttpError(400, 'BadRequest', `pod ${pod} has no running sandbox`);
      return { holderPid: w.sandbox.holderPid };
    },
    findAttach(ns, pod, name) {
      const { c } = container(ns, pod, name);
      if (!c.proc) throw new HttpError(400, 'BadRequest', `container ${c.spec.name} is not running`);
      const run = c.status.restartCount;
      const stdinPath = c.stdinPath();
      return { logFile: c.logFile(run), current: () => c.status.restartCount === run && !!c.proc && !!pods.find(ns, pod), ...(stdinPath ? { stdinPath } : {}) };
    },
  });
  app.addHook('preClose', async () => stopStreams());
  return app;
}

/** Streams a growing file until the client goes away or `ended()` says the container moved on. */
function followFile(reply: FastifyReply, file: string, initial: string, ended: () => boolean) {
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'transfer-encoding': 'chunked' });
  raw.write(initial);
  let pos = statSync(file).size;
  let reading = false;
  const pump = () => {
    if (reading) return;
    let size = 0;
    try {
      size = statSync(file).size;
    } catch {
      return;
    }
    if (size <= pos) return;
    reading = true;
    const s = createReadStream(file, { start: pos, end: size - 1 });
    s.on('data', (d) => raw.write(d));
    s.on('end', () => {
      pos = size;
      reading = false;
    });
    s.on('error', () => (reading = false));
  };
  const watcher = watch(file, () => pump());
  const timer = setInterval(() => {
    pump();
    if (ended()) done();
  }, 250);
  const done = () => {
    clearInterval(timer);
    watcher.close();
    if (!raw.writableEnded) raw.end();
  };
  raw.on('close', done);
  return reply;
}
