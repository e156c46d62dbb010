// Watch streams: `?watch=true` answered as a chunked stream of `{"type":…,"object":…}` lines. It starts
// with synthetic ADDED events for the current state when no resourceVersion is given (or "0"), then
// delivers every later change in order, mapping selector transitions to ADDED/DELETED as kube-apiserver
// does; BOOKMARK events carry progress; a resourceVersion older than the compacted history ends the stream
// with one ERROR event holding a 410 Expired Status.

import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../../../api/meta.js';
import type { ResourceType } from '../../../api/resource.js';
import { ApiError, errors } from '../../../api/errors.js';
import type { ObjectStore, ObjectEvent } from '../storage/objects.js';
import type { Matcher } from './selectors.js';
import { type Representation, partial, rowOf, toTable } from './table.js';

/** Options of one watch request. */
export interface WatchRequest {
  rt: ResourceType;
  namespace: string;
  matcher: Matcher;
  resourceVersion?: string;
  allowBookmarks: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
  representation: Representation;
  includeObject: string;
  bookmarkIntervalMs: number;
}

/** Counts of open watches, for /metrics. */
export interface WatchGauge {
  inc(labels: { resource: string }): void;
  dec(labels: { resource: string }): void;
}

const MAX_BUFFERED = 32 * 1024 * 1024;

/** Serve one watch on a raw response; resolves when the stream ends. */
export async function serveWatch(raw: ServerResponse, objects: ObjectStore, w: WatchRequest, gauge?: WatchGauge): Promise<void> {
  const { rt } = w;
  let afterRevision: number;
  const initial: KubeObject[] = [];
  const rv = w.resourceVersion ?? '';
  const sendInitial = w.sendInitialEvents ?? (rv === '' || rv === '0');
  if (sendInitial) {
    const list = await objects.list(rt, w.namespace, {});
    for (const o of list.items) if (w.matcher(o)) initial.push(o);
    afterRevision = list.revision;
  } else {
    if (!/^\d+$/.test(rv)) throw errors.badRequest(`resourceVersion: Invalid value: ${JSON.stringify(rv)}: must be a non-negative integer`);
    afterRevision = Number(rv);
  }

  raw.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  raw.flushHeaders();
  const now = () => new Date();
  let closed = false;
  let lastRevision = afterRevision;
  let firstTableEvent = true;

  const encode = (type: string, o: KubeObject, ev?: ObjectEvent): string => {
    if (ev && w.representation === 'object') {
      // the same event goes to many watchers: serialize it once
      const lines = (ev.lines ??= {});
      return (lines[type] ??= `${JSON.stringify({ type, object: o })}\n`);
    }
    let object: unknown = o;
    if (w.representation === 'table' && type !== 'BOOKMARK' && type !== 'ERROR') {
      object = firstTableEvent ? toTable(rt, [o], { resourceVersion: o.metadata.resourceVersion }, w.includeObject) : { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: o.metadata.resourceVersion }, rows: [rowOf(rt, o, now(), w.includeObject)] };
      firstTableEvent = false;
    } else if (w.representation === 'metadata' && type !== 'ERROR') {
      object = partial(o);
    }
    return `${JSON.stringify({ type, object })}\n`;
  };
  const send = (line: string) => {
    if (closed) return;
    raw.write(line);
    if (raw.writableLength > MAX_BUFFERED) finish(); // a watcher too slow to keep up is dropped, as kube-apiserver does
  };
  const bookmark = (annotations?: Record<string, string>) => {
    const o: KubeObject = { kind: rt.kind, apiVersion: rt.group ? `${rt.group}/${rt.version}` : rt.version, metadata: { resourceVersion: String(lastRevision), ...(annotations ? { annotations } : {}) } };
    send(`${JSON.stringify({ type: 'BOOKMARK', object: o })}\n`);
  };

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let watch: { stop(): void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let bookmarkTimer: NodeJS.Timeout | undefined;
  gauge?.inc({ resource: rt.plural });
  const finish = () => {
    if (closed) return;
    closed = true;
    watch?.stop();
    if (timer) clearTimeout(timer);
    if (bookmarkTimer) clearInterval(bookmarkTimer);
    gauge?.dec({ resource: rt.plural });
    raw.end();
    resolveDone();
  };
  raw.on('close', finish);
  raw.on('error', finish);

  for (const o of initial) send(encode('ADDED', o));
  if (w.sendInitialEvents && w.allowBookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });

  const onEvent = (ev: ObjectEvent) => {
    if (closed) return;
    lastRevision = ev.revision;
    const matchesNow = w.matcher(ev.object);
    const matchedBefore = ev.previous ? w.matcher(ev.previous) : false;
    if (ev.type === 'DELETED') {
      if (matchesNow) send(encode('DELETED', ev.object, ev));
    } else if (ev.type === 'ADDED') {
      if (matchesNow) send(encode('ADDED', ev.object, ev));
    } else if (matchesNow && matchedBefore) send(encode('MODIFIED', ev.object, ev));
    else if (matchesNow) send(encode('ADDED', ev.object, ev));
    else if (matchedBefore) send(encode('DELETED', ev.object, ev));
  };
  const onError = (e: Error) => {
    const status = e instanceof ApiError ? e.toStatus() : errors.internal(e.message).toStatus();
    send(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
    finish();
  };
  try {
    watch = await objects.watch(rt, w.namespace, afterRevision, onEvent, onError);
    if (closed) watch.stop();
  } catch (e) {
    onError(e as Error);
    return done;
  }
  if (w.timeoutSeconds && w.timeoutSeconds > 0) timer = setTimeout(finish, w.timeoutSeconds * 1000);
  if (w.allowBookmarks) bookmarkTimer = setInterval(() => bookmark(), w.bookmarkIntervalMs).unref();
  return done;
}
