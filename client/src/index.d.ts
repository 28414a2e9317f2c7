// Public types of the AppFrames sync client, for the editor's TypeScript.
// The implementation (index.js and the modules it re-exports) is checked against sync-types.d.ts.
import type {
  LocalProjectStore,
  SessionAuth,
  SyncEngine,
  SyncEngineOptions,
  SyncTransport,
  TabCoordination,
} from './sync-types.js';

export type {
  BackoffSettings,
  BrowserSignals,
  ChangeItem,
  ChangesPage,
  CursorExpired,
  EditingSession,
  LocalProject,
  LocalProjectStore,
  OverallState,
  ProjectState,
  ProjectStatus,
  PutRequest,
  ServerCopy,
  ServerProject,
  SessionAuth,
  SessionTokenSource,
  SignedInUser,
  SyncEngine,
  SyncEngineOptions,
  SyncEvents,
  SyncStatus,
  SyncTransport,
  TabCoordination,
  Timers,
  TransportOutcome,
  WriteAccepted,
} from './sync-types.js';

/** Creates the engine; call `setUser` with the signed-in user (or null) to start or pause sync. */
export declare function createSyncEngine(options: SyncEngineOptions): SyncEngine;

/** The server API over fetch: the Better Auth cookie of the page's origin unless `auth` says otherwise. */
export declare function createHttpTransport(options?: { baseUrl?: string; fetch?: typeof fetch; auth?: SessionAuth }): SyncTransport;

/** A local project store in IndexedDB (what the demo editor uses). */
export declare function openIndexedDbProjectStore(options: {
  indexedDB: IDBFactory;
  name?: string;
}): Promise<LocalProjectStore & { close(): void }>;

/** Tab coordination for a page alone (no Web Locks): it always syncs. */
export declare function createSingleTabCoordination(): TabCoordination;
