// Removes dist/ so a stale compiled test never runs after its source was deleted.
import { rmSync } from 'node:fs';
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
