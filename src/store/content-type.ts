const TYPES: Readonly<Record<string, string>> = {
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  json: 'application/json',
  xml: 'application/xml',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  csv: 'text/csv; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  tar: 'application/x-tar',
  wasm: 'application/wasm',
};

const SAFE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=("[^"\r\n\\]*"|[A-Za-z0-9!#$&^_.+-]+))*$/;

/**
 * Returns the Content-Type to store for an upload: the client's header when it is a
 * well-formed media type (and not the generic octet-stream), else a guess from the file
 * names, else `application/octet-stream`.
 */
export function chooseContentType(header: string | undefined, ...names: string[]): string {
  if (header !== undefined && header.length <= 200 && SAFE.test(header.trim()) && !/^application\/octet-stream\b/i.test(header.trim())) {
    return header.trim();
  }
  for (const name of names) {
    const dot = name.lastIndexOf('.');
    if (dot < 0) continue;
    const type = TYPES[name.slice(dot + 1).toLowerCase()];
    if (type) return type;
  }
  return 'application/octet-stream';
}

/** Returns true when `value` can be sent as a Content-Type header as is. */
export function isSafeContentType(value: string): boolean {
  return value.length <= 200 && SAFE.test(value);
}
