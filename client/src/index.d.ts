// Public types of the AppFrames sync client, for the editor's TypeScript.
// The implementation (index.js and the modules it re-exports) is checked against sync-types.d.ts.
import type {
  HistoryFailure,
  LocalMedia,
  LocalProjectStore,
  MissingMedia,
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
  DeletedProject,
  EditingSession,
  HistoryFailure,
  LocalMedia,
  LocalProject,
  LocalProjectStore,
  MissingMedia,
  OverallState,
  ProjectState,
  ProjectStatus,
  ProjectSummary,
  PutRequest,
  RevisionSummary,
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

/** Why a history call of the engine failed: `failure` for the code, `message` for the user. */
export declare class HistoryError extends Error {
  readonly failure: HistoryFailure;
  constructor(failure: HistoryFailure, message: string);
}

/** Creates the engine; call `setUser` with the signed-in user (or null) to start or pause sync. */
export declare function createSyncEngine(options: SyncEngineOptions): SyncEngine;

/** The server API over fetch: the Better Auth cookie of the page's origin unless `auth` says otherwise. */
/** `compressFromBytes`: bodies this long or longer are sent gzip-encoded where CompressionStream exists (8 KiB by default). */
export declare function createHttpTransport(options?: { baseUrl?: string; fetch?: typeof fetch; auth?: SessionAuth; compressFromBytes?: number }): SyncTransport;

/** A local project store in IndexedDB (what the demo editor uses). */
export declare function openIndexedDbProjectStore(options: {
  indexedDB: IDBFactory;
  name?: string;
}): Promise<LocalProjectStore & { close(): void }>;

/** Tab coordination for a page alone (no Web Locks): it always syncs. */
export declare function createSingleTabCoordination(): TabCoordination;

/**
 * The media references of a project's data (`opfs:/media/…` strings, at any depth) whose file
 * `localMedia` lacks, each once, in the order they appear: show a placeholder for each.
 */
export declare function listMissingMedia(data: unknown, localMedia: LocalMedia): Promise<MissingMedia[]>;

/** A copy of `data` with every `from` reference turned into `to` (a replacement); `data` is left as it was. */
export declare function replaceMediaReference<T>(data: T, from: string, to: string): T;

/** The reference `data` stores for the OPFS file at `path` (absolute): `opfs:/media/3f0c9b2e.png`. */
export declare function mediaReference(path: string): string;

/** The OPFS path a media reference names; undefined for any other value. */
export declare function mediaPath(value: unknown): string | undefined;
