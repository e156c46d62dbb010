// The layer-4 AuthorizationPolicy evaluator, table-driven: Istio's order (AUDIT, DENY, ALLOW), the
// fields layer 4 sees, Istio's string matching, and HTTP-only fields on TCP as Istio documents them.
import t from 'tap';
import { Authorizer, stringMatch, principalOf, type ConnectionAttributes } from '../../proxy/authz/evaluate.js';
import type { AuthzPolicy, AuthzRule } from '../../proxy/config/types.js';

const SLEEP = 'spiffe://cluster.local/ns/foo/sa/sleep';
const OTHER = 'spiffe://cluster.local/ns/bar/sa/other';
const conn = (spiffe: string, o: Partial<ConnectionAttributes> = {}): ConnectionAttributes => ({
  ...principalOf(spiffe), sourceIp: '10.244.0.5', remoteIp: '10.244.0.5', destinationIp: '10.244.0.9', destinationPort: 9000, ...o,
});
const pol = (name: string, action: string, rules?: AuthzRule[]): AuthzPolicy => ({ name, namespace: 'foo', action, ...(rules ? { rules } : {}) });
const from = (source: Record<string, string[]>): AuthzRule => ({ from: [{ source }] });
const to = (operation: Record<string, string[]>): AuthzRule => ({ to: [{ operation }] });

t.test('string matching (prefix, suffix, presence)', async (t) => {
  const rows: [string, string, boolean][] = [
    ['*', 'a', true], ['*', '', false], ['abc*', 'abcdef', true], ['abc*', 'xabc', false],
    ['*def', 'abcdef', true], ['*def', 'defx', false], ['exact', 'exact', true], ['exact', 'exactly', false],
  ];
  for (const [p, v, want] of rows) t.equal(stringMatch(p, v), want, `${p} ~ ${JSON.stringify(v)}`);
});

