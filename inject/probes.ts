// Istio's rewrite of the app's probes (`sidecar.istio.io/rewriteAppHTTPProbers`): under STRICT mTLS the
// kubelet's plaintext httpGet/tcpSocket probe to the app port would be captured and refused, so the
// injector points each app container's probe at the sidecar's status port instead,
// `httpGet :15020/app-health/<container>/readyz|livez|startupz`, and hands the sidecar the original probes
// in the env `ISTIO_KUBE_APP_PROBERS` (path → {httpGet{path, port (named ports resolved), scheme, host,
// httpHeaders} | tcpSocket{port}, timeoutSeconds}); the sidecar (UID 1337, not captured) runs the real
// probe against the app and answers with its result. exec probes are left alone.
//
// On by default as in Istio (the sidecar serves /app-health on :15020: proxy/admin/app-health.ts);
// the annotation "false" opts a pod out.

import { MERGED_METRICS_PORT } from './capture.js';

/** The pod annotation that turns the rewrite on or off. */
export const REWRITE_ANNOTATION = 'sidecar.istio.io/rewriteAppHTTPProbers';
/** Whether probes are rewritten when the annotation is absent. */
export const REWRITE_BY_DEFAULT = true;

const KINDS = [['readinessProbe', 'readyz'], ['livenessProbe', 'livez'], ['startupProbe', 'startupz']] as const;

function resolvePort(port: unknown, c: any): number | undefined {
  if (typeof port === 'number') return port;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p: any) => p.name === port)?.containerPort;
}

/** Whether the pod's annotations ask for the rewrite. */
export function rewriteWanted(annotations: Record<string, string>): boolean {
  const v = annotations[REWRITE_ANNOTATION];
  return v === undefined ? REWRITE_BY_DEFAULT : v.toLowerCase() === 'true';
}

/**
 * Rewrites the probes of `containers` (copies, in place of the array's elements) and returns the
 * ISTIO_KUBE_APP_PROBERS map (empty when nothing was rewritten).
 */
export function rewriteProbes(containers: any[]): Record<string, unknown> {
  const probers: Record<string, unknown> = {};
  for (let i = 0; i < containers.length; i++) {
    const c = { ...containers[i] };
    for (const [field, suffix] of KINDS) {
      const p = c[field];
      if (!p || (!p.httpGet && !p.tcpSocket)) continue;
      const path = `/app-health/${c.name}/${suffix}`;
      const timeoutSeconds = p.timeoutSeconds ?? 1;
      if (p.httpGet) {
        const port = resolvePort(p.httpGet.port, c);
        if (port === undefined) continue; // a bad named port: validation reports it, the kubelet fails it
        probers[path] = {
          httpGet: { path: p.httpGet.path ?? '/', port, scheme: p.httpGet.scheme ?? 'HTTP', ...(p.httpGet.host ? { host: p.httpGet.host } : {}), ...(p.httpGet.httpHeaders ? { httpHeaders: p.httpGet.httpHeaders } : {}) },
          timeoutSeconds,
        };
      } else {
        const port = resolvePort(p.tcpSocket.port, c);
        if (port === undefined) continue;
        probers[path] = { tcpSocket: { port }, timeoutSeconds };
      }
      const { httpGet: _h, tcpSocket: _t, ...timing } = p;
      c[field] = { ...timing, httpGet: { path, port: MERGED_METRICS_PORT, scheme: 'HTTP' } };
    }
    containers[i] = c;
  }
  return probers;
}
