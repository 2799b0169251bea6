/** Prometheus metrics of one server instance (its own registry, so tests can run many). */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The metric handles the request handlers update. */
export interface ServerMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'route'>;
  readonly bytesIn: Counter;
  readonly bytesOut: Counter;
  readonly publishes: Counter<'result'>;
  readonly errors: Counter<'code'>;
  readonly cacheHits: Counter;
  readonly cacheMisses: Counter;
  readonly forwards: Counter;
}

/** Creates the metrics, with process default metrics, in a fresh registry. */
export function createMetrics(options: { defaultMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'warden_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({ name: 'warden_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers }),
    duration: new Histogram({
      name: 'warden_http_request_duration_seconds',
      help: 'time from request to response end, by route',
      labelNames: ['route'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
      registers,
    }),
    bytesIn: new Counter({ name: 'warden_http_bytes_in_total', help: 'request body bytes received for uploads', registers }),
    bytesOut: new Counter({ name: 'warden_http_bytes_out_total', help: 'response body bytes sent for file content', registers }),
    publishes: new Counter({ name: 'warden_publishes_total', help: 'publishes by result (created, identical, failed)', labelNames: ['result'], registers }),
    errors: new Counter({ name: 'warden_errors_total', help: 'error responses by code', labelNames: ['code'], registers }),
    cacheHits: new Counter({ name: 'warden_cache_hits_total', help: 'GET/HEAD answered from the memory cache', registers }),
    cacheMisses: new Counter({ name: 'warden_cache_misses_total', help: 'GET/HEAD that read the file system', registers }),
    forwards: new Counter({ name: 'warden_forwards_total', help: 'writes relayed to the partition leader (cluster mode)', registers }),
  };
}
