// Subresources, each a small handler keyed by name: status, scale, binding, log, exec, attach,
// portforward, finalize. A
// subresource the resource type does not have, or a verb it does not take, is NotFound / 405 as in
// kube-apiserver.

import { errors } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { registry } from '../api-adapter.js';
import { streamExec } from '../handlers/exec-stream.js';
import { streamPortForward } from '../handlers/port-forward.js';
import { execInContainer, openLogs, pickContainer } from '../handlers/node-proxy.js';
import { applyPatch } from '../handlers/patch-adapter.js';
import { toScale } from '../handlers/write.js';
import { decodePatch } from '../request/body.js';
import { sendJson, sendObject, writeContext, type Call } from './call.js';
import { notFound } from './errors.js';
import { bodyObject } from './verbs.js';

type Handler = (c: Call, name: string) => Promise<unknown>;

const notAllowed = () => errors.methodNotAllowed('the server does not allow this method on the requested resource');

async function status(c: Call, name: string) {
  const { rt, info, core } = c;
  if (info.verb === 'get') return sendObject(c, await core.objects.mustGet(rt, info.namespace, name));
  if (info.verb === 'update') return sendObject(c, (await core.writer.update(rt, info.namespace, name, 'status', bodyObject(c), writeContext(c))).object);
  if (info.verb === 'patch') {
    const { type, patch } = decodePatch(c.req.headers['content-type'], c.req.body as Buffer);
    return sendObject(c, (await core.writer.patch(rt, info.namespace, name, 'status', type, patch, { ...writeContext(c), force: c.query.force === 'true' })).object);
  }
  throw notAllowed();
}

async function scale(c: Call, name: string) {
  const { rt, info, core } = c;
  if (info.verb === 'get') return sendJson(c, toScale(rt, await core.objects.mustGet(rt, info.namespace, name)));
  if (info.verb === 'update') return sendJson(c, await core.writer.updateScale(rt, info.namespace, name, bodyObject(c), writeContext(c)));
  if (info.verb === 'patch') {
    const { type, patch } = decodePatch(c.req.headers['content-type'], c.req.body as Buffer);
    if (type === 'apply') throw errors.unsupportedMediaType('application/apply-patch+yaml');
    const cur = toScale(rt, await core.objects.mustGet(rt, info.namespace, name));
    const scaleRt = { ...rt, kind: 'Scale', group: 'autoscaling' } as ResourceType;
    const { object } = applyPatch(type, cur, patch, { rt: scaleRt, manager: 'unused', force: false, now: new Date() });
    return sendJson(c, await core.writer.updateScale(rt, info.namespace, name, object, writeContext(c)));
  }
  throw notAllowed();
}

async function binding(c: Call, name: string) {
  await c.core.writer.bind(c.rt, c.info.namespace, name, bodyObject(c), writeContext(c));
  return sendJson(c, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }, 201);
}

