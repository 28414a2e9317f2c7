// The sync client's vocabulary: what the editor hands in (ports) and what it gets back (status),
// and what the parts of one signed-in user's session share (SessionContext).
// The JavaScript modules are checked against these interfaces by `tsc --checkJs`.

/** A project as the editor keeps it in its local store. `data` is the full payload. */
export interface LocalProject {
  id: string;
  name: string;
  data: unknown;
}

/** A project as the server returns it from GET /api/projects/{id} or inside a 409. */
export interface ServerProject extends LocalProject {
  revision: number;
  updatedAt: string;
  deletedAt: string | null;
}

/**
 * One page of GET /api/changes: the user's projects that changed after the cursor asked with, in
 * change order (a tombstone has `deletedAt` set and `data` null), and the cursor to continue from.
 * The same project may come again in a later page with a newer revision.
 */
export interface ChangesPage {
  changes: ServerProject[];
  cursor: string;
  more: boolean;
}

/** The feed cannot continue from the cursor (410 past the tombstone purge horizon, or 400): list from scratch. */
export interface CursorExpired {
  kind: 'cursor-expired';
}

/** One item of POST /api/changes: a write exactly as PUT or DELETE of the project would carry it. */
export type ChangeItem =
  | { id: string; name: string; data: unknown; baseRevision: number; writeId: string; clientUpdatedAt: string }
  | { id: string; deleted: true; baseRevision: number; writeId: string };

/** Port: the media this device keeps, looked up by OPFS path (`/media/3f0c9b2e.png`). */
export interface LocalMedia {
  has(path: string): Promise<boolean>;
}

/** A media reference of a project's data whose file this device does not have. */
export interface MissingMedia {
  /** As `data` stores it: `opfs:/media/3f0c9b2e.png`. */
  reference: string;
  /** The OPFS path it names: `/media/3f0c9b2e.png`. */
  path: string;
}

export interface SignedInUser {
  id: string;
  email?: string;
  name?: string;
}

/** Port: the editor's own local project store (IndexedDB in the demo). */
export interface LocalProjectStore {
  list(): Promise<LocalProject[]>;
  get(id: string): Promise<LocalProject | undefined>;
  put(project: LocalProject): Promise<void>;
  remove(id: string): Promise<void>;
  /**
   * Optional: stores and removes many projects in one transaction (a page of server changes).
   * Without it the engine writes them one by one with `put` and `remove`.
   */
  writeBatch?(batch: { put: LocalProject[]; remove: string[] }): Promise<void>;
  /** Optional: the stored projects' ids alone. Without it the claim at sign-in reads them with `list`. */
  ids?(): Promise<string[]>;
}

/**
 * A write that was sent (or is about to be) and whose answer has not been recorded yet. It is kept
 * until answered, and a retry sends exactly this body with the same writeId, so a write whose
 * response was lost is recognised by the server instead of turning into a conflict.
 */
export type PendingWrite =
  | {
      kind: 'put'; writeId: string; change: number; baseRevision: number; name: string; data: unknown; clientUpdatedAt: string;
      /** "Take theirs" keeps this device's copy in the project's history with it; the server copy follows. */
      keptForHistory?: boolean;
    }
  | { kind: 'delete'; writeId: string; change: number; baseRevision: number };

/** A queued project: it has local edits the server has not accepted yet. */
export interface QueueEntry {
  projectId: string;
  enqueuedAt: number;
  /** Bumped on every enqueue; a push only dequeues when no edit came after its snapshot. */
  change: number;
  write?: PendingWrite;
}

export interface SyncErrorRecord {
  projectId: string;
  /** `conflict` waits for the user; `error` (a rejected write) waits for the next edit. */
  kind: 'conflict' | 'error';
  message: string;
  at: number;
  /** For conflicts: the server copy "Take theirs" would keep. */
  server?: ServerCopy;
}

/**
 * A server copy as a conflict shows it. `updatedAt` is missing when the copy is the one a pull
 * stored here (an edit based on it was committed after sync replaced the editor's copy).
 */
export type ServerCopy = Omit<ServerProject, 'updatedAt'> & { updatedAt?: string };

