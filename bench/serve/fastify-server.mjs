// Peer for bench/serve: fastify + @fastify/static in its default mode.
import Fastify from 'fastify';
import fastifyStatic from '@fastify/static';

const [root, port] = process.argv.slice(2);
const app = Fastify({ logger: false });
await app.register(fastifyStatic, { root, prefix: '/' });
await app.listen({ port: Number(port), host: '127.0.0.1' });
console.log('ready');
