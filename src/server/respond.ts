/** Small response helpers shared by the routes. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { statusForCode } from './errors.js';

/** Sends a JSON body with the given status and extra headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** Sends `{"error": {"code", "message"}}` with the status the code maps to. */
export function sendError(res: ServerResponse, code: string, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  (res as ServerResponse & { wardenErrorCode?: string }).wardenErrorCode = code;
  sendJson(res, statusForCode(code), { error: { code, message } }, headers);
}

/** Returns the error code recorded by {@link sendError}, if any. */
export function errorCodeOf(res: ServerResponse): string | undefined {
  return (res as ServerResponse & { wardenErrorCode?: string }).wardenErrorCode;
}

/** How long the rest of an unwanted request body is read and dropped, in ms. */
export const LINGER_MS = 2000;

/**
 * Lets the client finish sending a body the server will not use (413, 401, 400 mid-upload):
 * the rest is read and dropped, so the connection can be reused and — above all — closing it
 * with unread data does not reset it before the client has read the answer. A client still
 * sending after `ms` is cut off.
 */
export function drainUnwantedBody(req: IncomingMessage, ms: number = LINGER_MS): void {
  if (req.complete || req.destroyed) return;
  const timer = setTimeout(() => req.socket.destroy(), ms);
  timer.unref();
  const stop = (): void => clearTimeout(timer);
  req.once('end', stop);
  req.once('close', stop);
  req.resume();
}

/** Sends `100 Continue` if the client asked for it (call once the body is wanted). */
export function continueIfExpected(req: IncomingMessage, res: ServerResponse): void {
  const flagged = req as IncomingMessage & { wardenExpectsContinue?: boolean };
  if (flagged.wardenExpectsContinue) {
    flagged.wardenExpectsContinue = false;
    res.writeContinue();
  }
}
