// Where an outbound connection goes, from its original destination and the live snapshot:
//   VIP:port of a Service → an endpoint the balancer picks (its port by the Service port's name, else targetPort);
//   a pod IP the mesh knows → that pod, same port;
//   anything else → passthrough to the original destination.
// An endpoint with a sidecar (`mesh`) is reached through the tunnel (HBONE or TLS) with its identity checked.
import type { Snapshot } from '../config/store.js';
import type { MeshEndpoint, ServicePort } from '../config/types.js';
import { plainIp } from '../net/cidr.js';
import { clusterName } from '../route/compile.js';
import type { Balancer } from './balance.js';

/** The decision for one outbound connection. */
export type OutboundRoute =
  | { kind: 'mesh'; address: string; port: number; identity: string; service: string; endpoint: MeshEndpoint; cluster?: string }
  | { kind: 'plain'; address: string; port: number; service: string; endpoint: MeshEndpoint | null; cluster?: string }
  | { kind: 'passthrough'; address: string; port: number }
  | { kind: 'no-endpoints'; service: string };

/** The port of `ep` that serves Service port `sp`: EndpointSlice ports carry the Service port's name; a single unnamed port is that port. */
export function targetPort(sp: ServicePort, ep: MeshEndpoint): number {
  const named = sp.name ? ep.ports.find((p) => p.name === sp.name) : undefined;
  return named?.port ?? (ep.ports.length === 1 && !ep.ports[0].name ? ep.ports[0].port : sp.targetPort || sp.port);
}

/** Resolves the route for original destination `address:port`. */
export function resolveOutbound(snap: Snapshot, address: string, port: number, balancer: Balancer, sourceIp = ''): OutboundRoute {
  const ip = plainIp(address);
  const vip = snap.vips.get(`${ip}:${port}`);
  if (vip) {
    const svc = `${vip.service.namespace}/${vip.service.name}`;
    const eps = snap.endpoints.get(svc) ?? [];
    const cluster = clusterName(vip.port.port, '', vip.service.hostname.toLowerCase());
    const ep = balancer.pick(eps, { key: cluster, sourceIp, lb: snap.routes.clusters.get(cluster)?.lb });
    if (!ep) return { kind: 'no-endpoints', service: svc };
    const target = targetPort(vip.port, ep);
    return ep.mesh && ep.identity
      ? { kind: 'mesh', address: ep.address, port: target, identity: ep.identity, service: svc, endpoint: ep, cluster }
      : { kind: 'plain', address: ep.address, port: target, service: svc, endpoint: ep, cluster };
  }
  const pod = snap.pods.get(ip);
  if (pod) {
    return pod.mesh && pod.identity
      ? { kind: 'mesh', address: ip, port, identity: pod.identity, service: '', endpoint: pod }
      : { kind: 'plain', address: ip, port, service: '', endpoint: pod };
  }
  return { kind: 'passthrough', address: ip, port };
}
