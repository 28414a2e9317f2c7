// What every part of one signed-in user's session works with. The parts (claim, merge, push,
// conflict choices, status) are plain functions of this context, so each can be read on its own.

/** @typedef {import('./sync-types.js').SignedInUser} SignedInUser */
/** @typedef {import('./sync-types.js').SyncMetadata} SyncMetadata */
/** @typedef {import('./sync-types.js').DeviceProjects} DeviceProjects */
/** @typedef {import('./sync-types.js').LocalProjectStore} LocalProjectStore */
/** @typedef {import('./sync-types.js').SyncTransport} SyncTransport */
/** @typedef {import('./sync-types.js').TabCoordination} TabCoordination */
/** @typedef {import('./sync-types.js').Timers} Timers */
/** @typedef {import('./sync-types.js').BackoffSettings} BackoffSettings */
/** @typedef {import('./project-retries.js').ProjectRetries} ProjectRetries */

/**
 * @typedef {object} SessionSettings
 * @property {number} debounceMs
 * @property {number} pollMs
 * @property {number} concurrency
 * @property {BackoffSettings} backoff
 */

/**
 * @typedef {object} SessionContext
 * @property {SignedInUser} user
 * @property {SyncMetadata} metadata this user's queue, revisions and errors
 * @property {DeviceProjects} device who owns each local project of this browser
 * @property {LocalProjectStore} localStore
 * @property {SyncTransport} transport
 * @property {TabCoordination} tabs
 * @property {Timers} timers
 * @property {SessionSettings} settings
 * @property {() => string} newWriteId
 * @property {(projectId: string) => void} publishLocalChange the engine changed the local store
 * @property {() => void} statusChanged something the status shows changed
 * @property {() => boolean} isStopped the user signed out or the page closes: start nothing new
 * @property {Set<string>} inFlight projects with a request in flight (at most one each)
 * @property {ProjectRetries} projectRetries projects backing off alone after a server error of their own
 * @property {Set<string>} heldPulls newer on the server, not pulled in the last merge because an editor was typing on them
 */

export {};