export interface FeedPosition {
  /** The cursor the next page is asked with; missing until a listing from scratch has its first page. */
  cursor?: string;
  /**
   * During a listing from scratch: projects synced here before it began, with the revision they had
   * then, that no page has listed yet. Those still unlisted at its end were deleted on the server.
   */
  unlisted?: Record<string, number>;
}

export interface AppliedFeedPage {
  /** Server copies taken (stored here): synced at these revisions, nothing queued, parked or owed. */
  accepted: Array<{ projectId: string; revision: number }>;
  /** Gone on the server and removed here: every trace goes. */
  forgotten: string[];
  /** Skipped for an editor's uncommitted typing. */
  owed: string[];
  position: FeedPosition;
}

/** Port: sync metadata of one signed-in user on this device (its own IndexedDB database). */
export interface SyncMetadata {
  readonly userId: string;
  lastSyncedRevision(projectId: string): Promise<number>;
  lastSyncedRevisions(): Promise<Map<string, number>>;
  setLastSyncedRevision(projectId: string, revision: number): Promise<void>;
  queue(): Promise<QueueEntry[]>;
  /** The queued projects' ids alone: a queue entry holds its pending write, data and all. */
  queuedIds(): Promise<string[]>;
  queueEntry(projectId: string): Promise<QueueEntry | undefined>;
  /** Queues the projects (one transaction) and clears their `error` records, not conflicts. */
  enqueue(projectIds: string[], now: number): Promise<void>;
  /** Stores the write about to be sent; it stays until `finishWrite` or `abandonWrite`. */
  beginWrite(projectId: string, write: PendingWrite): Promise<void>;
  /** `beginWrite` for many projects, in one transaction. */
  beginWrites(writes: Array<{ projectId: string; write: PendingWrite }>): Promise<void>;
  /** Records the accepted revision; dequeues unless an edit arrived after `change`. Returns whether it dequeued. */
  finishWrite(projectId: string, change: number, revision: number): Promise<boolean>;
  /** `finishWrite` for many projects, in one transaction; whether each dequeued. */
  finishWrites(answers: Array<{ projectId: string; change: number; revision: number }>): Promise<boolean[]>;
  /** What a push needs of each project, read together: its queue entry, its error record, the revision last synced (0: none). */
  pushStates(projectIds: string[]): Promise<Array<{ entry?: QueueEntry; error?: SyncErrorRecord; lastSyncedRevision: number }>>;
  /** Forgets the pending write (its answer is known and was not a success). */
  abandonWrite(projectId: string): Promise<void>;
  /** Drops the queue entry, the error and records `revision` as synced (the server copy was taken). */
  acceptServer(projectId: string, revision: number): Promise<void>;
  /** Drops every trace of a project that is gone on the server and here, so tombstones do not pile up. */
  forget(projectId: string): Promise<void>;
  /** Where this device is in the changes feed (nothing yet: list from scratch). */
  feedPosition(): Promise<FeedPosition>;
  /** What one applied page of the feed changed here, and the position after it, in one transaction. */
  recordFeedPage(page: AppliedFeedPage): Promise<void>;
  /** Projects the feed moved past while an editor held typing on them, to pull one by one. */
  owedPulls(): Promise<string[]>;
  /** The project no longer needs its owed pull (queued: the push decides). */
  dropOwedPull(projectId: string): Promise<void>;
  errors(): Promise<SyncErrorRecord[]>;
  error(projectId: string): Promise<SyncErrorRecord | undefined>;
  setError(record: SyncErrorRecord): Promise<void>;
  clearError(projectId: string): Promise<void>;
  close(): void;
}

/** What this browser knows about each local project's account, shared by every user of it. */
export interface DeviceProjectRecord {
  projectId: string;
  /** The account the project was claimed by or pulled for; null while nobody claimed it. */
  ownerId: string | null;
  /** Edited while no one (or another account) was signed in: push it when its owner signs in. */
  editedWithoutSession: boolean;
  /** Moved by every write of the local copy through the engine; 0 for a record older than versions. */
  localVersion?: number;
}

