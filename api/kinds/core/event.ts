// core/v1 Event: what controllers and the node agent record about objects. Validation follows
// Kubernetes' ValidateEvent (involvedObject namespace must match, type Normal/Warning, reportingController
// and action set for new-style events); the table is kubectl's LAST SEEN / TYPE / REASON / OBJECT / MESSAGE.

import { age } from '../../age.js';
import { int, obj, str } from '../../schema/schema.js';
import { type FieldError, Path, fieldError, kindSchema } from '../common.js';
import { col, defineKind } from '../define.js';
import { objectReference } from './endpoints.js';


const eventSchema = kindSchema(
  {
    involvedObject: objectReference,
    reason: str,
    message: str,
    source: obj({ component: str, host: str }),
    firstTimestamp: str,
    lastTimestamp: str,
    count: int,
    type: str,
    eventTime: str,
    series: obj({ count: int, lastObservedTime: str }),
    action: str,
    related: objectReference,
    reportingComponent: str,
    reportingInstance: str,
  },
  ['involvedObject'],
);

/** LAST SEEN as kubectl prints it, with `(x3 over 10m)` when an event repeated. */
function lastSeen(o: any, now: Date): string {
  const last = o.series?.lastObservedTime ?? o.lastTimestamp ?? o.eventTime ?? o.metadata?.creationTimestamp;
  const first = o.firstTimestamp ?? o.eventTime ?? o.metadata?.creationTimestamp;
  const count = o.series?.count ?? o.count ?? 1;
  const l = age(last, now);
  return count > 1 ? `${l} (x${count} over ${age(first, now)})` : l;
}

/** core/v1 Event */
export const event = defineKind({
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  shortNames: ['ev'],
  namespaced: true,
  schema: eventSchema,
  semantic(o) {
    const errs: FieldError[] = [];
    const ns = o.metadata?.namespace;
    const io = o.involvedObject ?? {};
    if (io.namespace && ns && io.namespace !== ns && !(ns === 'default' && !io.namespace))
      errs.push(fieldError.invalid(Path.root('involvedObject').child('namespace'), io.namespace, 'does not match event.namespace'));
    if (o.type !== undefined && o.type !== 'Normal' && o.type !== 'Warning')
      errs.push(fieldError.invalid('type', o.type, 'has invalid value: should be either Normal or Warning'));
    if (o.eventTime) {
      if (!o.reportingComponent) errs.push(fieldError.required('reportingComponent'));
      if (!o.action) errs.push(fieldError.required('action'));
    }
    if (typeof o.message === 'string' && o.message.length > 4096) errs.push(fieldError.tooLong('message', '', 4096));
    return errs;
  },
  columns: [
    col('Last Seen'),
    col('Type'),
    col('Reason'),
    col('Object'),
    col('Subobject', 'string', true),
    col('Source', 'string', true),
    col('Message'),
    col('First Seen', 'string', true),
    col('Count', 'string', true),
    { ...col('Name', 'string', true), format: 'name' },
  ],
  cells(o, now) {
    const io = o.involvedObject ?? {};
    const src = o.source?.component ? [o.source.component, o.source.host].filter(Boolean).join(', ') : (o.reportingComponent ?? '');
    return [
      lastSeen(o, now),
      o.type ?? '',
      o.reason ?? '',
      `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`,
      io.fieldPath ?? '',
      src,
      String(o.message ?? '').trim(),
      age(o.firstTimestamp ?? o.eventTime ?? o.metadata?.creationTimestamp, now),
      String(o.series?.count ?? o.count ?? 1),
      o.metadata.name,
    ];
  },
});

