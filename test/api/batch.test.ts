// batch/v1 Job and CronJob in the object model: defaults (SetDefaults_Job/CronJob and the selector the
// API server generates), validation errors with Kubernetes' field paths and texts, immutability on
// update, and the kubectl tables.

import t from 'tap';
import { registry } from '../../api/registry.js';
import type { KubeObject } from '../../api/meta.js';
import { defaulted, errorsOf } from './fixtures/helpers.js';
import { fixture } from './fixtures/manifests.js';

const now = new Date('2024-01-01T00:05:00Z');
const UID = '0f5c2c8e-1111-4222-8333-944455556666';

function job(spec: Record<string, any> = {}, name = 'pi'): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: 'default', uid: UID, creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
  };
}
function cron(spec: Record<string, any> = {}, name = 'report'): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } }, ...spec },
  };
}

t.test('Job defaults and the generated selector', async (t) => {
  const j = defaulted(job());
  t.match(j.spec, { completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, podReplacementPolicy: 'TerminatingOrFailed', manualSelector: false });
  t.same(j.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': UID } });
  t.same(j.spec.template.metadata.labels, { 'job-name': 'pi', 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': UID, 'batch.kubernetes.io/controller-uid': UID });
  t.same(j.metadata.labels, j.spec.template.metadata.labels, 'the Job gets its template labels');
  t.equal(j.spec.template.spec.dnsPolicy, 'ClusterFirst', 'pod template defaults');
  t.match(defaulted(job({ parallelism: 3 })).spec, { parallelism: 3 }, 'completions stays unset when parallelism is given');
  t.notOk('completions' in defaulted(job({ parallelism: 3 })).spec);
  t.equal(defaulted(job({ completionMode: 'Indexed', completions: 2, backoffLimitPerIndex: 1 })).spec.backoffLimit, 2147483647);
  t.equal(defaulted(job({ podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] } })).spec.podReplacementPolicy, 'Failed');
  t.equal(defaulted(job({ podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] } })).spec.podFailurePolicy.rules[0].onPodConditions[0].status, 'True');
  const manual = defaulted(job({ manualSelector: true, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } }));
  t.same(manual.spec.template.metadata.labels, { app: 'x' }, 'manualSelector: nothing generated');
  t.same(errorsOf(manual), []);
});

