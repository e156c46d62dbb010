// Served versions and conversion through the API server (in-process, fastify inject, SQLite store):
// one stored object per name whatever version wrote it, reads and lists at every served version with
// apiVersion rewritten, watches converted per watcher, the same validation at every version, discovery
// with every version and the preferred one, OpenAPI v2/v3 and the CRD list.

import t from 'tap';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compareVersions, sortVersions } from '../../api/versions.js';
import { registry } from '../../api/registry.js';
import type { ObjectEvent } from '../../control-plane/apiserver/storage/objects.js';
import { harness, type Harness } from '../apiserver/harness.js';

const NS = '/apis/networking.istio.io';
const vs = (version: string, name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: `networking.istio.io/${version}`,
  kind: 'VirtualService',
  metadata: { name, labels: { app: 'reviews' } },
  spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v1' } }] }], ...extra },
});
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

t.test('version priority (Kubernetes kube-aware order)', async (t) => {
  t.same(sortVersions(['v1alpha3', 'v1', 'v1beta1']), ['v1', 'v1beta1', 'v1alpha3']);
  t.same(sortVersions(['v1alpha1', 'v2', 'v1beta2', 'v1', 'v1beta1', 'v1alpha2', 'foo']), ['v2', 'v1', 'v1beta2', 'v1beta1', 'v1alpha2', 'v1alpha1', 'foo']);
  t.ok(compareVersions('v1', 'v1alpha1') < 0);
  t.ok(compareVersions('v10beta1', 'v2beta1') < 0, 'higher major first within a level');
});

