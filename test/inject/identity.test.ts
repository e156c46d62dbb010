// Which user a container runs as (node/agent/containers/identity.ts): container over pod, GID 0 for a bare
// UID, fsGroup + supplementalGroups, runAsNonRoot refusals, and the setpriv prefix.
import t from 'tap';
import { identityPrefix, processIdentity } from '../../node/agent/containers/identity.js';
import type { Pod } from '../../node/agent/pods/types.js';

const pod = (sc?: Record<string, any>): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [], ...(sc ? { securityContext: sc } : {}) } });

t.test('identity', async (t) => {
  const rows: { name: string; pod?: any; c?: any; want: string[] }[] = [
    { name: 'nothing set: root, no prefix', want: [] },
    { name: 'pod runAsUser only: GID 0', pod: { runAsUser: 1000 }, want: ['setpriv', '--reuid=1000', '--regid=0', '--clear-groups', '--'] },
    { name: 'pod user and group', pod: { runAsUser: 1000, runAsGroup: 3000 }, want: ['setpriv', '--reuid=1000', '--regid=3000', '--clear-groups', '--'] },
    { name: 'container overrides pod', pod: { runAsUser: 1000, runAsGroup: 3000 }, c: { runAsUser: 1337, runAsGroup: 1337 }, want: ['setpriv', '--reuid=1337', '--regid=1337', '--clear-groups', '--'] },
    { name: 'container user, pod group', pod: { runAsGroup: 3000 }, c: { runAsUser: 5 }, want: ['setpriv', '--reuid=5', '--regid=3000', '--clear-groups', '--'] },
    { name: 'fsGroup and supplementalGroups', pod: { runAsUser: 1, fsGroup: 2000, supplementalGroups: [4000, 2000] }, want: ['setpriv', '--reuid=1', '--regid=0', '--groups=2000,4000', '--'] },
    { name: 'group only', pod: { runAsGroup: 7 }, want: ['setpriv', '--regid=7', '--clear-groups', '--'] },
    { name: 'runAsNonRoot with a UID', pod: { runAsNonRoot: true, runAsUser: 1000 }, want: ['setpriv', '--reuid=1000', '--regid=0', '--clear-groups', '--'] },
  ];
  for (const r of rows) t.same(identityPrefix(processIdentity(pod(r.pod), { name: 'c', ...(r.c ? { securityContext: r.c } : {}) })), r.want, r.name);
  t.throws(() => processIdentity(pod({ runAsNonRoot: true }), { name: 'c' }), { message: 'container has runAsNonRoot and image will run as root (pod: "p_ns(u1)", container: c)' });
  t.throws(() => processIdentity(pod(), { name: 'c', securityContext: { runAsNonRoot: true, runAsUser: 0 } }), { message: 'container\'s runAsUser breaks non-root policy (pod: "p_ns(u1)", container: c)' });
  t.doesNotThrow(() => processIdentity(pod({ runAsNonRoot: true }), { name: 'c', securityContext: { runAsNonRoot: false } }), 'container runAsNonRoot=false wins');
});
