// The real kubectl (1.32) against the API server over HTTPS: every fixture under test/apiver/fixtures
// (each group at each served version, every field of each new kind, a file mixing kinds) applied
// unchanged with --dry-run=server and then for real; reads at every version; explain; the CRD list; a
// mixed file with an unserved kind gives Kubernetes' "no matches for kind" error for that object only.

import t from 'tap';
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registry } from '../../api/registry.js';
import { tlsCluster, type TlsCluster } from '../apiserver/tls-harness.js';

let haveKubectl = true;
try {
  execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
} catch {
  haveKubectl = false;
}

// compiled to dist/test/apiver; the fixtures stay in the source tree
const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'test', 'apiver', 'fixtures');
const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml')).sort();

/** apiVersion/kind/name of each document of a fixture file. */
function docsOf(file: string): { kind: string; name: string; apiVersion: string }[] {
  return readFileSync(join(FIXTURES, file), 'utf8').split(/^---$/m).map((d) => ({
    apiVersion: /^apiVersion: (\S+)/m.exec(d)?.[1] ?? '',
    kind: /^kind: (\S+)/m.exec(d)?.[1] ?? '',
    name: /^ {2}name: (\S+)/m.exec(d)?.[1] ?? '',
  })).filter((d) => d.kind);
}

const UNSERVED = new Set(['EnvoyFilter']);
const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

