// What every controller is built from: the client, the shared informers, an event recorder per
// component and a log seam. The manager (manager.ts) makes one and hands it to each controller's factory.

import type { KubeClient } from '../../api/client/index.js';
import type { InformerFactory } from './informers.js';
import { EventRecorder, clientSink } from '../../api/client/events.js';
import type { LogFn } from './controller.js';

/** Shared by every controller in one process. */
export interface ControllerContext {
  client: KubeClient;
  informers: InformerFactory;
  recorder(component: string): EventRecorder;
  log: LogFn;
  now: () => number;
}

/** A context over a client and informer factory; recorders are cached by component. */
export function makeContext(client: KubeClient, informers: InformerFactory, log: LogFn = () => undefined): ControllerContext & { recorders: Map<string, EventRecorder> } {
  const recorders = new Map<string, EventRecorder>();
  return {
    client, informers, log, recorders,
    now: () => Date.now(),
    recorder(component) {
      let r = recorders.get(component);
      if (!r) {
        r = new EventRecorder(clientSink(client), component, undefined, (e) => log(`event: ${(e as Error).message}`));
        recorders.set(component, r);
      }
      return r;
    },
  };
}
