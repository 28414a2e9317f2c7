// An editor's hold on one open project: the copy it shows, the version its commits are based on,
// and whether it has typing not committed yet (pulls of the project wait for that). Commits and
// reloads of one session run in the order they were asked for, each based on the one before.

/** @typedef {import('./sync-types.js').LocalProject} LocalProject */
/** @typedef {import('./sync-types.js').EditingSession} EditingSession */

/**
 * @param {object} options
 * @param {string} options.projectId
 * @param {Promise<{ project: LocalProject | undefined, version: number }>} options.loading the stored copy and its version
 * @param {(project: LocalProject, baseVersion: number) => Promise<number>} options.commit
 * @param {() => Promise<{ project: LocalProject | undefined, version: number }>} options.readLocalCopy
 * @param {() => () => void} options.holdTyping
 * @param {() => void} options.typingEnded
 * @returns {EditingSession}
 */
export function createEditingSession({ projectId, loading, commit, readLocalCopy, holdTyping, typingEnded }) {
  /** @type {LocalProject | undefined} */
  let project;
  let version = 0;
  /** @type {(() => void) | null} */
  let releaseTyping = null;
  let edits = 0;
  let closed = false;
  const ready = loading.then((loaded) => {
    ({ project, version } = loaded);
    return project;
  });
  /** @type {Promise<unknown>} commits and reloads wait for the load, then for each other */
  let previous = ready.catch(() => undefined);

  /**
   * @template T
   * @param {() => Promise<T>} step
   * @returns {Promise<T>}
   */
  function inOrder(step) {
    const run = previous.then(step);
    previous = run.catch(() => undefined);
    return run;
  }

  function endTyping() {
    if (!releaseTyping) return;
    releaseTyping();
    releaseTyping = null;
    typingEnded();
  }

  return {
    projectId,
    ready,
    get project() { return project; },
    edited() {
      if (closed) return;
      edits += 1;
      releaseTyping ??= holdTyping();
    },
    commit({ name, data }) {
      const editsCovered = edits;
      return inOrder(async () => {
        const next = { id: projectId, name, data };
        version = await commit(next, version);
        project = next;
        // Typing that came after this commit was asked for still holds the pulls back.
        if (edits === editsCovered) endTyping();
      });
    },
    reload() {
      const editsAsked = edits;
      return inOrder(async () => {
        const stored = await readLocalCopy();
        // Typing that came after the reload was asked for was made on the copy shown before:
        // its commit stays based on that copy. No input can come between this check and the
        // caller showing the copy: both run in the same task.
        if (edits !== editsAsked) return undefined;
        ({ project, version } = stored);
        return project;
      });
    },
    close() {
      closed = true;
      inOrder(async () => endTyping());
    },
  };
}