/** Port: the device-wide table of project owners. */
export interface DeviceProjects {
  all(): Promise<Map<string, DeviceProjectRecord>>;
  get(projectId: string): Promise<DeviceProjectRecord | undefined>;
  /** Local projects that belong to another account of this browser: never claimed, pulled over or pushed for `userId`. */
  projectsOfOtherAccounts(userId: string): Promise<Set<string>>;
  /** Marks the projects as owned by `userId` and clears their `editedWithoutSession` flag. */
  claim(projectIds: string[], userId: string): Promise<void>;
  markEditedWithoutSession(projectId: string): Promise<void>;
  /** The local copy's version (0 when the project is not known here). */
  version(projectId: string): Promise<number>;
  /** Moves the version before the engine writes the local copy; returns the new one. */
  bumpVersion(projectId: string, now: number): Promise<number>;
  /** Before server copies replace the local ones: moves their versions and claims them for `userId`, in one transaction. */
  bumpVersionsAndClaim(projectIds: string[], userId: string, now: number): Promise<void>;
  /** Drops the records, versions included: a later copy starts above the clock. */
  forget(projectIds: string[]): Promise<void>;
  close(): void;
}

export type TransportOutcome<T> =
  | { kind: 'ok'; body: T }
  | { kind: 'conflict'; server: ServerProject }
  | { kind: 'not-found' }
  /** `status` is missing when no HTTP answer came (offline, unreachable, not this API's answer). */
  | { kind: 'retry'; status?: number; retryAfterSeconds?: number; message: string }
  | { kind: 'unauthorized'; message: string }
  | { kind: 'rejected'; status: number; message: string };

export interface WriteAccepted {
  id: string;
  revision: number;
  updatedAt: string;
}

export interface PutRequest {
  name: string;
  data: unknown;
  baseRevision: number;
  writeId: string;
  clientUpdatedAt: string;
}

/** Port: the server API. The fetch adapter maps HTTP statuses to outcomes in one place. */
export interface SyncTransport {
  /** A page of the changes feed after `since`; without it, every live project (the listing from scratch). */
  listChanges(since: string | undefined): Promise<TransportOutcome<ChangesPage> | CursorExpired>;
  /**
   * Many writes in one request. `ok` carries each item's own outcome, in request order, exactly as
   * its PUT or DELETE would have answered; any other outcome concerns the request as a whole.
   */
  pushChanges(items: ChangeItem[]): Promise<TransportOutcome<TransportOutcome<WriteAccepted>[]>>;
  getProject(id: string): Promise<TransportOutcome<ServerProject>>;
  putProject(id: string, request: PutRequest): Promise<TransportOutcome<WriteAccepted>>;
  deleteProject(id: string, baseRevision: number): Promise<TransportOutcome<WriteAccepted>>;
  /** GET /api/projects: the user's projects without their data, newest first; tombstones too when asked. */
  listProjects(options: { includeDeleted: boolean }): Promise<TransportOutcome<ProjectSummary[]>>;
  /** GET /api/projects/{id}/revisions: the revisions the server keeps, newest (the current one) first. */
  listRevisions(id: string): Promise<TransportOutcome<RevisionSummary[]>>;
  /** GET /api/projects/{id}/revisions/{revision}: one kept revision with its data. */
  getRevision(id: string, revision: number): Promise<TransportOutcome<ServerProject>>;
}

/** A project in GET /api/projects: no data. */
export type ProjectSummary = Omit<ServerProject, 'data'>;

/** One revision of a project's history as GET /api/projects/{id}/revisions lists it. */
export interface RevisionSummary {
  revision: number;
  name: string;
  updatedAt: string;
  /** Set on a deletion's revision (a tombstone, `bytes` 0). */
  deletedAt: string | null;
  /** The size of the revision's stored data. */
  bytes: number;
}

/** A project deleted on the server whose history is still kept: `restoreDeleted` brings it back. */
export interface DeletedProject {
  id: string;
  name: string;
  /** The tombstone's revision. */
  revision: number;
  deletedAt: string;
}

/**
 * Why a history call (listing, reading or restoring revisions, recently deleted) could not be
 * answered: `signed-out` (no session here, or it ended), `offline` (or the server failed; try
 * again), `not-found` (not this account's project or revision, or no longer kept), `rejected`.
 */
export type HistoryFailure = 'signed-out' | 'offline' | 'not-found' | 'rejected';

