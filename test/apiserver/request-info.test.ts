// Table-driven tests of REST path parsing (RequestInfo), the same cases kube-apiserver's
// RequestInfoFactory documents.
import t from 'tap';
import { parseRequestInfo } from '../../control-plane/apiserver/request/info.js';

const rows: { method: string; path: string; query?: Record<string, string>; want: Record<string, unknown> | null }[] = [
  { method: 'GET', path: '/api', want: { isResourceRequest: false, kind: 'versions' } },
  { method: 'GET', path: '/apis', want: { isResourceRequest: false, kind: 'groups' } },
  { method: 'GET', path: '/apis/apps', want: { isResourceRequest: false, kind: 'group', group: 'apps' } },
  { method: 'GET', path: '/api/v1', want: { isResourceRequest: false, kind: 'resources', group: '', version: 'v1' } },
  { method: 'GET', path: '/apis/apps/v1', want: { isResourceRequest: false, kind: 'resources', group: 'apps', version: 'v1' } },
  { method: 'GET', path: '/api/v1/pods', want: { verb: 'list', resource: 'pods', namespace: '', name: '' } },
  { method: 'GET', path: '/api/v1/namespaces/default/pods', want: { verb: 'list', resource: 'pods', namespace: 'default' } },
  { method: 'GET', path: '/api/v1/namespaces/default/pods', query: { watch: 'true' }, want: { verb: 'watch', resource: 'pods' } },
  { method: 'GET', path: '/api/v1/watch/namespaces/default/pods', want: { verb: 'watch', resource: 'pods', namespace: 'default', legacyWatch: true } },
  { method: 'GET', path: '/api/v1/namespaces/default/pods/web-0', want: { verb: 'get', resource: 'pods', name: 'web-0' } },
  { method: 'PUT', path: '/api/v1/namespaces/default/pods/web-0/status', want: { verb: 'update', name: 'web-0', subresource: 'status' } },
  { method: 'POST', path: '/api/v1/namespaces/default/pods/web-0/binding', want: { verb: 'create', subresource: 'binding' } },
  { method: 'DELETE', path: '/api/v1/namespaces/default/pods', want: { verb: 'deletecollection' } },
  { method: 'DELETE', path: '/api/v1/namespaces/default/pods/x', want: { verb: 'delete', name: 'x' } },
  { method: 'PATCH', path: '/apis/apps/v1/namespaces/ns1/deployments/web/scale', want: { verb: 'patch', group: 'apps', resource: 'deployments', subresource: 'scale', namespace: 'ns1' } },
  { method: 'GET', path: '/api/v1/namespaces', want: { verb: 'list', resource: 'namespaces', namespace: '', name: '' } },
  { method: 'GET', path: '/api/v1/namespaces/kube-system', want: { verb: 'get', resource: 'namespaces', name: 'kube-system', namespace: '' } },
  { method: 'PUT', path: '/api/v1/namespaces/kube-system/finalize', want: { verb: 'update', resource: 'namespaces', name: 'kube-system', subresource: 'finalize' } },
  { method: 'GET', path: '/api/v1/namespaces/kube-system/status', want: { verb: 'get', resource: 'namespaces', name: 'kube-system', subresource: 'status' } },
  { method: 'GET', path: '/api/v1/nodes/n1', want: { verb: 'get', resource: 'nodes', name: 'n1', namespace: '' } },
  { method: 'GET', path: '/healthz', want: null },
];

for (const r of rows) {
  t.test(`${r.method} ${r.path}`, async (t) => {
    const got = parseRequestInfo(r.method, r.path, r.query ?? {});
    if (r.want === null) {
      t.equal(got, null);
      return;
    }
    t.ok(got);
    t.match(got, r.want);
  });
}
