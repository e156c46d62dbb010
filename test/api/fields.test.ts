// Field selectors: parsing, per-kind supported fields, unknown field -> 400, matching.

import t from 'tap';
import { ApiError } from '../../api/errors.js';
import { fieldSelectorToString, matchesFields, parseFieldSelector, parseFieldSelectorFor, supportedFields } from '../../api/fields.js';
import { fixture } from './fixtures/manifests.js';

t.test('parse', async (t) => {
  const rows: [string, { field: string; op: string; value: string }[]][] = [
    ['', []],
    ['metadata.name=web', [{ field: 'metadata.name', op: '=', value: 'web' }]],
    ['metadata.name==web', [{ field: 'metadata.name', op: '=', value: 'web' }]],
    ['status.phase!=Running,spec.nodeName=', [{ field: 'status.phase', op: '!=', value: 'Running' }, { field: 'spec.nodeName', op: '=', value: '' }]],
    ['metadata.name=a\\,b', [{ field: 'metadata.name', op: '=', value: 'a,b' }]],
  ];
  for (const [input, want] of rows) t.same(parseFieldSelector(input).requirements, want, input);
  t.equal(fieldSelectorToString(parseFieldSelector('metadata.name=a\\,b,status.phase!=x')), 'metadata.name=a\\,b,status.phase!=x');
  t.throws(() => parseFieldSelector('metadata.name'), /invalid selector: 'metadata.name'; can't understand 'metadata.name'/);
});

t.test('supported fields per kind; unknown is a 400', async (t) => {
  const rows: [string, string, string, boolean][] = [
    ['', 'Pod', 'spec.nodeName=node-1', true],
    ['', 'Pod', 'status.phase=Running', true],
    ['', 'Pod', 'spec.restartPolicy=Always,spec.schedulerName=default-scheduler,status.podIP=1.2.3.4', true],
    ['', 'Pod', 'spec.containers=x', false],
    ['', 'Secret', 'type=Opaque', true],
    ['', 'ConfigMap', 'type=Opaque', false],
    ['', 'Event', 'involvedObject.kind=Pod,involvedObject.name=web,reason=Started', true],
    ['', 'Namespace', 'status.phase=Active', true],
    ['apps', 'Deployment', 'metadata.namespace=default', true],
    ['apps', 'Deployment', 'spec.replicas=1', false],
  ];
  for (const [group, kind, input, ok] of rows) {
    if (ok) t.doesNotThrow(() => parseFieldSelectorFor(input, group, kind), `${kind} ${input}`);
    else {
      try {
        parseFieldSelectorFor(input, group, kind);
        t.fail(`${kind} ${input} should fail`);
      } catch (e) {
        t.ok(e instanceof ApiError && e.code === 400 && /^field label not supported: /.test(e.message), `${kind} ${input}: ${(e as Error).message}`);
      }
    }
  }
  t.ok(supportedFields('', 'Pod').includes('spec.nodeName'));
});

t.test('match', async (t) => {
  const pod = fixture('/Pod');
  pod.spec.nodeName = 'node-1';
  pod.status = { phase: 'Running' };
  const rows: [string, boolean][] = [
    ['metadata.name=web-1', true],
    ['metadata.name=web-2', false],
    ['metadata.namespace=default,spec.nodeName=node-1', true],
    ['status.phase!=Running', false],
    ['status.phase!=Pending', true],
    ['spec.hostNetwork=false', true],
  ];
  for (const [sel, want] of rows) t.equal(matchesFields(parseFieldSelector(sel), pod), want, sel);
  const unscheduled = fixture('/Pod');
  t.ok(matchesFields(parseFieldSelector('spec.nodeName='), unscheduled), 'unset nodeName matches empty');
});
