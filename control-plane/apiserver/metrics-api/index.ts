// Wiring of the metrics API into the API server: a scraper over the stored Nodes (each agent's address as
// pods/log uses it) with an HTTP fetch bounded by the resolution period.

import { request } from 'undici';
import { realClock } from '../../../lib/time/clock.js';
import type { KubeObject } from '../../../api/meta.js';
import { registry } from '../api-adapter.js';
import { agentAddress } from '../handlers/node-proxy.js';
import type { ObjectStore } from '../storage/objects.js';
import { MetricsScraper } from './scraper.js';

export { serveMetricsApi } from './serve.js';
export { MetricsScraper, parseResourceMetrics } from './scraper.js';

/** A running scraper over the Nodes in `objects`. */
export function startNodeScraper(objects: ObjectStore, resolutionMs: number, log?: (m: string) => void): MetricsScraper {
  const nodes = registry.get('', 'v1', 'nodes')!;
  const s = new MetricsScraper({
    clock: realClock,
    resolutionMs,
    log,
    async targets() {
      const out: { node: string; url: string }[] = [];
      for (const n of (await objects.list(nodes, '')).items as KubeObject[]) {
        try {
          out.push({ node: n.metadata.name!, url: `http://${agentAddress(n)}` });
        } catch {
          /* a node that does not publish its agent yet */
        }
      }
      return out;
    },
    async fetchText(url) {
      const timeout = Math.max(1000, Math.min(10_000, resolutionMs));
      const res = await request(url, { headersTimeout: timeout, bodyTimeout: timeout });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode}`);
      return text;
    },
  });
  s.start();
  return s;
}
