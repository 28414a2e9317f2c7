// The browser events the engine reacts to: back online, tab visible again, page about to close.

/** @typedef {import('../sync-types.js').BrowserSignals} BrowserSignals */

/**
 * @param {BrowserSignals} signals
 * @param {{ online: () => void, visible: () => void, hasUnsyncedEdits: () => boolean }} reactions
 * @returns {() => void} removes the listeners
 */
export function listenToBrowser({ window: page, document: doc }, reactions) {
  const online = () => reactions.online();
  const visible = () => { if (doc?.visibilityState === 'visible') reactions.visible(); };
  /** @param {Event} event */
  const beforeUnload = (event) => {
    if (!reactions.hasUnsyncedEdits()) return;
    // Both forms, for the browsers that still only honour returnValue.
    event.preventDefault();
    /** @type {BeforeUnloadEvent} */ (event).returnValue = '';
  };
  page?.addEventListener('online', online);
  page?.addEventListener('beforeunload', beforeUnload);
  doc?.addEventListener('visibilitychange', visible);
  return () => {
    page?.removeEventListener('online', online);
    page?.removeEventListener('beforeunload', beforeUnload);
    doc?.removeEventListener('visibilitychange', visible);
  };
}

/** @returns {BrowserSignals} the page's own window and document, when there is a page */
export function pageSignals() {
  return {
    window: typeof window === 'undefined' ? undefined : window,
    document: typeof document === 'undefined' ? undefined : document,
  };
}
