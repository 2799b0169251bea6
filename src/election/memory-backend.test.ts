import { describe } from 'node:test';
import { registerBackendContract } from './backend-contract.js';
import { createMemoryBackend } from './memory-backend.js';

describe('memory backend contract', () => {
  const backend = createMemoryBackend();
  registerBackendContract(() => backend, { ttlMs: 2_000 });
});