t.test('API server', async (t) => {
  let h: Harness;
  t.before(async () => {
    h = await harness();
  });
  t.teardown(async () => h?.close());

  t.test('a v1alpha3 VirtualService is stored as v1 and readable at every version', async (t) => {
    const c = await h.req('POST', `${NS}/v1alpha3/namespaces/default/virtualservices`, vs('v1alpha3', 'reviews'));
    t.equal(c.status, 201, c.text);
    t.equal(c.body.apiVersion, 'networking.istio.io/v1alpha3', 'the answer is at the version asked');
    const raw = await h.store.get('/registry/networking.istio.io/virtualservices/default/reviews');
    t.equal(JSON.parse(raw!.value).apiVersion, 'networking.istio.io/v1', 'stored at the storage version');
    for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
      const g = await h.req('GET', `${NS}/${v}/namespaces/default/virtualservices/reviews`);
      t.equal(g.status, 200);
      t.equal(g.body.apiVersion, `networking.istio.io/${v}`);
      t.equal(g.body.metadata.uid, c.body.metadata.uid, 'one object');
      t.same(g.body.spec, c.body.spec);
    }
  });

  t.test('a v1 object is readable as v1alpha3; lists at every version', async (t) => {
    const c = await h.req('POST', `${NS}/v1/namespaces/default/virtualservices`, vs('v1', 'ratings'));
    t.equal(c.status, 201, c.text);
    const g = await h.req('GET', `${NS}/v1alpha3/namespaces/default/virtualservices/ratings`);
    t.equal(g.body.apiVersion, 'networking.istio.io/v1alpha3');
    for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
      const l = await h.req('GET', `${NS}/${v}/namespaces/default/virtualservices`);
      t.equal(l.body.apiVersion, `networking.istio.io/${v}`);
      t.same(l.body.items.map((i: any) => [i.metadata.name, i.apiVersion]), [['ratings', `networking.istio.io/${v}`], ['reviews', `networking.istio.io/${v}`]], `raw list at ${v}`);
      const sel = await h.req('GET', `${NS}/${v}/virtualservices?labelSelector=app%3Dreviews`);
      t.same(sel.body.items.map((i: any) => i.apiVersion), [`networking.istio.io/${v}`, `networking.istio.io/${v}`], `decoded list at ${v}`);
      const tbl = await h.req('GET', `${NS}/${v}/namespaces/default/virtualservices`, undefined, { accept: TABLE });
      t.equal(tbl.body.kind, 'Table');
      t.same(tbl.body.columnDefinitions.map((c: any) => c.name), ['Name', 'Gateways', 'Hosts', 'Age']);
      t.same(tbl.body.rows.map((r: any) => r.cells.slice(0, 3)), [['ratings', '', '["reviews"]'], ['reviews', '', '["reviews"]']], `Table at ${v}`);
    }
  });

  t.test('update, patch and delete at another version keep one stored object', async (t) => {
    const cur = (await h.req('GET', `${NS}/v1beta1/namespaces/default/virtualservices/reviews`)).body;
    cur.spec.hosts = ['reviews', 'reviews.default.svc.cluster.local'];
    const u = await h.req('PUT', `${NS}/v1beta1/namespaces/default/virtualservices/reviews`, cur);
    t.equal(u.status, 200, u.text);
    t.equal(u.body.apiVersion, 'networking.istio.io/v1beta1');
    t.equal(u.body.metadata.generation, 2);
    const p = await h.req('PATCH', `${NS}/v1alpha3/namespaces/default/virtualservices/reviews`, { spec: { gateways: ['mesh'] } }, { 'content-type': 'application/merge-patch+json' });
    t.equal(p.status, 200, p.text);
    t.equal(p.body.apiVersion, 'networking.istio.io/v1alpha3');
    t.same(p.body.spec.hosts, ['reviews', 'reviews.default.svc.cluster.local']);
    const raw = JSON.parse((await h.store.get('/registry/networking.istio.io/virtualservices/default/reviews'))!.value);
    t.equal(raw.apiVersion, 'networking.istio.io/v1');
    t.same(raw.spec.gateways, ['mesh']);
    const wrong = await h.req('PUT', `${NS}/v1beta1/namespaces/default/virtualservices/reviews`, { ...p.body, apiVersion: 'networking.istio.io/v1' });
    t.equal(wrong.status, 400, 'the body must be at the version of the path');
    t.match(wrong.body.message, 'the API version in the data (networking.istio.io/v1) does not match the expected API version (networking.istio.io/v1beta1)');
    const d = await h.req('DELETE', `${NS}/v1alpha3/namespaces/default/virtualservices/ratings`);
    t.equal(d.status, 200);
    t.equal(d.body.apiVersion, 'networking.istio.io/v1alpha3');
    t.equal((await h.req('GET', `${NS}/v1/namespaces/default/virtualservices/ratings`)).status, 404);
  });

  t.test('validation is the same at every version, errors name the field', async (t) => {
    for (const v of ['v1', 'v1beta1', 'v1alpha3']) {
      const bad = vs(v, `bad-${v}`, { http: [{ route: [{ destination: { host: 'a' }, weight: 60 }, { destination: { host: 'b' }, weight: 30 }] }], tpc: [] });
      const r = await h.req('POST', `${NS}/${v}/namespaces/default/virtualservices`, bad);
      t.equal(r.status, 422, `${v}: ${r.text}`);
      t.same(r.body.details.causes.map((c: any) => c.field).sort(), ['spec.http[0].route', 'spec.tpc'], `${v}: unknown field and weights`);
    }
  });

  t.test('kinds stored at a version other than the preferred one', async (t) => {
    const tel = await h.req('POST', '/apis/telemetry.istio.io/v1/namespaces/default/telemetries', {
      apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name: 'mesh-default' }, spec: { tracing: [{ randomSamplingPercentage: 1 }] },
    });
    t.equal(tel.status, 201, tel.text);
    t.equal(JSON.parse((await h.store.get('/registry/telemetry.istio.io/telemetries/default/mesh-default'))!.value).apiVersion, 'telemetry.istio.io/v1alpha1', 'Telemetry is stored as v1alpha1, as Istio does');
    t.equal((await h.req('GET', '/apis/telemetry.istio.io/v1/namespaces/default/telemetries/mesh-default')).body.apiVersion, 'telemetry.istio.io/v1');
    const rg = await h.req('POST', '/apis/gateway.networking.k8s.io/v1/namespaces/default/referencegrants', {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'ReferenceGrant', metadata: { name: 'g' },
      spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'web' }], to: [{ group: '', kind: 'Service' }] },
    });
    t.equal(rg.status, 201, rg.text);
    t.equal(JSON.parse((await h.store.get('/registry/gateway.networking.k8s.io/referencegrants/default/g'))!.value).apiVersion, 'gateway.networking.k8s.io/v1beta1');
    t.equal((await h.req('GET', '/apis/gateway.networking.k8s.io/v1beta1/namespaces/default/referencegrants/g')).body.apiVersion, 'gateway.networking.k8s.io/v1beta1');
    t.equal((await h.req('GET', '/apis/gateway.networking.k8s.io/v1beta1/namespaces/default/grpcroutes')).status, 404, 'GRPCRoute is not served at v1beta1');
  });

  t.test('watches at different versions see the same events, each at its own version', async (t) => {
    const at = (v: string) => registry.get('networking.istio.io', v, 'virtualservices')!;
    const seen: Record<string, ObjectEvent[]> = { v1: [], v1alpha3: [], v1beta1: [] };
    const rev = Number((await h.req('GET', `${NS}/v1/virtualservices`)).body.metadata.resourceVersion);
    const watches = await Promise.all(Object.keys(seen).map((v) => h.server.objects.watch(at(v), 'default', rev, (ev) => seen[v]!.push(ev), (e) => t.fail(String(e)))));
    t.teardown(() => watches.forEach((w) => w.stop()));
    t.equal((await h.req('POST', `${NS}/v1beta1/namespaces/default/virtualservices`, vs('v1beta1', 'watched'))).status, 201);
    t.equal((await h.req('DELETE', `${NS}/v1/namespaces/default/virtualservices/watched`)).status, 200);
    const until = Date.now() + 5000;
    while (Object.values(seen).some((s) => s.length < 2) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const [v, evs] of Object.entries(seen)) {
      t.same(evs.map((e) => [e.type, e.object.metadata.name, e.object.apiVersion]), [['ADDED', 'watched', `networking.istio.io/${v}`], ['DELETED', 'watched', `networking.istio.io/${v}`]], `watch at ${v}`);
    }
  });

  t.test('HTTP watch streams at the version of the path (initial events and changes)', async (t) => {
    await h.server.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (h.server.app.server.address() as AddressInfo).port;
    const lines: any[] = [];
    const req = request({ host: '127.0.0.1', port, path: `${NS}/v1alpha3/namespaces/default/virtualservices?watch=true&timeoutSeconds=5`, headers: { authorization: 'Bearer test-admin-token-0123456789' } });
    const done = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          buf += d;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            lines.push(JSON.parse(buf.slice(0, i)));
            buf = buf.slice(i + 1);
          }
          if (lines.some((l) => l.type === 'MODIFIED')) req.destroy();
        });
        res.on('close', resolve);
      });
      req.on('error', (e: any) => (e.code === 'ECONNRESET' ? resolve() : reject(e)));
    });
    req.end();
    const until = Date.now() + 3000;
    while (!lines.some((l) => l.object?.metadata?.name === 'reviews') && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    t.equal((await h.req('PATCH', `${NS}/v1/namespaces/default/virtualservices/reviews`, { spec: { gateways: ['mesh', 'edge'] } }, { 'content-type': 'application/merge-patch+json' })).status, 200);
    await done;
    t.same(lines.map((l) => [l.type, l.object.metadata.name, l.object.apiVersion]), [['ADDED', 'reviews', 'networking.istio.io/v1alpha3'], ['MODIFIED', 'reviews', 'networking.istio.io/v1alpha3']]);
    t.same(lines[1].object.spec.gateways, ['mesh', 'edge']);
  });

  t.test('discovery lists every version with the preferred one', async (t) => {
    const groups = (await h.req('GET', '/apis')).body.groups;
    const byName = Object.fromEntries(groups.map((g: any) => [g.name, g]));
    t.same(byName['networking.istio.io'].versions.map((v: any) => v.groupVersion), ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3']);
    t.same(byName['networking.istio.io'].preferredVersion, { groupVersion: 'networking.istio.io/v1', version: 'v1' });
    t.same(byName['security.istio.io'].versions.map((v: any) => v.version), ['v1', 'v1beta1']);
    t.same(byName['telemetry.istio.io'].versions.map((v: any) => v.version), ['v1', 'v1alpha1']);
    t.same(byName['gateway.networking.k8s.io'].versions.map((v: any) => v.version), ['v1', 'v1beta1', 'v1alpha2']);
    t.same(byName['apiextensions.k8s.io'].versions.map((v: any) => v.version), ['v1']);
    const g = (await h.req('GET', '/apis/networking.istio.io')).body;
    t.equal(g.kind, 'APIGroup');
    t.equal(g.preferredVersion.version, 'v1');
    const v3 = (await h.req('GET', `${NS}/v1alpha3`)).body;
    t.equal(v3.groupVersion, 'networking.istio.io/v1alpha3');
    t.same(v3.resources.filter((r: any) => !r.name.includes('/')).map((r: any) => r.name), ['virtualservices', 'destinationrules', 'gateways', 'serviceentries', 'sidecars', 'workloadentries']);
    const gw1a2 = (await h.req('GET', '/apis/gateway.networking.k8s.io/v1alpha2')).body;
    t.same(gw1a2.resources.filter((r: any) => !r.name.includes('/')).map((r: any) => r.kind), ['TCPRoute', 'TLSRoute']);
    const gw1b1 = (await h.req('GET', '/apis/gateway.networking.k8s.io/v1beta1')).body;
    t.same(gw1b1.resources.filter((r: any) => !r.name.includes('/')).map((r: any) => r.kind), ['GatewayClass', 'Gateway', 'HTTPRoute', 'ReferenceGrant']);
    const ext = (await h.req('GET', '/apis/apiextensions.k8s.io/v1')).body;
    t.same(ext.resources.map((r: any) => [r.name, r.verbs]), [['customresourcedefinitions', ['get', 'list']]]);
  });

  t.test('aggregated discovery (apidiscovery.k8s.io/v2), as kubectl 1.32 asks for it', async (t) => {
    const KUBECTL_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
    const apis = await h.req('GET', '/apis', undefined, { accept: KUBECTL_ACCEPT });
    t.equal(apis.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    t.equal(apis.body.kind, 'APIGroupDiscoveryList');
    t.equal(apis.body.apiVersion, 'apidiscovery.k8s.io/v2');
    const istio = apis.body.items.find((g: any) => g.metadata.name === 'networking.istio.io');
    t.same(istio.versions.map((v: any) => [v.version, v.freshness]), [['v1', 'Current'], ['v1beta1', 'Current'], ['v1alpha3', 'Current']], 'preferred version first');
    const se = istio.versions[2].resources.find((r: any) => r.resource === 'serviceentries');
    t.same(se, {
      resource: 'serviceentries', responseKind: { group: 'networking.istio.io', version: 'v1alpha3', kind: 'ServiceEntry' }, scope: 'Namespaced', singularResource: 'serviceentry',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['se'], categories: ['istio-io', 'networking-istio-io'],
      subresources: [{ subresource: 'status', responseKind: { group: 'networking.istio.io', version: 'v1alpha3', kind: 'ServiceEntry' }, verbs: ['get', 'patch', 'update'] }],
    });
    const legacyGroups = (await h.req('GET', '/apis')).body.groups.map((g: any) => g.name);
    t.same(apis.body.items.map((g: any) => g.metadata.name), legacyGroups, 'the same groups, in the same order, as /apis');
    const deploy = apis.body.items.find((g: any) => g.metadata.name === 'apps').versions[0].resources.find((r: any) => r.resource === 'deployments');
    t.same(deploy.subresources.find((s: any) => s.subresource === 'scale').responseKind, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
    const core = await h.req('GET', '/api', undefined, { accept: KUBECTL_ACCEPT });
    t.equal(core.body.items.length, 1);
    t.same(core.body.items[0].metadata, { creationTimestamp: null }, 'the core group has no name');
    const pods = core.body.items[0].versions[0].resources.find((r: any) => r.resource === 'pods');
    t.same(pods.subresources.map((s: any) => s.subresource), ['status', 'binding', 'log', 'exec', 'attach', 'portforward', 'ephemeralcontainers']);
    t.equal(pods.scope, 'Namespaced');
    const beta = await h.req('GET', '/apis', undefined, { accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList' });
    t.equal(beta.body.apiVersion, 'apidiscovery.k8s.io/v2beta1');
    const plain = await h.req('GET', '/apis', undefined, { accept: 'application/json, */*' });
    t.equal(plain.body.kind, 'APIGroupList', 'legacy when not asked for');
  });

  t.test('OpenAPI v3: every served group-version, full schemas for the CRD kinds', async (t) => {
    const index = (await h.req('GET', '/openapi/v3')).body.paths;
    for (const gv of ['apis/networking.istio.io/v1', 'apis/networking.istio.io/v1beta1', 'apis/networking.istio.io/v1alpha3', 'apis/telemetry.istio.io/v1alpha1', 'apis/gateway.networking.k8s.io/v1alpha2'])
      t.ok(index[gv], `${gv} in the index`);
    const doc = (await h.req('GET', '/openapi/v3/apis/networking.istio.io/v1alpha3')).body;
    const s = doc.components.schemas['io.istio.networking.v1alpha3.VirtualService'];
    t.same(s['x-kubernetes-group-version-kind'], [{ group: 'networking.istio.io', version: 'v1alpha3', kind: 'VirtualService' }]);
    const http = s.properties.spec.properties.http;
    t.equal(http.type, 'array');
    t.equal(http.description, 'An ordered list of route rules for HTTP traffic.');
    t.same(Object.keys(http.items.properties).slice(0, 4), ['corsPolicy', 'delegate', 'directResponse', 'fault']);
    t.same(http.items.properties.retries.properties.attempts, { description: 'Number of retries to be allowed for a given request.', type: 'integer', format: 'int64' });
    t.same(s.properties.spec.properties.exportTo.items, { type: 'string' });
    const patch = doc.paths['/apis/networking.istio.io/v1alpha3/namespaces/{namespace}/virtualservices/{name}'].patch;
    t.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation'), 'server-side field validation is advertised');
    const se = (await h.req('GET', '/openapi/v3/apis/networking.istio.io/v1')).body.components.schemas['io.istio.networking.v1.ServiceEntry'];
    t.same(se.properties.spec.properties.resolution.enum, ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN', 'DYNAMIC_DNS']);
    t.same(se.properties.spec.required, ['hosts']);
  });

  t.test('OpenAPI v2: JSON and protobuf', async (t) => {
    const j = await h.req('GET', '/openapi/v2');
    t.equal(j.status, 200);
    t.equal(j.body.swagger, '2.0');
    const d = j.body.definitions['io.istio.networking.v1alpha3.ServiceEntry'];
    t.same(d['x-kubernetes-group-version-kind'], [{ group: 'networking.istio.io', version: 'v1alpha3', kind: 'ServiceEntry' }]);
    t.equal(d.properties.spec.properties.hosts.type, 'array');
    t.notOk(JSON.stringify(j.body.definitions).includes('anyOf'), 'no anyOf in the v2 dialect');
    t.notOk(j.body.definitions['io.k8s.api.core.v1.Pod'], 'built-in kinds are left to the server');
    t.ok(j.body.paths['/apis/networking.istio.io/v1beta1/namespaces/{namespace}/virtualservices/{name}'].patch.parameters.some((p: any) => p.name === 'fieldValidation'));
    const p = await h.server.app.inject({ method: 'GET', url: '/openapi/v2', headers: { authorization: 'Bearer test-admin-token-0123456789', accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
    t.equal(p.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    const buf = p.rawPayload;
    t.same([...buf.subarray(0, 5)], [0x0a, 0x03, 0x32, 0x2e, 0x30], 'field 1 (swagger) = "2.0"');
    t.ok(buf.includes(Buffer.from('io.istio.networking.v1alpha3.ServiceEntry')), 'definitions are encoded');
  });

  t.test('CustomResourceDefinitions: list, get, Table, read-only', async (t) => {
    const l = await h.req('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
    t.equal(l.status, 200);
    t.equal(l.body.kind, 'CustomResourceDefinitionList');
    const names = l.body.items.map((c: any) => c.metadata.name);
    for (const n of ['virtualservices.networking.istio.io', 'serviceentries.networking.istio.io', 'requestauthentications.security.istio.io', 'telemetries.telemetry.istio.io', 'httproutes.gateway.networking.k8s.io', 'tcproutes.gateway.networking.k8s.io', 'referencegrants.gateway.networking.k8s.io'])
      t.ok(names.includes(n), n);
    t.notOk(names.includes('pods'), 'built-in kinds are not CRDs');
    const g = (await h.req('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualservices.networking.istio.io')).body;
    t.same(g.spec.names, { plural: 'virtualservices', singular: 'virtualservice', kind: 'VirtualService', listKind: 'VirtualServiceList', shortNames: ['vs'], categories: ['istio-io', 'networking-istio-io'] });
    t.same(g.spec.versions.map((v: any) => [v.name, v.served, v.storage]), [['v1', true, true], ['v1beta1', true, false], ['v1alpha3', true, false]]);
    t.same(g.status.storedVersions, ['v1']);
    t.same(g.spec.versions[0].schema.openAPIV3Schema.properties.metadata, { type: 'object' });
    t.equal(g.spec.versions[2].schema.openAPIV3Schema.properties.spec.properties.http.items.properties.timeout.type, 'string');
    t.same(g.spec.versions[0].subresources, { status: {} });
    const tel = (await h.req('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/telemetries.telemetry.istio.io')).body;
    t.same(tel.spec.versions.map((v: any) => [v.name, v.storage]), [['v1', false], ['v1alpha1', true]]);
    t.same(tel.status.storedVersions, ['v1alpha1']);
    const gc = (await h.req('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gatewayclasses.gateway.networking.k8s.io')).body;
    t.equal(gc.spec.scope, 'Cluster');
    const nf = await h.req('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/workloadgroups.networking.istio.io');
    t.equal(nf.status, 404);
    t.equal(nf.body.message, 'customresourcedefinitions.apiextensions.k8s.io "workloadgroups.networking.istio.io" not found');
    const tbl = await h.req('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', undefined, { accept: TABLE });
    t.same(tbl.body.columnDefinitions.map((c: any) => c.name), ['Name', 'Created At']);
    t.equal(tbl.body.rows.length, l.body.items.length);
    const post = await h.req('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', g);
    t.equal(post.status, 405);
    const del = await h.req('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualservices.networking.istio.io');
    t.equal(del.status, 405);
    const noAuth = await h.server.app.inject({ method: 'GET', url: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions' });
    t.equal(noAuth.statusCode, 401, 'authenticated like every other path');
  });
});
