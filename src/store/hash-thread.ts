/**
 * Body of a hash thread (see `hash-offload.ts`): keeps one SHA-256 state per upload id and
 * answers in order, so an upload's bytes are hashed exactly in the order they were written.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { HashReply, HashRequest } from './hash-protocol.js';

const states = new Map<number, Hash>();
const port = parentPort;
if (port === null) throw new Error('hash-thread.js runs only as a worker thread');

port.on('message', (request: HashRequest) => {
  const { id } = request;
  if (request.kind === 'update') {
    let state = states.get(id);
    if (state === undefined) {
      state = createHash('sha256');
      states.set(id, state);
    }
    state.update(new Uint8Array(request.bytes));
    const reply: HashReply = { kind: 'hashed', id, bytes: request.bytes.byteLength };
    port.postMessage(reply);
  } else if (request.kind === 'digest') {
    const digest = (states.get(id) ?? createHash('sha256')).digest('hex');
    states.delete(id);
    const reply: HashReply = { kind: 'digest', id, digest };
    port.postMessage(reply);
  } else {
    states.delete(id);
  }
});