/** The pod, its container and its Node (log and exec go to the node agent). */
async function podOnNode(c: Call, name: string): Promise<{ pod: KubeObject; node: KubeObject; container: string }> {
  const pod = await c.core.objects.mustGet(c.rt, c.info.namespace, name);
  const container = pickContainer(pod, c.query.container);
  if (!pod.spec?.nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`);
  const node = await c.core.objects.mustGet(registry.get('', 'v1', 'nodes')!, '', pod.spec.nodeName);
  return { pod, node, container };
}

async function log(c: Call, name: string) {
  const { pod, node, container } = await podOnNode(c, name);
  return c.reply.type('text/plain').send(await openLogs(pod, node, container, c.query));
}

async function exec(c: Call, name: string) {
  const { pod, node, container } = await podOnNode(c, name);
  if (c.req.headers.upgrade) return streamExec(c.req, c.reply, pod, node, container);
  const command = ([] as string[]).concat((c.req.query as Record<string, string | string[]>).command ?? []);
  const stdin = Buffer.isBuffer(c.req.body) ? c.req.body.toString('utf8') : undefined;
  return sendJson(c, await execInContainer(pod, node, container, command, stdin));
}

/** kubectl attach: upgrades only (WebSocket channels, as exec). */
async function attach(c: Call, name: string) {
  const { pod, node, container } = await podOnNode(c, name);
  if (!c.req.headers.upgrade) throw errors.badRequest('attach requires an upgrade to a streaming protocol (WebSocket or SPDY/3.1)');
  return streamExec(c.req, c.reply, pod, node, container, 'attach');
}

/** kubectl port-forward: SPDY/3.1, inside WebSocket or on its own (handlers/port-forward.ts). */
async function portForward(c: Call, name: string) {
  const pod = await c.core.objects.mustGet(c.rt, c.info.namespace, name);
  if (!pod.spec?.nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`);
  const node = await c.core.objects.mustGet(registry.get('', 'v1', 'nodes')!, '', pod.spec.nodeName);
  if (!c.req.headers.upgrade) throw errors.badRequest('portforward requires an upgrade to a streaming protocol (WebSocket or SPDY/3.1)');
  return streamPortForward(c.req, c.reply, pod, node);
}

/** pods/ephemeralcontainers (`kubectl debug`): get, update and patch of spec.ephemeralContainers only. */
async function ephemeralContainers(c: Call, name: string) {
  const { rt, info, core } = c;
  if (info.verb === 'get') return sendObject(c, await core.objects.mustGet(rt, info.namespace, name));
  if (info.verb === 'update') return sendObject(c, (await core.writer.update(rt, info.namespace, name, 'ephemeralcontainers', bodyObject(c), writeContext(c))).object);
  if (info.verb === 'patch') {
    const { type, patch } = decodePatch(c.req.headers['content-type'], c.req.body as Buffer);
    return sendObject(c, (await core.writer.patch(rt, info.namespace, name, 'ephemeralcontainers', type, patch, { ...writeContext(c), force: c.query.force === 'true' })).object);
  }
  throw notAllowed();
}

async function finalize(c: Call, name: string) {
  return sendObject(c, (await c.core.writer.update(c.rt, '', name, 'finalize', bodyObject(c), writeContext(c))).object);
}

/** Which subresource answers which resource types and verbs (verb checks inside status/scale answer 405). */
const SUBRESOURCES: { name: string; applies(rt: ResourceType, verb: string): boolean; handle: Handler }[] = [
  { name: 'status', applies: (rt) => !!rt.subresources.status, handle: status },
  { name: 'scale', applies: (rt) => !!rt.subresources.scale, handle: scale },
  { name: 'binding', applies: (rt, verb) => rt.kind === 'Pod' && verb === 'create', handle: binding },
  { name: 'log', applies: (rt, verb) => rt.kind === 'Pod' && verb === 'get', handle: log },
  { name: 'exec', applies: (rt, verb) => rt.kind === 'Pod' && (verb === 'create' || verb === 'get'), handle: exec },
  { name: 'attach', applies: (rt, verb) => rt.kind === 'Pod' && (verb === 'create' || verb === 'get'), handle: attach },
  { name: 'portforward', applies: (rt, verb) => rt.kind === 'Pod' && (verb === 'create' || verb === 'get'), handle: portForward },
  { name: 'ephemeralcontainers', applies: (rt) => rt.kind === 'Pod' && !rt.group, handle: ephemeralContainers },
  { name: 'finalize', applies: (rt, verb) => rt.kind === 'Namespace' && verb === 'update', handle: finalize },
];

/** Serves `/{resource}/{name}/{subresource}`. */
export async function serveSubresource(c: Call): Promise<unknown> {
  const { name, subresource } = c.info;
  if (!name) throw notFound();
  const s = SUBRESOURCES.find((x) => x.name === subresource && x.applies(c.rt, c.info.verb));
  if (!s) throw notFound();
  return s.handle(c, name);
}