t.test('CronJob defaults', async (t) => {
  const c = defaulted(cron());
  t.match(c.spec, { concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
  t.notOk('backoffLimit' in c.spec.jobTemplate.spec, 'the job template gets no Job defaults (only pod ones), as kube');
  t.equal(c.spec.jobTemplate.spec.template.spec.schedulerName, 'default-scheduler');
});

t.test('validation errors with field paths', async (t) => {
  const rows: { name: string; obj: KubeObject; want: string[] }[] = [
    { name: 'job restartPolicy Always', obj: job({ template: { spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'busybox' }] } } }), want: ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'] },
    { name: 'job restartPolicy unset (defaulted to Always)', obj: job({ template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } }), want: ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'] },
    { name: 'negative counts', obj: job({ parallelism: -1, completions: -2, backoffLimit: -3, activeDeadlineSeconds: -4, ttlSecondsAfterFinished: -5 }), want: [
      'spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
      'spec.completions: Invalid value: -2: must be greater than or equal to 0',
      'spec.activeDeadlineSeconds: Invalid value: -4: must be greater than or equal to 0',
      'spec.backoffLimit: Invalid value: -3: must be greater than or equal to 0',
      'spec.ttlSecondsAfterFinished: Invalid value: -5: must be greater than or equal to 0',
    ] },
    { name: 'Indexed needs completions', obj: job({ completionMode: 'Indexed', parallelism: 2 }), want: ['spec.completions: Required value: when completion mode is Indexed'] },
    { name: 'unknown completionMode', obj: job({ completionMode: 'Random' }), want: ['spec.completionMode: Unsupported value: "Random": supported values: "NonIndexed", "Indexed"'] },
    { name: 'Indexed name too long for hostnames', obj: job({ completionMode: 'Indexed', completions: 100 }, 'a'.repeat(62)), want: [`metadata.name: Invalid value: "${'a'.repeat(62)}": will not able to create pod with invalid DNS label: ${'a'.repeat(62)}-99`] },
    { name: 'podFailurePolicy rules', obj: job({ podFailurePolicy: { rules: [
      { action: 'Explode', onExitCodes: { operator: 'In', values: [0, 3, 2, 3] } },
      { action: 'FailJob', onExitCodes: { containerName: 'nope', operator: 'Maybe', values: [1] }, onPodConditions: [{ type: 'X', status: 'True' }] },
      { action: 'Count' },
    ] } }), want: [
      'spec.podFailurePolicy.rules[0].action: Unsupported value: "Explode": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
      'spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator',
      'spec.podFailurePolicy.rules[0].onExitCodes.values[3]: Duplicate value: 3',
      'spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: [0,3,2,3]: must be ordered',
      'spec.podFailurePolicy.rules[1].onExitCodes.operator: Unsupported value: "Maybe": supported values: "In", "NotIn"',
      'spec.podFailurePolicy.rules[1].onExitCodes.containerName: Invalid value: "nope": must be one of the container or initContainer names in the pod template',
      'spec.podFailurePolicy.rules[1]: Invalid value: "": specifying both OnExitCodes and OnPodConditions is not supported',
      'spec.podFailurePolicy.rules[2]: Invalid value: "": specifying one of OnExitCodes and OnPodConditions is required',
    ] },
    { name: 'podFailurePolicy needs Never', obj: job({ podFailurePolicy: { rules: [{ action: 'Ignore', onExitCodes: { operator: 'In', values: [1] } }] }, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } }), want: ['spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified'] },
    { name: 'wrong generated selector', obj: job({ selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'other' } } }), want: [
      'spec.template.metadata.labels[controller-uid]: Required value: must be \'' + UID + '\'',
      'spec.template.metadata.labels[job-name]: Required value: must be \'pi\'',
      'spec.template.metadata.labels[batch.kubernetes.io/controller-uid]: Required value: must be \'' + UID + '\'',
      'spec.template.metadata.labels[batch.kubernetes.io/job-name]: Required value: must be \'pi\'',
      'spec.selector: Invalid value: "object": `selector` not auto-generated',
      'spec.template.metadata.labels: Invalid value: {}: `selector` does not match template `labels`',
    ] },
    { name: 'cron: invalid schedule', obj: cron({ schedule: '61 * * * *' }), want: ['spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'] },
    { name: 'cron: six fields', obj: cron({ schedule: '0 * * * * *' }), want: ['spec.schedule: Invalid value: "0 * * * * *": expected exactly 5 fields, found 6: [0 * * * * *]'] },
    { name: 'cron: H is not supported', obj: cron({ schedule: 'H * * * *' }), want: ['spec.schedule: Invalid value: "H * * * *": failed to parse int from H: strconv.Atoi: parsing "H": invalid syntax'] },
    { name: 'cron: TZ in schedule', obj: cron({ schedule: 'TZ=UTC 0 * * * *' }), want: ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'] },
    { name: 'cron: empty schedule', obj: cron({ schedule: '' }), want: ['spec.schedule: Required value'] },
    { name: 'cron: unknown time zone', obj: cron({ timeZone: 'Mars/Olympus' }), want: ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'] },
    { name: 'cron: Local time zone', obj: cron({ timeZone: 'Local' }), want: ['spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'] },
    { name: 'cron: bad characters in time zone', obj: cron({ timeZone: '../etc/passwd' }), want: ['spec.timeZone: Invalid value: "../etc/passwd": unknown time zone ../etc/passwd'] },
    { name: 'cron: concurrencyPolicy', obj: cron({ concurrencyPolicy: 'Sometimes' }), want: ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"'] },
    { name: 'cron: negative limits and deadline', obj: cron({ startingDeadlineSeconds: -1, successfulJobsHistoryLimit: -1, failedJobsHistoryLimit: -2 }), want: [
      'spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0',
      'spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0',
      'spec.failedJobsHistoryLimit: Invalid value: -2: must be greater than or equal to 0',
    ] },
    { name: 'cron: selector in template', obj: cron({ jobTemplate: { spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } }), want: ['spec.jobTemplate.spec.selector: Invalid value: "object": `selector` will be auto-generated'] },
    { name: 'cron: template restartPolicy', obj: cron({ jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } } } }), want: ['spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'] },
    { name: 'cron: name over 52 characters', obj: cron({}, 'c'.repeat(53)), want: [`metadata.name: Invalid value: "${'c'.repeat(53)}": must be no more than 52 characters`] },
  ];
  for (const r of rows) t.same(errorsOf(r.obj), r.want, r.name);
});

