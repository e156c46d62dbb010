// The protocol-neutral contract between the filter chain's forward decision and a protocol module's
// exchange (proxy/http1 now, proxy/http2 next): what the exchange may do beyond one attempt
// (ExchangePolicy) and how it reports its end (ExchangeEnd). See README.md, "The decision shape".
import type { ClusterGuard } from './cluster.js';
import type { RoutePolicy } from './policy.js';

/** One upstream endpoint of an exchange; `release` is called once when the attempts on it end. */
export interface Upstream {
  address: string;
  port: number;
  release?: () => void;
}

/**
 * What an exchange may do beyond one attempt (protocol-neutral: proxy/http2 takes the same object).
 * `route`: timeout and retries; `guard`: the cluster's circuit breakers, retry budget and outlier
 * detector; `repick`: another endpoint for a retry (avoiding `avoid`, `address:port` keys, when it can);
 * `delayMs`: an injected fault delay before the first attempt.
 */
export interface ExchangePolicy {
  route: RoutePolicy;
  guard?: ClusterGuard;
  repick?: (avoid: readonly string[]) => Upstream | null;
  delayMs?: number;
  /** Mirror copies: sent once the request body is complete and kept (≤ 64 KiB), Host suffixed `-shadow`, answers ignored. */
  mirrors?: Upstream[];
}

/** How a forwarded exchange ended (metrics, access log). */
export interface ExchangeEnd {
  /** Status sent downstream (0: none). */
  status: number;
  /** Envoy's response flags (`-`, `UF`, `URX`, `UT`, `UO`, `UC`, `UPE`, `DC`, `DI`, combined with commas). */
  flags: string;
  attempts: number;
  /** `address:port` of the last attempt ('' when none was made). */
  upstream: string;
  /** Milliseconds from the last attempt's start to its response head (-1: none). */
  upstreamMs: number;
  /** Request body bytes received from downstream; response bytes (head + body) sent downstream. */
  bytesReceived: number;
  bytesSent: number;
}
