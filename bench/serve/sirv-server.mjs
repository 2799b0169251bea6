// Peer for bench/serve: sirv (production mode: stats cached at start, etag on) over node:http.
import { createServer } from 'node:http';
import sirv from 'sirv';

const [root, port] = process.argv.slice(2);
const handler = sirv(root, { etag: true, dev: false, dotfiles: false });
createServer((req, res) => handler(req, res, () => { res.statusCode = 404; res.end(); })).listen(Number(port), '127.0.0.1', () => console.log('ready'));
