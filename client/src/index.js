// The sync client's public surface. Types for TypeScript callers are in index.d.ts.
export { createSyncEngine } from './engine.js';
export { HistoryError } from './history.js';
export { createHttpTransport } from './adapters/http-transport.js';
export { openIndexedDbProjectStore } from './adapters/local-project-store.js';
export { createSingleTabCoordination } from './adapters/tabs.js';
export { listMissingMedia, mediaPath, mediaReference, replaceMediaReference } from './media.js';
