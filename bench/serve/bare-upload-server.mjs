// Peer for the publish figure of bench/serve: the least a Node server can do for a durable,
// hashed upload — node:http, the body piped into a new file while SHA-256 is computed on the
// event loop, fsync, rename, fsync of the directory. No auth, no names, no metadata, no limits.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:http';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const [dir, port] = process.argv.slice(2);
createServer(async (req, res) => {
  if (req.method === 'GET') return res.end('ready');
  const name = new URL(req.url, 'http://x').pathname.split('/').pop();
  if (req.method === 'DELETE') {
    await unlink(join(dir, name));
    return res.writeHead(204).end();
  }
  const temp = join(dir, `.${randomBytes(8).toString('hex')}`);
  const hash = createHash('sha256');
  req.on('data', (chunk) => hash.update(chunk));
  await pipeline(req, createWriteStream(temp, { flags: 'wx', mode: 0o444 }));
  const file = await open(temp, 'r'); // fsync is per file, any descriptor will do
  await file.sync();
  await file.close();
  await rename(temp, join(dir, name));
  const parent = await open(dir, 'r');
  await parent.sync();
  await parent.close();
  res.writeHead(201, { etag: `"${hash.digest('hex')}"` }).end();
}).listen(Number(port), '127.0.0.1', () => console.log('ready'));