/** Port: coordination between the tabs of one browser. */
export interface TabCoordination {
  /** Calls `lead` once this tab holds the sync lock for `userId`; the returned function gives it up. */
  leadFor(userId: string, lead: () => void): () => void;
  /** Runs `work` while holding this project's lock in every tab, so a pull never overwrites a save. */
  withProjectLock<T>(projectId: string, work: () => Promise<T>): Promise<T>;
  /** An editor in this tab has typing on the project that is not committed yet; the returned function ends it. */
  holdTyping(projectId: string): () => void;
  /** Whether an editor in any tab holds uncommitted typing on the project (pulls then wait). */
  isTyping(projectId: string): Promise<boolean>;
  /** Optional: `withProjectLock` for many projects at once (ids sorted, distinct); without it they are taken one by one. */
  withProjectLocks?<T>(projectIds: string[], work: () => Promise<T>): Promise<T>;
  /** Optional: `isTyping` for many projects in one question; those typed on. */
  typingAmong?(projectIds: string[]): Promise<Set<string>>;
  post(message: TabMessage): void;
  onMessage(listener: (message: TabMessage) => void): void;
  close(): void;
}

export type TabMessage =
  | { type: 'status'; status: SyncStatus }
  | { type: 'status-request'; userId: string }
  | { type: 'queued'; userId: string }
  | { type: 'sync-now'; userId: string; overrideBackoff: boolean }
  | { type: 'typing-ended'; userId: string; projectId: string }
  | { type: 'local-change'; projectIds: string[] }
  | { type: 'user'; user: SignedInUser | null };

export type OverallState = 'saved-locally' | 'syncing' | 'synced' | 'error';
/**
 * - `pending`: local edits not on the server yet;
 * - `conflict`: waits for the user's choice (keep mine / take theirs);
 * - `error`: the server refused the write as it is; the next edit tries again;
 * - `retrying`: this project's pushes fail on the server's side; it retries on its own;
 * - `changed-on-server`: a newer server copy waits until the open editor commits its typing;
 * - `other-account`: edited here, belongs to another account of this browser.
 */
export type ProjectState = 'pending' | 'conflict' | 'error' | 'retrying' | 'changed-on-server' | 'other-account';

export interface ProjectStatus {
  state: ProjectState;
  message?: string;
  server?: ServerCopy;
}

export interface SyncStatus {
  state: OverallState;
  /** The badge text: "Saved locally", "Syncing", "Synced" or "Sync error". */
  label: string;
  /** Why, when it is not plain, as a sentence: "The server is unavailable for a moment, retrying in 2s". */
  detail?: string;
  /** The session ended (a 401): sync resumes after the user signs in again; queued edits wait. */
  signInRequired?: boolean;
  userId: string | null;
  /** Only projects that are not synced appear here. */
  projects: Record<string, ProjectStatus>;
}

export interface SyncEvents {
  status: SyncStatus;
  /**
   * The engine changed these projects in the local store (pulled, removed a tombstone, took
   * theirs, kept both, restored; a page of the changes feed comes as one event): re-read them.
   */
  'local-change': { projectIds: string[] };
}

export interface Timers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The browser events the engine listens to; `window` and `document` in a page. */
export interface BrowserSignals {
  window?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  document?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> & { visibilityState?: string };
}

export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

/**
 * The editor's way to the Better Auth session token: the signed value of the bearer plugin's
 * `set-auth-token` header (the raw `session.token` of `authClient.getSession()` works only where the
 * API allows unsigned tokens). Called before each request with `refresh: false` (a kept token is
 * fine), and once with `refresh: true` after a 401 (ask Better Auth again). Nothing (null,
 * undefined, '') means the session ended: sync waits for the next sign-in, queued edits are kept.
 */
export type SessionTokenSource = (request: { refresh: boolean }) => string | null | undefined | Promise<string | null | undefined>;

/**
 * How requests carry the session.
 * - `cookie`: the Better Auth cookie, sent by the browser: `same-origin` (the default) when the API is
 *   served from the editor's origin, `include` for an API on a subdomain of the editor's site
 *   (`api.<editor's domain>`, with Better Auth's cross-subdomain cookie);
 * - `bearer`: `Authorization: Bearer <token>` on every call, no cookies: an API on any origin.
 */
