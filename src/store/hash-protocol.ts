/** Messages between the store and its hash threads (`hash-offload.ts`, `hash-thread.ts`). */

/** Store → thread: add bytes to upload `id`, finish it, or forget it. */
export type HashRequest =
  | { readonly kind: 'update'; readonly id: number; readonly bytes: ArrayBuffer }
  | { readonly kind: 'digest'; readonly id: number }
  | { readonly kind: 'drop'; readonly id: number };

/** Thread → store: bytes hashed so far (for back-pressure), or the final hex digest. */
export type HashReply =
  | { readonly kind: 'hashed'; readonly id: number; readonly bytes: number }
  | { readonly kind: 'digest'; readonly id: number; readonly digest: string };
