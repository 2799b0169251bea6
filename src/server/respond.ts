/** Small response helpers shared by the routes. */
import type { ServerResponse } from 'node:http';
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