export type SessionAuth =
  | { mode: 'cookie'; credentials?: 'same-origin' | 'include' }
  | { mode: 'bearer'; sessionToken: SessionTokenSource };

export interface SyncEngineOptions {
  /** The editor's local project store. */
  localStore: LocalProjectStore;
  /** The server API; built from `fetch` and `baseUrl` when left out. */
  transport?: SyncTransport;
  fetch?: typeof fetch;
  /** The API's origin (and path prefix), e.g. `https://api.appframes.app`; '' for the page's own origin. */
  baseUrl?: string;
  /** How requests carry the session; the same-origin cookie when left out. */
  auth?: SessionAuth;
  /** Where sync metadata lives; `globalThis.indexedDB` when left out. */
  indexedDB?: IDBFactory;
  /** Tab coordination; Web Locks + BroadcastChannel when the browser has them, else this tab alone. */
  tabs?: TabCoordination;
  /** Browser events (online, visibility, beforeunload); the page's window/document when left out. */
  signals?: BrowserSignals;
  newWriteId?: () => string;
  /** Ids for conflicted copies; `crypto.randomUUID()` when left out. */
  newProjectId?: () => string;
  timers?: Timers;
  random?: () => number;
  /** How long edits coalesce before a push starts. */
  debounceMs?: number;
  /** How often the syncing tab asks the changes feed while signed in; 0 turns polling off. */
  pollMs?: number;
  /** How many projects are pushed or pulled at once. */
  concurrency?: number;
  backoff?: BackoffSettings;
}

/**
 * An editor's hold on one open project. The editor shows `project`, calls `edited()` on every
 * change the user makes, and `commit()` after a pause in typing (not on every keystroke). Commits
 * are based on the copy the session loaded (or last committed or reloaded): if sync replaced that
 * copy underneath the editor, the commit becomes a conflict (or, for another tab's unsynced edit,
 * keeps that edit as a conflicted copy) instead of overwriting it. While typing is uncommitted,
 * pulls of the project wait, and its status says `changed-on-server`.
 */
export interface EditingSession {
  readonly projectId: string;
  /**
   * Resolves with the stored copy once it is read (undefined: not stored here). Show this copy:
   * commits are based on it. Commits asked for earlier wait for it.
   */
  readonly ready: Promise<LocalProject | undefined>;
  /** The copy commits are based on: the loaded one, then the last committed or reloaded one. */
  readonly project: LocalProject | undefined;
  /** The user changed something that is not committed yet. */
  edited(): void;
  /** Saves the editor's copy locally and queues it; resolves once it is stored. */
  commit(change: { name: string; data: unknown }): Promise<void>;
  /**
   * Re-reads the stored copy (after a `local-change` while nothing is uncommitted) and bases later
   * commits on it; show the copy it resolves with. Resolves with undefined, and keeps the old base,
   * when the user edited after `reload()` was called (or the project is no longer stored).
   */
  reload(): Promise<LocalProject | undefined>;
  /** The editor closed the project; typing still uncommitted no longer holds pulls back. */
  close(): void;
}