t.test('evaluation', async (t) => {
  const rows: { name: string; policies: AuthzPolicy[]; conn: ConnectionAttributes; allow: boolean; reason?: RegExp; audit?: string[] }[] = [
    { name: 'no policy allows', policies: [], conn: conn(SLEEP), allow: true, reason: /no ALLOW policy/ },
    { name: 'ALLOW without rules allows nothing', policies: [pol('allow-nothing', 'ALLOW')], conn: conn(SLEEP), allow: false },
    { name: 'ALLOW with an empty rule allows all', policies: [pol('allow-all', 'ALLOW', [{}])], conn: conn(''), allow: true },
    { name: 'DENY without rules denies nothing', policies: [pol('deny-none', 'DENY')], conn: conn(SLEEP), allow: true },
    { name: 'DENY with an empty rule denies all', policies: [pol('deny-all', 'DENY', [{}])], conn: conn(SLEEP), allow: false, reason: /deny-all/ },
    { name: 'principal allowed', policies: [pol('p', 'ALLOW', [from({ principals: ['cluster.local/ns/foo/sa/sleep'] })])], conn: conn(SLEEP), allow: true },
    { name: 'principal with spiffe:// prefix in policy', policies: [pol('p', 'ALLOW', [from({ principals: [SLEEP] })])], conn: conn(SLEEP), allow: true },
    { name: 'other principal refused', policies: [pol('p', 'ALLOW', [from({ principals: ['cluster.local/ns/foo/sa/sleep'] })])], conn: conn(OTHER), allow: false, reason: /no ALLOW policy matched/ },
    { name: 'principal suffix wildcard', policies: [pol('p', 'ALLOW', [from({ principals: ['*/sa/sleep'] })])], conn: conn(SLEEP), allow: true },
    { name: 'principal prefix wildcard', policies: [pol('p', 'ALLOW', [from({ principals: ['cluster.local/ns/bar/*'] })])], conn: conn(SLEEP), allow: false },
    { name: 'principals * needs mTLS', policies: [pol('p', 'ALLOW', [from({ principals: ['*'] })])], conn: conn(''), allow: false },
    { name: 'notPrincipals', policies: [pol('p', 'DENY', [from({ notPrincipals: ['cluster.local/ns/foo/*'] })])], conn: conn(OTHER), allow: false },
    { name: 'notPrincipals spares the listed', policies: [pol('p', 'DENY', [from({ notPrincipals: ['cluster.local/ns/foo/*'] })])], conn: conn(SLEEP), allow: true },
    { name: 'namespaces', policies: [pol('p', 'ALLOW', [from({ namespaces: ['foo'] })])], conn: conn(SLEEP), allow: true },
    { name: 'namespaces other', policies: [pol('p', 'ALLOW', [from({ namespaces: ['foo'] })])], conn: conn(OTHER), allow: false },
    { name: 'notNamespaces', policies: [pol('p', 'DENY', [from({ notNamespaces: ['foo'] })])], conn: conn(OTHER), allow: false },
    { name: 'serviceAccounts', policies: [pol('p', 'ALLOW', [from({ serviceAccounts: ['foo/sleep'] })])], conn: conn(SLEEP), allow: true },
    { name: 'ipBlocks CIDR', policies: [pol('p', 'ALLOW', [from({ ipBlocks: ['10.244.0.0/24'] })])], conn: conn(''), allow: true },
    { name: 'ipBlocks single address miss', policies: [pol('p', 'ALLOW', [from({ ipBlocks: ['10.244.0.6'] })])], conn: conn(''), allow: false },
    { name: 'ipBlocks IPv4-mapped source', policies: [pol('p', 'ALLOW', [from({ ipBlocks: ['10.244.0.5'] })])], conn: conn('', { sourceIp: '::ffff:10.244.0.5' }), allow: true },
    { name: 'notIpBlocks', policies: [pol('p', 'DENY', [from({ notIpBlocks: ['10.0.0.0/8'] })])], conn: conn('', { sourceIp: '192.168.1.1' }), allow: false },
    { name: 'remoteIpBlocks', policies: [pol('p', 'DENY', [from({ remoteIpBlocks: ['10.244.0.5/32'] })])], conn: conn(SLEEP), allow: false },
    { name: 'ports', policies: [pol('p', 'ALLOW', [to({ ports: ['9000'] })])], conn: conn(SLEEP), allow: true },
    { name: 'ports other', policies: [pol('p', 'ALLOW', [to({ ports: ['9001'] })])], conn: conn(SLEEP), allow: false },
    { name: 'notPorts', policies: [pol('p', 'DENY', [to({ notPorts: ['9000'] })])], conn: conn(SLEEP, { destinationPort: 22 }), allow: false },
    { name: 'from AND to in one rule', policies: [pol('p', 'ALLOW', [{ from: [{ source: { namespaces: ['foo'] } }], to: [{ operation: { ports: ['9001'] } }] }])], conn: conn(SLEEP), allow: false },
    { name: 'rules are OR', policies: [pol('p', 'ALLOW', [to({ ports: ['9001'] }), from({ namespaces: ['foo'] })])], conn: conn(SLEEP), allow: true },
    { name: 'sources are OR', policies: [pol('p', 'ALLOW', [{ from: [{ source: { namespaces: ['x'] } }, { source: { namespaces: ['foo'] } }] }])], conn: conn(SLEEP), allow: true },
    { name: 'fields in a source are AND', policies: [pol('p', 'ALLOW', [from({ namespaces: ['foo'], ipBlocks: ['1.2.3.4'] })])], conn: conn(SLEEP), allow: false },
    { name: 'DENY before ALLOW', policies: [pol('a', 'ALLOW', [{}]), pol('d', 'DENY', [from({ namespaces: ['foo'] })])], conn: conn(SLEEP), allow: false, reason: /DENY policy foo\/d/ },
    { name: 'AUDIT only logs', policies: [pol('au', 'AUDIT', [{}])], conn: conn(SLEEP), allow: true, audit: ['foo/au'] },
    { name: 'AUDIT with a DENY', policies: [pol('au', 'AUDIT', [{}]), pol('d', 'DENY', [{}])], conn: conn(SLEEP), allow: false, audit: ['foo/au'] },
    { name: 'one of several ALLOW policies', policies: [pol('a1', 'ALLOW', [to({ ports: ['1'] })]), pol('a2', 'ALLOW', [to({ ports: ['9000'] })])], conn: conn(SLEEP), allow: true, reason: /foo\/a2/ },
    { name: 'when source.principal', policies: [pol('p', 'ALLOW', [{ when: [{ key: 'source.principal', values: ['cluster.local/ns/foo/sa/sleep'] }] }])], conn: conn(SLEEP), allow: true },
    { name: 'when source.ip notValues', policies: [pol('p', 'ALLOW', [{ when: [{ key: 'source.ip', notValues: ['10.244.0.0/16'] }] }])], conn: conn(SLEEP), allow: false },
    { name: 'when destination.port', policies: [pol('p', 'DENY', [{ when: [{ key: 'destination.port', values: ['9000'] }] }])], conn: conn(SLEEP), allow: false },
    // HTTP-only fields on TCP (Istio: ignored; an ALLOW rule with them cannot match, a DENY rule keeps its TCP part)
    { name: 'ALLOW rule with methods never matches on TCP', policies: [pol('p', 'ALLOW', [{ from: [{ source: { namespaces: ['foo'] } }], to: [{ operation: { methods: ['GET'] } }] }])], conn: conn(SLEEP), allow: false },
    { name: 'ALLOW: the other rule still matches', policies: [pol('p', 'ALLOW', [to({ methods: ['GET'] }), to({ ports: ['9000'] })])], conn: conn(SLEEP), allow: true },
    { name: 'ALLOW rule with requestPrincipals never matches', policies: [pol('p', 'ALLOW', [from({ requestPrincipals: ['*'] })])], conn: conn(SLEEP), allow: false },
    { name: 'ALLOW rule with an HTTP when key never matches', policies: [pol('p', 'ALLOW', [{ when: [{ key: 'request.headers[x]', values: ['a'] }] }])], conn: conn(SLEEP), allow: false },
    { name: 'DENY with methods + ports: methods ignored, port 9000 denied', policies: [pol('p', 'DENY', [{ to: [{ operation: { methods: ['GET'], ports: ['9000'] } }] }])], conn: conn(SLEEP), allow: false },
    { name: 'DENY with methods + ports: other port allowed', policies: [pol('p', 'DENY', [{ to: [{ operation: { methods: ['GET'], ports: ['9000'] } }] }])], conn: conn(SLEEP, { destinationPort: 9001 }), allow: true },
    { name: 'DENY with only paths denies all TCP', policies: [pol('p', 'DENY', [to({ paths: ['/admin'] })])], conn: conn(SLEEP), allow: false },
  ];
  for (const r of rows) {
    const d = new Authorizer(r.policies).evaluate(r.conn);
    t.equal(d.allow, r.allow, `${r.name}: ${d.reason}`);
    if (r.reason) t.match(d.reason, r.reason, `${r.name}: reason`);
    t.same(d.audit, r.audit ?? [], `${r.name}: audit`);
  }
});

t.test('principalOf', async (t) => {
  t.same(principalOf(SLEEP), { principal: 'cluster.local/ns/foo/sa/sleep', namespace: 'foo' });
  t.same(principalOf(''), { principal: '', namespace: '' });
});

t.test('compiled authorizer is frozen', async (t) => {
  const a = new Authorizer([pol('p', 'ALLOW', [{}])]);
  t.ok(Object.isFrozen(a));
  t.same(a.policyIds, ['foo/p']);
});