t.test('Job update: immutable fields', async (t) => {
  const old = defaulted(job({ completions: 3 }));
  const changed = structuredClone(old);
  changed.spec.completions = 4;
  changed.spec.template.spec.containers[0].image = 'alpine';
  changed.spec.parallelism = 2;
  t.same(errorsOf(changed, old), ['spec.completions: Invalid value: 4: field is immutable', 'spec.template: Invalid value: "object": field is immutable']);
  const elastic = defaulted(job({ completionMode: 'Indexed', completions: 3, parallelism: 3 }));
  const grown = structuredClone(elastic);
  grown.spec.completions = 5;
  grown.spec.parallelism = 5;
  t.same(errorsOf(grown, elastic), [], 'Indexed: completions may change in tandem with parallelism');
  const suspend = structuredClone(old);
  suspend.spec.suspend = true;
  t.same(errorsOf(suspend, old), [], 'suspend may change');
});

t.test('tables', async (t) => {
  const cols = (kind: string) => registry.byKind('batch/v1', kind)!.columns.map((c) => `${c.name}${c.priority ? '*' : ''}`);
  t.same(cols('Job'), ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers*', 'Images*', 'Selector*']);
  t.same(cols('CronJob'), ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers*', 'Images*', 'Selector*']);
  const cells = (o: KubeObject) => registry.byKind(o.apiVersion, o.kind)!.cells(o, now);
  const j = defaulted(fixture('batch/Job'));
  j.status = { startTime: '2024-01-01T00:01:00Z', succeeded: 1, active: 2 };
  t.same(cells(j), ['pi', 'Running', '1/3', '4m', '5m', 'web', 'nginx:1.25', 'batch.kubernetes.io/controller-uid=5b0c4b1e-7a43-4d43-9a9e-3c1f6d2f0a11']);
  j.status = { startTime: '2024-01-01T00:01:00Z', completionTime: '2024-01-01T00:01:42Z', succeeded: 3, conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True' }] };
  t.same(cells(j).slice(1, 4), ['Complete', '3/3', '42s']);
  j.status = { conditions: [{ type: 'FailureTarget', status: 'True' }] };
  t.same(cells(j).slice(1, 4), ['FailureTarget', '0/3', '']);
  const queue = defaulted(job({ parallelism: 4 }));
  t.equal(cells(queue)[2], '0/1 of 4', 'no completions: kubectl prints "of parallelism"');
  const c = defaulted(fixture('batch/CronJob'));
  t.same(cells(c), ['report', '*/15 9-17 * * MON-FRI', 'Europe/Paris', 'False', 0, '<none>', '5m', 'web', 'nginx:1.25', '<none>']);
  c.status = { active: [{ name: 'report-1' }], lastScheduleTime: '2024-01-01T00:04:00Z' };
  t.same(cells(c).slice(4, 6), [1, '60s']);
});
