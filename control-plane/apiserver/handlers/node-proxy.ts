// Subresources served by the pod's node agent, proxied like kube-apiserver does: `pods/log` streams
// `GET /containerLogs/{ns}/{pod}/{container}` and `pods/exec` (non-interactive) calls `/exec/...` on the
// agent at the Node's InternalIP and kubelet port (status.daemonEndpoints.kubeletEndpoint.Port).
// The interactive (WebSocket) form of `pods/exec` lives in exec-stream.ts.

import type { Readable } from 'node:stream';
import { request } from 'undici';
import type { KubeObject } from '../../../api/meta.js';
import { ApiError, errors } from '../../../api/errors.js';

/** Where a node's agent listens. */
export function agentAddress(node: KubeObject): string {
  const addrs: { type: string; address: string }[] = node.status?.addresses ?? [];
  const ip = addrs.find((a) => a.type === 'InternalIP')?.address ?? addrs[0]?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!ip || !port) throw errors.badRequest(`node "${node.metadata.name}" does not publish its agent address (status.addresses, status.daemonEndpoints)`);
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The container a request names, defaulting to the only (or the default-container annotated) one. */
export function pickContainer(pod: KubeObject, requested: string | undefined): string {
  const names: string[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c: any) => c.name);
  if (requested) {
    if (!names.includes(requested))
      throw errors.badRequest(`container ${requested} is not valid for pod ${pod.metadata.name}`, [{ reason: 'FieldValueNotFound', field: 'container', message: `container ${requested} is not valid for pod ${pod.metadata.name}` }]);
    return requested;
  }
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && names.includes(annotated)) return annotated;
  const main: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
  if (main.length === 1) return main[0]!;
  throw errors.badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${main.join(' ')}]`);
}

const LOG_PARAMS = ['follow', 'previous', 'tailLines', 'timestamps', 'sinceSeconds', 'sinceTime', 'limitBytes'];

/** Open a container's log stream on its node agent (the caller sends it as the response body). */
export async function openLogs(pod: KubeObject, node: KubeObject, container: string, query: Record<string, string>): Promise<Readable> {
  const qs = new URLSearchParams();
  for (const k of LOG_PARAMS) if (query[k] !== undefined) qs.set(k, query[k]!);
  const url = `http://${agentAddress(node)}/containerLogs/${encodeURIComponent(pod.metadata.namespace!)}/${encodeURIComponent(pod.metadata.name!)}/${encodeURIComponent(container)}?${qs}`;
  let res;
  try {
    res = await request(url, { bodyTimeout: 0, headersTimeout: 10_000 });
  } catch (e) {
    throw new ApiError('InternalError', `Get "${url}": ${(e as Error).message}`);
  }
  if (res.statusCode !== 200) {
    const text = await res.body.text();
    throw new ApiError(res.statusCode === 404 ? 'NotFound' : 'BadRequest', text.trim() || `node agent answered ${res.statusCode}`);
  }
  return res.body;
}

/** The result of a command run in a container by its node agent. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Run a command in a container through its node agent and return its output once it ends. This is the
 * non-interactive form of `pods/exec` (no TTY, no streaming); `shoal exec` uses it.
 */
export async function execInContainer(pod: KubeObject, node: KubeObject, container: string, command: string[], stdin?: string): Promise<ExecResult> {
  if (!command.length) throw errors.badRequest('command: Required value: at least one command argument is needed', [{ reason: 'FieldValueRequired', field: 'command', message: 'Required value' }]);
  const qs = new URLSearchParams();
  for (const c of command) qs.append('command', c);
  const url = `http://${agentAddress(node)}/exec/${encodeURIComponent(pod.metadata.namespace!)}/${encodeURIComponent(pod.metadata.name!)}/${encodeURIComponent(container)}?${qs}`;
  let res;
  try {
    res = await request(url, { method: 'POST', body: stdin ?? '', headers: { 'content-type': 'application/octet-stream' }, headersTimeout: 120_000, bodyTimeout: 120_000 });
  } catch (e) {
    throw new ApiError('InternalError', `Post "${url}": ${(e as Error).message}`);
  }
  const text = await res.body.text();
  if (res.statusCode !== 200) {
    let msg = text.trim();
    try {
      msg = JSON.parse(text).message ?? msg;
    } catch {
      /* plain text */
    }
    throw new ApiError(res.statusCode === 404 ? 'NotFound' : 'BadRequest', msg || `node agent answered ${res.statusCode}`);
  }
  return JSON.parse(text) as ExecResult;
}
