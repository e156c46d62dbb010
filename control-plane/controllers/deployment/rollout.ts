// `shoal rollout status|history|undo|pause|resume|restart` as functions over a KubeClient, with the
// semantics and messages of `kubectl rollout` for Deployments (kubectl's DeploymentStatusViewer,
// DeploymentHistoryViewer and DeploymentRollbacker). The CLI only parses flags and prints what these return.

import type { KubeClient } from '../../../api/client/index.js';
import type { KubeObject } from '../../../api/meta.js';
import { fromLabelSelector, toString as selectorString } from '../../../api/labels.js';
import { refs } from '../informers.js';
import { REVISION, revisionOf } from './deployment.js';
import { templatesEqual } from './rolling.js';

/** A rollout command failed; `message` is what kubectl prints after `error: `. */
export class RolloutError extends Error {
  override name = 'RolloutError';
}

const CHANGE_CAUSE = 'kubernetes.io/change-cause';

/** One step of `rollout status`: the line to print and whether the rollout is done. */
export function statusMessage(d: KubeObject): { message: string; done: boolean } {
  const name = d.metadata.name;
  const s = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) return { message: 'Waiting for deployment spec update to be observed...', done: false };
  const prog = (s.conditions ?? []).find((c: any) => c.type === 'Progressing');
  if (prog?.reason === 'ProgressDeadlineExceeded') throw new RolloutError(`deployment "${name}" exceeded its progress deadline`);
  const want = d.spec?.replicas ?? 1;
  const updated = s.updatedReplicas ?? 0;
  if (updated < want) return { message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...`, done: false };
  if ((s.replicas ?? 0) > updated) return { message: `Waiting for deployment "${name}" rollout to finish: ${(s.replicas ?? 0) - updated} old replicas are pending termination...`, done: false };
  if ((s.availableReplicas ?? 0) < updated) return { message: `Waiting for deployment "${name}" rollout to finish: ${s.availableReplicas ?? 0} of ${updated} updated replicas are available...`, done: false };
  return { message: `deployment "${name}" successfully rolled out`, done: true };
}

/** Wait for a Deployment's rollout, calling `onMessage` for each new line (kubectl prints each once). */
export async function rolloutStatus(
  client: KubeClient,
  namespace: string,
  name: string,
  o: { timeoutMs?: number; watch?: boolean; pollMs?: number; onMessage?: (line: string) => void; signal?: AbortSignal } = {},
): Promise<string> {
  const deadline = Date.now() + (o.timeoutMs ?? 10 * 60_000);
  let last = '';
  for (;;) {
    const d = await client.get(refs.deployments, name, { namespace });
    const { message, done } = statusMessage(d);
    if (message !== last) o.onMessage?.(message);
    last = message;
    if (done || o.watch === false) return message;
    if (Date.now() > deadline) throw new RolloutError('timed out waiting for the condition');
    if (o.signal?.aborted) throw new RolloutError('interrupted');
    await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
  }
}

/** The ReplicaSets a Deployment controls, by revision (kubectl's GetAllReplicaSets). */
export async function replicaSetsOf(client: KubeClient, d: KubeObject): Promise<KubeObject[]> {
  const sel = selectorString(fromLabelSelector(d.spec?.selector));
  const list = await client.list(refs.replicasets, { namespace: d.metadata.namespace, labelSelector: sel });
  return list.items.filter((rs) => rs.metadata.ownerReferences?.some((r) => r.controller && r.uid === d.metadata.uid)).sort((a, b) => revisionOf(a) - revisionOf(b));
}

/** One line of `rollout history`. */
export interface RevisionEntry {
  revision: number;
  changeCause: string;
  replicaSet: string;
  template: any;
}

/** Revisions of a Deployment, oldest first. */
export async function rolloutHistory(client: KubeClient, namespace: string, name: string): Promise<RevisionEntry[]> {
  const d = await client.get(refs.deployments, name, { namespace });
  return (await replicaSetsOf(client, d))
    .filter((rs) => revisionOf(rs) > 0)
    .map((rs) => ({ revision: revisionOf(rs), changeCause: rs.metadata.annotations?.[CHANGE_CAUSE] ?? '', replicaSet: rs.metadata.name!, template: stripHash(rs.spec?.template) }));
}

/** The history table as kubectl prints it. */
export function formatHistory(name: string, entries: RevisionEntry[]): string {
  const rows = [['REVISION', 'CHANGE-CAUSE'], ...entries.map((e) => [String(e.revision), e.changeCause || '<none>'])];
  const w = Math.max(...rows.map((r) => r[0]!.length)) + 2;
  return `deployment.apps/${name} \n${rows.map((r) => r[0]!.padEnd(w) + r[1]).join('\n')}\n`;
}

function stripHash(t: any): any {
  const c = structuredClone(t ?? {});
  if (c.metadata?.labels) delete c.metadata.labels['pod-template-hash'];
  return c;
}

/** Roll back to `toRevision` (0 = the one before the current). Returns kubectl's message. */
export async function rolloutUndo(client: KubeClient, namespace: string, name: string, toRevision = 0): Promise<string> {
  const d = await client.get(refs.deployments, name, { namespace });
  if (d.spec?.paused) throw new RolloutError(`you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/${name}' and try again`);
  const sets = (await replicaSetsOf(client, d)).filter((rs) => revisionOf(rs) > 0);
  if (!sets.length) throw new RolloutError(`no rollout history found for deployment "${name}"`);
  let target: KubeObject | undefined;
  if (toRevision === 0) {
    const revs = sets.map(revisionOf).sort((a, b) => b - a);
    if (revs.length < 2) throw new RolloutError(`no rollout history found for deployment "${name}"`);
    target = sets.find((rs) => revisionOf(rs) === revs[1]);
  } else target = sets.find((rs) => revisionOf(rs) === toRevision);
  if (!target) throw new RolloutError(`unable to find specified revision ${toRevision} in history`);
  if (templatesEqual(target.spec?.template, d.spec?.template)) return `deployment.apps/${name} skipped rollback (current template already matches revision ${revisionOf(target)})`;
  await client.patch(refs.deployments, name, [
    { op: 'replace', path: '/spec/template', value: stripHash(target.spec.template) },
  ], { namespace, type: 'json' });
  return `deployment.apps/${name} rolled back`;
}

/** Set spec.paused; kubectl's messages for each case. */
export async function rolloutPause(client: KubeClient, namespace: string, name: string, paused = true): Promise<string> {
  const d = await client.get(refs.deployments, name, { namespace });
  if (Boolean(d.spec?.paused) === paused) throw new RolloutError(`deployments.apps "${name}" is ${paused ? 'already paused' : 'not paused'}`);
  await client.patch(refs.deployments, name, { spec: { paused: paused ? true : null } }, { namespace, type: 'merge' });
  return `deployment.apps/${name} ${paused ? 'paused' : 'resumed'}`;
}

/** Resume a paused Deployment. */
export function rolloutResume(client: KubeClient, namespace: string, name: string): Promise<string> {
  return rolloutPause(client, namespace, name, false);
}

/** Restart: stamp the template with `kubectl.kubernetes.io/restartedAt`, which makes a new ReplicaSet. */
export async function rolloutRestart(client: KubeClient, namespace: string, name: string, now = new Date()): Promise<string> {
  const d = await client.get(refs.deployments, name, { namespace });
  if (d.spec?.paused) throw new RolloutError(`can't restart paused deployment (run rollout resume first)`);
  const at = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  await client.patch(refs.deployments, name, { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } } }, { namespace, type: 'strategic' });
  return `deployment.apps/${name} restarted`;
}

export { REVISION };
