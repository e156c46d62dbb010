// A request's authorization attributes, as kube-apiserver's RequestInfoFactory + WithAuthorization see
// them: resource requests (under /api and /apis, past discovery) by verb, group, resource, subresource,
// namespace and name; everything else (discovery, /healthz, /version, /openapi, /metrics) as a
// non-resource path with the lower-cased HTTP method as verb. Two kube rules on top of the parse:
// a list/watch with `fieldSelector=metadata.name=X` is authorized for the name X, and the connect
// subresources (pods/exec, attach, portforward) need `create` even when opened with a WebSocket GET
// (AuthorizePodWebsocketUpgradeCreatePermission, on by default in 1.32).

import type { UserInfo } from '../admission/chain.js';
import { parseRequestInfo } from '../request/info.js';
import type { Attributes } from './rbac.js';

const CONNECT = new Set(['exec', 'attach', 'portforward', 'proxy']);

/** The attributes of one HTTP request made by `user`. */
export function requestAttributes(user: UserInfo, method: string, url: string, query: Record<string, unknown>): Attributes {
  const path = url.split('?')[0]!;
  const info = parseRequestInfo(method, path, query);
  if (!info || !info.isResourceRequest) return { user, verb: method === 'HEAD' ? 'get' : method.toLowerCase(), isResourceRequest: false, path };
  let { verb, name } = info;
  const { resource, subresource } = info;
  let namespace = info.namespace;
  // the Namespace object itself is authorized in its own namespace (kube sets both)
  if (resource === 'namespaces' && name) namespace = name;
  if ((verb === 'list' || verb === 'watch') && !name && typeof query.fieldSelector === 'string') {
    const m = /(?:^|,)metadata\.name==?([^,]+)(?:,|$)/.exec(query.fieldSelector);
    if (m) name = m[1]!;
  }
  if (resource === 'pods' && CONNECT.has(subresource)) verb = 'create';
  return { user, verb, isResourceRequest: true, apiGroup: info.group, apiVersion: info.version, namespace, resource, subresource, name };
}