export interface SyncEngine {
  /** Who is signed in (null after sign-out). Claims and merges on sign-in, pauses on sign-out. */
  setUser(user: SignedInUser | null): Promise<void>;
  /** Opens a project for editing: what an editor that shows a project uses to commit to it. */
  openProject(projectId: string): EditingSession;
  /**
   * Saves a project into the local store and queues it, under the project's lock. Without
   * `baseVersion` it replaces whatever is stored (a new project, an import); with the version an
   * earlier save returned it is a commit on top of that copy, as `EditingSession.commit`.
   */
  saveProject(project: LocalProject, options?: { baseVersion?: number }): Promise<{ version: number }>;
  /** Removes the project locally and queues its deletion (a tombstone on the server). */
  deleteProject(projectId: string): Promise<void>;
  /** Queues a project the editor saved (or removed) in its local store itself. */
  enqueue(projectId: string): Promise<void>;
  /** Asks the changes feed and pushes the queue now. */
  syncNow(): void;
  /** Conflict choice: push this device's copy over the server copy. */
  keepMine(projectId: string): Promise<void>;
  /** Conflict choice: take the server copy; this device's copy is written to the project's history first. */
  takeTheirs(projectId: string): Promise<void>;
  /**
   * Conflict choice: this device's copy becomes a new project, "<name> (conflicted copy, <date>)",
   * and the project takes the server copy. Resolves with the copy's id (undefined when the
   * conflict was already answered, or this device had no copy).
   */
  keepBoth(projectId: string): Promise<string | undefined>;
  /**
   * The project's history on the server, newest (the current revision) first. Needs the network
   * and a session: rejects with a `HistoryError` otherwise.
   */
  listRevisions(projectId: string): Promise<RevisionSummary[]>;
  /** One kept revision with its data; rejects with a `HistoryError`. */
  getRevision(projectId: string, revision: number): Promise<ServerProject>;
  /**
   * Brings back an old revision's name and data as a new local commit on top of the current
   * server revision: shown at once, pushed through the queue, itself undoable from history.
   * Edits of this device not synced yet are kept first as a conflicted copy (a project of its
   * own). Reading the revision needs the network: rejects with a `HistoryError` otherwise.
   */
  restoreRevision(projectId: string, revision: number): Promise<void>;
  /** Projects deleted on the server (tombstones not purged yet), newest deletion first; rejects with a `HistoryError`. */
  listRecentlyDeleted(): Promise<DeletedProject[]>;
  /** Brings a deleted project back with its newest revision that had data, as `restoreRevision`. */
  restoreDeleted(projectId: string): Promise<void>;
  status(): SyncStatus;
  hasUnsyncedEdits(): boolean;
  on<K extends keyof SyncEvents>(event: K, listener: (payload: SyncEvents[K]) => void): () => void;
  /** Resolves once nothing is being synced and nothing is scheduled (polling aside). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** A project backing off alone after a server error of its own. */
export interface ProjectRetry {
  projectId: string;
  failures: number;
  dueAt: number;
  /** What failed, with when it is tried again. */
  message: string;
}

/** Projects whose own pushes fail on the server's side, each backing off on its own schedule. */
export interface ProjectRetries {
  /** Its next attempt is not due yet. */
  isWaiting(projectId: string): boolean;
  /** It is backing off: its attempts go alone, not in a batch. */
  hasFailed(projectId: string): boolean;
  failed(projectId: string, failure: { message: string; retryAfterSeconds?: number }): void;
  /** The server answered this project's request for good (accepted, conflict, refused). */
  answered(projectId: string): void;
  /** Forgets projects no longer queued (synced by another tab, deleted). */
  keepQueued(queuedIds: Set<string>): void;
  /** The next attempt to schedule; a retry already in flight has none. */
  nextDueAt(inFlight: Set<string>): number | undefined;
  all(): ProjectRetry[];
}

export interface SessionSettings {
  debounceMs: number;
  pollMs: number;
  concurrency: number;
  backoff: BackoffSettings;
}

/**
 * What every part of one signed-in user's session works with. The parts (claim, merge, push,
 * conflict choices, status) are plain functions of this context, so each can be read on its own.
 */
export interface SessionContext {
  user: SignedInUser;
  /** This user's queue, revisions and errors. */
  metadata: SyncMetadata;
  /** Who owns each local project of this browser, and each local copy's version. */
  device: DeviceProjects;
  localStore: LocalProjectStore;
  transport: SyncTransport;
  tabs: TabCoordination;
  timers: Timers;
  settings: SessionSettings;
  newWriteId: () => string;
  /** The engine changed these projects in the local store. */
  publishLocalChange: (projectIds: string[]) => void;
  /** Something the status shows changed. */
  statusChanged: () => void;
  /** The user signed out or the page closes: start nothing new. */
  isStopped: () => boolean;
  /** Keeps a copy of a project as a new project, "<name> (conflicted copy, <date>)"; resolves with its id. */
  keepConflictedCopy: (project: LocalProject) => Promise<string>;
  /** push-queue.js's: projects with a request in flight, at most one each. */
  inFlight: Set<string>;
  /** Projects backing off alone after a server error of their own. */
  projectRetries: ProjectRetries;
  /** Owed pulls the last merge held back because an editor was typing on them. */
  heldPulls: Set<string>;
}
