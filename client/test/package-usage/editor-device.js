// @ts-check
// An editor using the published package from its own project (client/test/package.test.js
// installs the packed tarball beside this file, type-checks it with `tsc` and runs it in node).
// One device: its local projects, the sync engine, and the media files it keeps.
import {
  createSyncEngine,
  listMissingMedia,
  mediaReference,
  openIndexedDbProjectStore,
  replaceMediaReference,
} from '@appframes/sync-client';

/** @typedef {import('@appframes/sync-client').EditingSession} EditingSession */
/** @typedef {import('@appframes/sync-client').LocalMedia} LocalMedia */
/** @typedef {import('@appframes/sync-client').MissingMedia} MissingMedia */

/**
 * @param {{ indexedDB: IDBFactory, fetch: typeof fetch, baseUrl: string }} browser
 *   in a page: `indexedDB`, `fetch` and the API's URL
 */
export async function openEditorDevice({ indexedDB, fetch, baseUrl }) {
  const localStore = await openIndexedDbProjectStore({ indexedDB, name: 'editor-projects' });
  const engine = createSyncEngine({ localStore, indexedDB, fetch, baseUrl });
  /** The paths of the files this device has (the editor keeps them in OPFS). */
  const mediaFiles = new Set();
  /** @type {LocalMedia} */
  const localMedia = { has: async (path) => mediaFiles.has(path) };
  /** @type {string[]} */
  const statusLabels = [];
  engine.on('status', (status) => statusLabels.push(status.label));

  return {
    engine,
    statusLabels,
    /**
     * The user made a project and added an image to it.
     * @param {string} name
     * @param {string} imagePath where the image was stored
     */
    async createProjectWithImage(name, imagePath) {
      mediaFiles.add(imagePath);
      const layers = [{ type: 'text', value: name }, { type: 'image', src: mediaReference(imagePath) }];
      const project = { id: crypto.randomUUID(), name, data: { layers } };
      await engine.saveProject(project);
      return project.id;
    },
    /**
     * The editor shows a project: the copy to show, and a placeholder for each file missing here.
     * @param {string} projectId
     */
    async open(projectId) {
      const editing = engine.openProject(projectId);
      const project = await editing.ready;
      if (!project) throw new Error(`Project ${projectId} is not on this device`);
      return { editing, project, missing: await listMissingMedia(project.data, localMedia) };
    },
    /**
     * The user picked a file for a placeholder: stored here, and the project refers to it (a normal edit).
     * @param {EditingSession} editing
     * @param {MissingMedia} missing
     * @param {string} imagePath where the chosen file was stored
     */
    async replaceMissing(editing, missing, imagePath) {
      mediaFiles.add(imagePath);
      const shown = editing.project;
      if (!shown) throw new Error('Nothing is shown');
      const data = replaceMediaReference(shown.data, missing.reference, mediaReference(imagePath));
      await editing.commit({ name: shown.name, data });
      return listMissingMedia(data, localMedia);
    },
    async close() {
      await engine.stop();
      localStore.close();
    },
  };
}
