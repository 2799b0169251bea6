/**
 * Write routing in cluster mode: a write for an owner whose partition another node leads is
 * relayed to that node as a stream (the body is piped, never buffered), with the client's
 * headers (Authorization included) and `X-Warden-Forwarded: <this node>`. A request that was
 * already forwarded is never forwarded again, so loops are impossible: the receiver either
 * applies it or answers 503 with `Retry-After`.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Exchange } from './context.js';
import { continueIfExpected, drainUnwantedBody, sendError } from './respond.js';

/** Header naming the node that forwarded a write. */
export const FORWARDED_HEADER = 'x-warden-forwarded';

/** Where a write for an owner goes, as decided by the cluster. */
export type WriteRoute =
  | { readonly kind: 'local' }
  | { readonly kind: 'forward'; readonly leader: string; readonly url: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

/** Decides the route of a write for `owner` (cluster mode); absent = always local. */
export type WriteRouter = (owner: string) => WriteRoute;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'expect', 'host']);

function copyHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/** Answers a retryable 503 for a write that cannot be routed now. */
export function sendNoLeader(ex: Exchange, message: string): void {
  drainUnwantedBody(ex.req);
  sendError(ex.res, 'WARDEN_ERR_HTTP_NO_LEADER', message, { 'Retry-After': '1' });
}

/** Options of {@link Forwarder}. */
export interface ForwarderOptions {
  /** This node's id, sent in `X-Warden-Forwarded`. */
  nodeId: string;
  /** Longest wait for the leader's response headers after the body was sent, in ms. Default 60_000. */
  responseTimeoutMs?: number;
}

/** Relays writes to partition leaders over pooled keep-alive connections. */
export class Forwarder {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256 });
  readonly #nodeId: string;
  readonly #responseTimeoutMs: number;

  /** Creates a forwarder for this node. */
  constructor(options: ForwarderOptions) {
    this.#nodeId = options.nodeId;
    this.#responseTimeoutMs = options.responseTimeoutMs ?? 60_000;
  }

  /**
   * Relays the request to `baseUrl` and the answer back. Resolves once the answer was
   * relayed or a 503 was sent; any failure before the leader's answer is a retryable 503
   * (the leader commits only a complete body, so nothing partial is left).
   */
  relay(ex: Exchange, baseUrl: string, leader: string): Promise<void> {
    const { req, res } = ex;
    const target = new URL(req.url ?? '/', baseUrl);
    const headers = copyHeaders(req.headers);
    headers[FORWARDED_HEADER] = this.#nodeId;
    headers['x-request-id'] = ex.id;
    return new Promise<void>((resolve) => {
      let settled = false;
      const done = (): void => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      const failed = (error: Error): void => {
        if (settled) return;
        ex.log.warn({ reqId: ex.id, leader, err: { message: error.message, code: (error as NodeJS.ErrnoException).code } }, 'forward failed');
        if (!res.headersSent) {
          drainUnwantedBody(req);
          sendError(res, 'WARDEN_ERR_HTTP_FORWARD_FAILED', `forwarding to leader ${leader} failed: ${error.message}`, { 'Retry-After': '1' });
        } else {
          res.destroy();
        }
        done();
      };
      const out = httpRequest(target, { method: req.method ?? 'PUT', headers, agent: this.#agent }, (answer: IncomingMessage) => {
        out.setTimeout(0);
        res.writeHead(answer.statusCode ?? 502, copyHeaders(answer.headers));
        answer.pipe(res);
        answer.once('error', (e) => failed(e));
        res.once('close', () => {
          if (!answer.complete) answer.destroy();
          done();
        });
        answer.once('end', () => done());
      });
      out.setTimeout(this.#responseTimeoutMs, () => out.destroy(new Error(`no answer from leader within ${this.#responseTimeoutMs} ms`)));
      out.once('error', failed);
      // The client stopping mid-upload must stop the upload to the leader too (it then keeps nothing).
      req.once('aborted', () => out.destroy(new Error('client aborted the upload')));
      req.once('error', (e) => out.destroy(e));
      continueIfExpected(req, res);
      req.pipe(out);
    });
  }

  /** Closes pooled connections. */
  close(): void {
    this.#agent.destroy();
  }
}
