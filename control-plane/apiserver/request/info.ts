// Turns a Kubernetes REST path and method into a RequestInfo, like kube-apiserver's RequestInfoFactory:
//   /api/v1/namespaces/default/pods/web-0/status  ->  {group:'', version:'v1', namespace:'default',
//   resource:'pods', name:'web-0', subresource:'status', verb:'update'}
// Pure: no registry lookups here (the handler checks that the resource exists).

/** What a resource request addresses and which verb it is. */
export interface RequestInfo {
  isResourceRequest: true;
  group: string;
  version: string;
  namespace: string; // '' when none
  resource: string;
  name: string; // '' for collections
  subresource: string; // '' when none
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
  /** path used the legacy /watch/ prefix */
  legacyWatch: boolean;
}

/** A discovery request: /api, /apis, /api/v1, /apis/{group}, /apis/{group}/{version}. */
export interface DiscoveryInfo {
  isResourceRequest: false;
  kind: 'versions' | 'groups' | 'group' | 'resources';
  group: string;
  version: string;
}

/** Parse `path` (without query) for `method`; null when it is not an API path at all. */
export function parseRequestInfo(method: string, path: string, query: Record<string, unknown>): RequestInfo | DiscoveryInfo | null {
  const parts = path.split('/').filter((s) => s !== '').map(safeDecode);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api') {
    if (parts.length === 1) return { isResourceRequest: false, kind: 'versions', group: '', version: '' };
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    if (parts.length === 1) return { isResourceRequest: false, kind: 'groups', group: '', version: '' };
    if (parts.length === 2) return { isResourceRequest: false, kind: 'group', group: parts[1]!, version: '' };
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return null;
  }
  if (rest.length === 0) return { isResourceRequest: false, kind: 'resources', group, version };

  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  // /namespaces/{ns}/{resource}... but /namespaces/{name} and /namespaces/{name}/{status|finalize} address the Namespace itself.
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    namespace = rest[1]!;
    rest = rest.slice(2);
  } else if (rest[0] === 'namespaces' && rest.length >= 2 && group === '') {
    // the Namespace object itself; keep the namespace field set like kube-apiserver does
    namespace = rest[1]!;
  }
  const resource = rest[0] ?? '';
  const name = rest[1] ?? '';
  const subresource = rest.slice(2).join('/');
  if (resource === 'namespaces' && namespace === name) namespace = '';

  const isWatch = legacyWatch || query.watch === 'true' || query.watch === '1' || query.watch === true;
  let verb: RequestInfo['verb'];
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = isWatch ? 'watch' : name ? 'get' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name ? 'delete' : 'deletecollection';
      break;
    default:
      verb = 'get';
  }
  return { isResourceRequest: true, group, version, namespace, resource, name, subresource, verb, legacyWatch };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