t.test('kubectl with Istio and Gateway API manifests', { skip: haveKubectl ? false : 'kubectl is not installed' }, async (t) => {
  let c: TlsCluster;
  t.before(async () => {
    c = await tlsCluster();
  });
  t.teardown(async () => c?.close());

  t.test('discovery: api-versions and api-resources list every served version', async (t) => {
    const v = await c.kubectl(['api-versions']);
    t.equal(v.code, 0, v.stderr);
    for (const gv of ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3', 'security.istio.io/v1beta1', 'telemetry.istio.io/v1alpha1', 'gateway.networking.k8s.io/v1beta1', 'gateway.networking.k8s.io/v1alpha2', 'apiextensions.k8s.io/v1'])
      t.match(v.stdout, new RegExp(`^${gv.replace(/\./g, '\\.')}$`, 'm'), gv);
    const r = await c.kubectl(['api-resources', '--api-group=networking.istio.io']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^serviceentries\s+se\s+networking\.istio\.io\/v1\s+true\s+ServiceEntry$/m, 'preferred version shown');
    t.match(r.stdout, /^sidecars\s+networking\.istio\.io\/v1\s+true\s+Sidecar$/m);
    const gw = await c.kubectl(['api-resources', '--api-group=gateway.networking.k8s.io']);
    t.match(gw.stdout, /^tcproutes\s+gateway\.networking\.k8s\.io\/v1alpha2\s+true\s+TCPRoute$/m);
    t.match(gw.stdout, /^referencegrants\s+refgrant\s+gateway\.networking\.k8s\.io\/v1\s+true\s+ReferenceGrant$/m);
  });

  for (const file of files) {
    t.test(`${file}: apply --dry-run=server, then apply`, async (t) => {
      const docs = docsOf(file);
      const served = docs.filter((d) => !UNSERVED.has(d.kind));
      const path = join(FIXTURES, file);
      const dry = await c.kubectl(['apply', '--dry-run=server', '-f', path]);
      const real = await c.kubectl(['apply', '-f', path]);
      for (const [r, suffix] of [[dry, ' (server dry run)'], [real, '']] as const) {
        const lines = r.stdout.trim().split('\n');
        t.equal(lines.length, served.length, `${file}${suffix}: one line per served document\n${r.stdout}${r.stderr}`);
        for (const d of served) t.ok(lines.some((l) => l.endsWith(`/${d.name} created${suffix}`)), `${d.kind} ${d.name} created${suffix}`);
        if (served.length === docs.length) t.equal(r.code, 0, r.stderr);
        else {
          t.equal(r.code, 1);
          for (const d of docs.filter((x) => UNSERVED.has(x.kind)))
            t.ok(r.stderr.includes(`error: resource mapping not found for name: "${d.name}" namespace: "" from "${path}": no matches for kind "${d.kind}" in version "${d.apiVersion}"\nensure CRDs are installed first`), r.stderr);
        }
      }
      // every stored object reads back at the version it was written at
      for (const d of served) {
        const rt = registry.byKind(d.apiVersion, d.kind)!;
        const resource = rt.group ? `${rt.plural}.${rt.version}.${rt.group}` : rt.plural;
        const g = await c.kubectl(['get', resource, d.name, '-o', 'jsonpath={.apiVersion} {.kind}']);
        t.equal(g.stdout, `${d.apiVersion} ${d.kind}`, `${d.kind} ${d.name} read at ${rt.version}`);
      }
    });
  }

  t.test('a v1alpha3 object reads as v1 and a v1 object as v1alpha3', async (t) => {
    let r = await c.kubectl(['get', 'virtualservices.v1alpha3.networking.istio.io', 'reviews', '-o', 'jsonpath={.apiVersion}']);
    t.equal(r.stdout, 'networking.istio.io/v1alpha3', r.stderr);
    r = await c.kubectl(['get', 'vs', 'reviews', '-o', 'jsonpath={.apiVersion}']);
    t.equal(r.stdout, 'networking.istio.io/v1', 'short name → preferred version');
    r = await c.kubectl(['get', 'virtualservices.v1alpha3.networking.istio.io', 'external-api', '-o', 'jsonpath={.apiVersion} {.spec.tls[0].match[0].sniHosts[0]}']);
    t.equal(r.stdout, 'networking.istio.io/v1alpha3 api.example.com');
    r = await c.kubectl(['get', 'virtualservices.v1alpha3.networking.istio.io']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^NAME\s+GATEWAYS\s+HOSTS\s+AGE$/m);
    t.match(r.stdout, /^bookinfo\s+\["bookinfo-gateway"\]\s+\["\*"\]\s+\d+s$/m);
    r = await c.kubectl(['get', 'serviceentries.v1beta1.networking.istio.io', 'external-svc-https']);
    t.match(r.stdout, /^NAME\s+HOSTS\s+LOCATION\s+RESOLUTION\s+AGE\nexternal-svc-https\s+\["api.dropboxapi.com","www.googleapis.com","api.facebook.com"\]\s+MESH_EXTERNAL\s+DNS\s+\d+s$/m);
    r = await c.kubectl(['get', 'httproutes.v1beta1.gateway.networking.k8s.io', 'bar-route', '-o', 'jsonpath={.apiVersion} {.spec.rules[1].backendRefs[0].weight}']);
    t.equal(r.stdout, 'gateway.networking.k8s.io/v1beta1 90');
    r = await c.kubectl(['get', 'telemetries.v1alpha1.telemetry.istio.io', 'all-fields', '-o', 'jsonpath={.spec.tracing[0].randomSamplingPercentage}']);
    t.equal(r.stdout, '10');
    r = await c.kubectl(['get', 'tcproutes,tlsroutes,grpcroutes,referencegrants']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /tcproute\.gateway\.networking\.k8s\.io\/postgres/);
    t.match(r.stdout, /grpcroute\.gateway\.networking\.k8s\.io\/grpc-all-fields\s+\["grpc\.example\.com"\]/);
  });

  t.test('validation errors name the field, at any version', async (t) => {
    const bad = `apiVersion: networking.istio.io/v1alpha3
kind: ServiceEntry
metadata: {name: bad}
spec:
  hosts: ["*"]
  addresses: [10.0.0.0/33]
  ports: [{number: 70000, name: http, protocol: HTTP}]
  resolution: DNS_ONLY
  exportTo: ["."]
  locatoin: MESH_EXTERNAL
`;
    const r = await c.kubectl(['apply', '-f', '-'], bad);
    t.equal(r.code, 1);
    t.match(r.stderr, /The ServiceEntry "bad" is invalid: /);
    for (const want of ['spec.hosts[0]: Invalid value: "*": hostname cannot be wildcard', 'spec.addresses[0]: Invalid value: "10.0.0.0/33"', 'spec.ports[0].number: Invalid value: 70000', 'spec.resolution: Unsupported value: "DNS_ONLY"', 'spec.locatoin: Invalid value: "locatoin": field not declared in schema'])
      t.ok(r.stderr.includes(want), want);
  });

  t.test('kubectl explain prints the schema', async (t) => {
    let r = await c.kubectl(['explain', 'virtualservice.spec.http']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /KIND:\s+VirtualService\nVERSION:\s+v1/);
    t.match(r.stdout, /FIELD: http <\[\]Object>/);
    t.match(r.stdout, /An ordered list of route rules for HTTP traffic\./);
    t.match(r.stdout, /^ {2}route\t<\[\]Object>$/m);
    t.match(r.stdout, /^ {2}timeout\t<string>$/m);
    r = await c.kubectl(['explain', 'serviceentries.spec.resolution', '--api-version=networking.istio.io/v1alpha3']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /VERSION:\s+v1alpha3/);
    t.match(r.stdout, /ENUM:\s*\n\s+NONE\n\s+STATIC\n\s+DNS\n\s+DNS_ROUND_ROBIN/);
    r = await c.kubectl(['explain', 'requestauthentication.spec.jwtRules']);
    t.match(r.stdout, /^ {2}outputPayloadToHeader\t<string>$/m);
    r = await c.kubectl(['explain', 'grpcroutes.spec.rules.matches.method']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^ {2}service\t<string>$/m);
  });

  t.test('the CRD list reads as on a cluster with Istio and the Gateway API installed', async (t) => {
    let r = await c.kubectl(['get', 'crd']);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^NAME\s+CREATED AT$/m);
    t.match(r.stdout, /^virtualservices\.networking\.istio\.io\s+\d{4}-\d\d-\d\dT/m);
    t.match(r.stdout, /^tlsroutes\.gateway\.networking\.k8s\.io\s/m);
    r = await c.kubectl(['get', 'crd', 'virtualservices.networking.istio.io', '-o', 'jsonpath={.spec.versions[*].name} {.status.storedVersions}']);
    t.equal(r.stdout, 'v1 v1beta1 v1alpha3 ["v1"]');
    r = await c.kubectl(['get', 'crd', 'workloadgroups.networking.istio.io']);
    t.equal(r.code, 1);
    t.match(r.stderr, /Error from server \(NotFound\): customresourcedefinitions\.apiextensions\.k8s\.io "workloadgroups\.networking\.istio\.io" not found/);
  });

  t.test('an unknown kind alone: the usual error, not "could not find the requested resource"', async (t) => {
    const r = await c.kubectl(['apply', '--dry-run=server', '-f', '-'], 'apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata: {name: wg}\nspec: {template: {}}\n');
    t.equal(r.code, 1);
    t.match(r.stderr, /no matches for kind "WorkloadGroup" in version "networking\.istio\.io\/v1"\nensure CRDs are installed first/);
    t.notMatch(r.stderr, /could not find the requested resource/);
    const other = await c.kubectl(['apply', '--dry-run=server', '-f', '-'], 'apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: {name: w}\nspec: {}\n');
    t.match(other.stderr, /no matches for kind "WasmPlugin" in version "extensions\.istio\.io\/v1alpha1"/, 'a group nobody serves');
  });

  t.test('shoal apply -f of the mixed file and shoal get of a category', async (t) => {
    const shoal = (args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('node', [CLI, '--kubeconfig', c.kubeconfig, ...args], { timeout: 30_000, env: { ...process.env, HOME: c.home } }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr }));
    });
    const path = join(FIXTURES, 'mixed.yaml');
    await c.kubectl(['delete', '-f', path, '--ignore-not-found']);
    const r = await shoal(['apply', '-f', path]);
    t.equal(r.code, 1);
    t.same(r.stdout.trim().split('\n'), [
      'service/mixed-web created', 'deployment.apps/mixed-web created', 'virtualservice.networking.istio.io/mixed-web created',
      'destinationrule.networking.istio.io/mixed-web created', 'requestauthentication.security.istio.io/mixed-web created', 'httproute.gateway.networking.k8s.io/mixed-web created',
    ]);
    t.equal(r.stderr, `error: resource mapping not found for name: "mixed-web-lua" namespace: "" from "${path}": no matches for kind "EnvoyFilter" in version "networking.istio.io/v1alpha3"\nensure CRDs are installed first\n`);
    const g = await shoal(['get', 'istio-io']);
    t.equal(g.code, 0, g.stderr);
    t.match(g.stdout, /^virtualservice\.networking\.istio\.io\/mixed-web\s/m);
    t.match(g.stdout, /^serviceentry\.networking\.istio\.io\/external-svc-https\s/m);
    t.match(g.stdout, /^requestauthentication\.security\.istio\.io\/mixed-web\s/m);
    const v = await shoal(['get', 'virtualservices.v1alpha3.networking.istio.io', 'mixed-web', '-o', 'json']);
    t.equal(JSON.parse(v.stdout).apiVersion, 'networking.istio.io/v1alpha3');
  });

  t.test('delete -f at the versions the files use', async (t) => {
    const r = await c.kubectl(['delete', '-f', join(FIXTURES, 'istio-networking-v1alpha3.yaml')]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /virtualservice\.networking\.istio\.io "reviews" deleted/);
    const g = await c.kubectl(['get', 'vs', 'reviews']);
    t.match(g.stderr, /NotFound/);
  });
});
