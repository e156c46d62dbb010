// What every layer of the API server shares: the storage layer (ObjectStore), the admission chain and
// the Writer that goes through it, the metrics, and the frozen settings the routes need. Built once by
// buildServer; each layer (authn.ts → errors.ts → system.ts → routing.ts → verbs.ts / subresources.ts)
// takes it as an argument, fastify-plugin style.

import type { ResourceType } from '../../../api/resource.js';
import type { AdmissionChain, UserInfo } from '../admission/chain.js';
import type { TokenAuthenticator } from '../handlers/tokenreview.js';
import type { Writer } from '../handlers/write.js';
import type { ApiMetrics } from '../metrics.js';
import type { ObjectStore } from '../storage/objects.js';
import type { MetricsScraper } from '../metrics-api/index.js';
import type { Attributes, Decision, RbacSource } from '../authz/rbac.js';

/** The API server's own identity (bootstrap writes, unauthenticated test servers). */
export const ADMIN: UserInfo = { username: 'system:apiserver', uid: 'system', groups: ['system:masters'] };

/** The storage layer and its settings, shared by the layers. */
export interface Core {
  objects: ObjectStore;
  admission: AdmissionChain;
  writer: Writer;
  metrics: ApiMetrics;
  namespaces: ResourceType;
  bookmarkIntervalMs: number;
  /** address clients should use, for /api's serverAddressByClientCIDRs */
  advertiseAddress?: string;
  /** bearer token → user (requests and TokenReview) */
  authenticate: TokenAuthenticator;
  /** metrics.k8s.io's node scraper, when the server serves the metrics API */
  metricsScraper?: MetricsScraper;
  /** the RBAC decision for a request's attributes (requests, reviews, escalation checks) */
  authorize: (a: Attributes) => Decision;
  /** the RBAC objects the authorizer reads */
  rbac: RbacSource;
  /** true once bootstrap() has created the system namespaces (/readyz) */
  ready: boolean;
}
