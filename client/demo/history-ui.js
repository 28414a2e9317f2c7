// The demo's history: the open project's revisions on the server (revision, time, size, "Restore")
// and the account's recently deleted projects ("Restore"). Both ask the server when shown and when
// sync settles; a restore is the engine's local commit, so it shows at once and syncs as an edit.
import { HistoryError } from '../src/index.js';

/** @typedef {import('../src/index.js').SyncEngine} SyncEngine */
/** @typedef {import('../src/index.js').RevisionSummary} RevisionSummary */
/** @typedef {import('../src/index.js').DeletedProject} DeletedProject */

/**
 * @typedef {object} HistoryElements
 * @property {HTMLDetailsElement} panel the open project's history
 * @property {HTMLElement} revisions
 * @property {HTMLElement} historyMessage
 * @property {HTMLDetailsElement} deletedPanel
 * @property {HTMLElement} deleted
 * @property {HTMLElement} deletedMessage
 */

/** @param {number} bytes */
function sizeOf(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** @param {string} at an ISO timestamp */
const timeOf = (at) => new Date(at).toLocaleString();

/** @param {unknown} error what to tell the user; anything but a HistoryError is a bug, kept in the console */
function messageOf(error) {
  if (error instanceof HistoryError) return error.message;
  console.error('History failed', error);
  return 'Something went wrong; try again.';
}

/**
 * @param {{ engine: SyncEngine, elements: HistoryElements, beforeRestore: () => void, restored: (projectId: string) => Promise<void> }} options
 *   beforeRestore commits the typing first; restored runs once the restore is stored here
 */
export function createHistoryPanels({ engine, elements, beforeRestore, restored }) {
  /** @type {string | null} */
  let projectId = null;
  /** Answers to an older question (another project, an earlier refresh) are not shown. */
  let asked = 0;

  async function refreshRevisions() {
    const shownFor = projectId;
    const question = (asked += 1);
    if (!elements.panel.open || !shownFor) return;
    elements.historyMessage.textContent = 'Loading…';
    try {
      const revisions = await engine.listRevisions(shownFor);
      if (question !== asked) return;
      elements.revisions.replaceChildren(...revisions.map((revision, index) => revisionRow(shownFor, revision, index === 0)));
      elements.historyMessage.textContent = revisions.length ? '' : 'No history yet.';
    } catch (error) {
      if (question !== asked) return;
      elements.revisions.replaceChildren();
      elements.historyMessage.textContent = messageOf(error);
    }
  }

  /**
   * @param {string} shownFor
   * @param {RevisionSummary} revision
   * @param {boolean} current
   */
  function revisionRow(shownFor, revision, current) {
    const row = document.createElement('li');
    row.dataset.testid = 'history-row';
    row.dataset.revision = String(revision.revision);
    const label = document.createElement('span');
    const what = revision.deletedAt ? 'deleted' : sizeOf(revision.bytes);
    label.textContent = `#${revision.revision} · ${timeOf(revision.updatedAt)} · ${what}${current ? ' · current' : ''}`;
    row.append(label);
    if (!current && !revision.deletedAt) {
      row.append(restoreButton('history-restore', async () => {
        beforeRestore();
        await engine.restoreRevision(shownFor, revision.revision);
        await restored(shownFor);
        elements.historyMessage.textContent = `Restored revision ${revision.revision}; it is syncing.`;
      }, elements.historyMessage));
    }
    return row;
  }

  async function refreshDeleted() {
    if (!elements.deletedPanel.open) return;
    try {
      const deleted = await engine.listRecentlyDeleted();
      elements.deleted.replaceChildren(...deleted.map(deletedRow));
      elements.deletedMessage.textContent = deleted.length ? '' : 'Nothing deleted recently.';
    } catch (error) {
      elements.deleted.replaceChildren();
      elements.deletedMessage.textContent = messageOf(error);
    }
  }

  /** @param {DeletedProject} project */
  function deletedRow(project) {
    const row = document.createElement('li');
    row.dataset.testid = 'deleted-item';
    row.dataset.projectId = project.id;
    const label = document.createElement('span');
    label.textContent = `${project.name || 'Untitled'} · deleted ${timeOf(project.deletedAt)}`;
    row.append(label, restoreButton('deleted-restore', async () => {
      await engine.restoreDeleted(project.id);
      row.remove();
      await restored(project.id);
      elements.deletedMessage.textContent = `“${project.name}” is back; it is syncing.`;
    }, elements.deletedMessage));
    return row;
  }

  /**
   * @param {string} testId
   * @param {() => Promise<void>} restore
   * @param {HTMLElement} message where a failure is told
   */
  function restoreButton(testId, restore, message) {
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.testid = testId;
    button.textContent = 'Restore';
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await restore();
      } catch (error) {
        message.textContent = messageOf(error);
        button.disabled = false;
      }
    });
    return button;
  }

  elements.panel.addEventListener('toggle', refreshRevisions);
  elements.deletedPanel.addEventListener('toggle', refreshDeleted);

  return {
    /** @param {string | null} openProjectId the project the editor shows now */
    showProject(openProjectId) {
      if (openProjectId === projectId) return;
      projectId = openProjectId;
      elements.revisions.replaceChildren();
      elements.historyMessage.textContent = '';
      refreshRevisions();
    },
    /** Sync settled (or a restore landed): what the server keeps may have changed. */
    refresh() {
      refreshRevisions();
      refreshDeleted();
    },
  };
}
