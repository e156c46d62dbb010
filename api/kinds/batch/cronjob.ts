// batch/v1 CronJob: schema field for field with k8s.io/api batch/v1 (1.32), SetDefaults_CronJob
// (Allow, suspend false, history 3/1), validateCronJobSpec (the schedule parsed as robfig/cron's
// ParseStandard with its error text, TZ/CRON_TZ refused in the schedule, IANA timeZone, the
// jobTemplate validated as a JobSpec without selector, the 52-character name limit) and kubectl's table.

import { age } from '../../age.js';
import type { KubeObject } from '../../meta.js';
import { arr, bool, int, obj, str } from '../../schema/schema.js';
import { type FieldError, Path, asObj, ensureObj, fieldError, kindSchema, nonNegative, objectMeta, setDefault } from '../common.js';
import { defaultPodTemplate } from '../core/pod-spec.js';
import { ageCol, col, defineKind, nameCol } from '../define.js';
import { containerCells, jobSpecSchema, selectorText, validateJobSpecCommon } from './job.js';
import { isKnownTimeZone, parseStandard } from './schedule.js';

const objectReference = obj({ kind: str, namespace: str, name: str, uid: str, apiVersion: str, resourceVersion: str, fieldPath: str });

const cronJobSpec = obj(
  {
    schedule: str,
    timeZone: str,
    startingDeadlineSeconds: int,
    concurrencyPolicy: str,
    suspend: bool,
    jobTemplate: obj({ metadata: objectMeta, spec: jobSpecSchema }),
    successfulJobsHistoryLimit: int,
    failedJobsHistoryLimit: int,
  },
  ['jobTemplate'],
);
const cronJobStatus = obj({ active: arr(objectReference), lastScheduleTime: str, lastSuccessfulTime: str });

const POLICIES = ['Allow', 'Forbid', 'Replace'];
const tzPart = /^[A-Za-z.\-_0-9+]{1,14}$/;

/** validateTimeZone, with time.LoadLocation's error text. */
export function validateTimeZone(tz: unknown, p: Path): FieldError[] {
  if (tz == null) return [];
  const v = String(tz);
  if (v === '') return [fieldError.invalid(p, v, 'timeZone must be nil or non-empty string')];
  for (const part of v.split('/'))
    if (part === '.' || part === '..' || part.startsWith('-') || !tzPart.test(part)) return [fieldError.invalid(p, v, `unknown time zone ${v}`)];
  const errs: FieldError[] = [];
  if (v.toLowerCase() === 'local') errs.push(fieldError.invalid(p, v, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
  else if (!isKnownTimeZone(v)) errs.push(fieldError.invalid(p, v, `unknown time zone ${v}`));
  return errs;
}

function validateCronJob(o: KubeObject, old?: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const p = Path.root('spec');
  const spec = o.spec ?? {};
  const sched = spec.schedule;
  if (typeof sched !== 'string' || sched === '') errs.push(fieldError.required(p.child('schedule')));
  else {
    try {
      parseStandard(sched);
    } catch (e) {
      errs.push(fieldError.invalid(p.child('schedule'), sched, (e as Error).message));
    }
    const allowTZ = typeof old?.spec?.schedule === 'string' && old.spec.schedule.includes('TZ');
    if (allowTZ && sched.includes('TZ') && spec.timeZone != null)
      errs.push(fieldError.invalid(p.child('schedule'), sched, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    else if (!allowTZ && sched.includes('TZ'))
      errs.push(fieldError.invalid(p.child('schedule'), sched, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  nonNegative(errs, p.child('startingDeadlineSeconds'), spec.startingDeadlineSeconds);
  if (!old || old.spec?.timeZone !== spec.timeZone) errs.push(...validateTimeZone(spec.timeZone, p.child('timeZone')));
  const cp = spec.concurrencyPolicy;
  if (cp == null || cp === '') errs.push(fieldError.required(p.child('concurrencyPolicy')));
  else if (!POLICIES.includes(cp)) errs.push(fieldError.notSupported(p.child('concurrencyPolicy'), cp, POLICIES));
  const jt = spec.jobTemplate ?? {};
  const jp = p.child('jobTemplate', 'spec');
  errs.push(...validateJobSpecCommon(jt.spec ?? {}, jp));
  if (jt.spec?.selector != null) errs.push(fieldError.invalid(jp.child('selector'), 'object', '`selector` will be auto-generated'));
  if (jt.spec?.manualSelector === true) errs.push(fieldError.notSupported(jp.child('manualSelector'), true, ['nil', 'false']));
  nonNegative(errs, p.child('successfulJobsHistoryLimit'), spec.successfulJobsHistoryLimit);
  nonNegative(errs, p.child('failedJobsHistoryLimit'), spec.failedJobsHistoryLimit);
  if (!old && typeof o.metadata.name === 'string' && o.metadata.name.length > 52)
    errs.push(fieldError.invalid('metadata.name', o.metadata.name, 'must be no more than 52 characters'));
  return errs;
}

/** batch/v1 CronJob */
export const cronJob = defineKind({
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  shortNames: ['cj'],
  namespaced: true,
  categories: ['all'],
  status: true,
  schema: kindSchema({ spec: cronJobSpec, status: cronJobStatus }),
  defaults(o) {
    const spec = ensureObj(o, 'spec');
    if (!spec) return;
    if (spec.concurrencyPolicy === '' || spec.concurrencyPolicy == null) spec.concurrencyPolicy = 'Allow';
    setDefault(spec, 'suspend', false);
    setDefault(spec, 'successfulJobsHistoryLimit', 3);
    setDefault(spec, 'failedJobsHistoryLimit', 1);
    defaultPodTemplate(asObj(asObj(spec.jobTemplate)?.spec)?.template);
  },
  semantic: validateCronJob,
  columns: [
    nameCol, col('Schedule'), col('Timezone'), col('Suspend', 'boolean'), col('Active', 'integer'), col('Last Schedule'), ageCol,
    col('Containers', 'string', true), col('Images', 'string', true), col('Selector', 'string', true),
  ],
  cells: (o, now) => {
    const [names, images] = containerCells(o.spec?.jobTemplate?.spec?.template);
    const last = o.status?.lastScheduleTime;
    const suspend = o.spec?.suspend;
    return [
      o.metadata.name, o.spec?.schedule ?? '', o.spec?.timeZone ?? '<none>', suspend == null ? '<unset>' : suspend ? 'True' : 'False',
      (o.status?.active ?? []).length, last ? age(last, now) : '<none>', age(o.metadata.creationTimestamp, now),
      names, images, selectorText(o.spec?.jobTemplate?.spec?.selector),
    ];
  },
});
