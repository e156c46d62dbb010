import t from 'tap';
import { createPod, cs, isReady, rootSkip, startAgentEnv, waitPod } from './fixture.js';

t.test('one pod', { skip: rootSkip() }, async (t) => {
  const env = await startAgentEnv(t, 77);
  const t0 = Date.now();
  await createPod(env, 'web', { containers: [{ name: 'web', image: 'shoal/hello:1', ports: [{ containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }] });
  const p = await waitPod(env, 'web', isReady);
  t.comment(`ready in ${Date.now() - t0} ms`, JSON.stringify(p.status));
  const r = await fetch(`http://${p.status.podIP}:8080/`);
  t.match(await r.json(), { pod: 'web', ip: p.status.podIP, version: '1' });
  t.equal(cs(p).restartCount, 0);
});
