// The demo's images. A file the user adds is stored in this browser's origin private file system
// (OPFS) and the project's data refers to it by path, as an image layer:
// `data.layers: [{ type: 'image', src: 'opfs:/media/<uuid>.png', name: 'photo.png' }]`.
// Media does not sync, so another device shows a placeholder for it, with "Replace": the file
// chosen there is stored in that device's OPFS under a new path, and the reference is rewritten.
import { listMissingMedia, mediaPath, mediaReference, replaceMediaReference } from '../src/index.js';

/** @typedef {{ type: 'image', src: string, name?: string }} ImageLayer */
/** @typedef {(data: object) => object} DataChange */

const MEDIA_DIRECTORY = 'media';

/** @param {unknown} data */
function layersOf(data) {
  const layers = /** @type {{ layers?: unknown } | null} */ (data)?.layers;
  return Array.isArray(layers) ? layers : [];
}

/** @param {unknown} data @returns {ImageLayer[]} */
function imageLayersOf(data) {
  return layersOf(data).filter((layer) => layer?.type === 'image' && mediaPath(layer.src) !== undefined);
}

/** @param {File} file where it is stored: a new name each time, so a reference always names one file */
async function storeMedia(file) {
  const root = await navigator.storage.getDirectory();
  const directory = await root.getDirectoryHandle(MEDIA_DIRECTORY, { create: true });
  const extension = /\.[a-z0-9]{1,8}$/i.exec(file.name)?.[0].toLowerCase() ?? '';
  const name = `${crypto.randomUUID()}${extension}`;
  const writable = await (await directory.getFileHandle(name, { create: true })).createWritable();
  await writable.write(file);
  await writable.close();
  return `/${MEDIA_DIRECTORY}/${name}`;
}

/**
 * The file at an OPFS path, or undefined when this browser does not have it.
 * @param {string} path
 */
async function readMedia(path) {
  const segments = path.split('/').slice(1);
  const fileName = segments.pop() ?? '';
  try {
    let directory = await navigator.storage.getDirectory();
    for (const segment of segments) directory = await directory.getDirectoryHandle(segment);
    return await (await directory.getFileHandle(fileName)).getFile();
  } catch (error) {
    // NotFoundError: not here; TypeError: a name OPFS refuses (another device's data), not here either.
    if (error instanceof DOMException && error.name === 'NotFoundError') return undefined;
    if (error instanceof TypeError) return undefined;
    throw error;
  }
}

/** @type {import('../src/index.js').LocalMedia} */
const localMedia = { has: async (path) => (await readMedia(path)) !== undefined };

/**
 * @param {object} options
 * @param {HTMLElement} options.list where the open project's images are shown
 * @param {HTMLInputElement} options.addImage the file input that adds an image
 * @param {HTMLElement} options.message what went wrong storing a file
 * @param {(change: DataChange) => object | undefined} options.commit commits the open project with
 *   its data changed (a normal edit through its editing session); returns the data committed
 */
export function createMediaPanel({ list, addImage, message, commit }) {
  /** @type {string[]} object URLs of the images shown, released when they are replaced */
  let shownUrls = [];
  let renders = 0;

  /**
   * Shows the images of a project's data: each file this browser has, or a placeholder.
   * @param {unknown} data
   */
  async function show(data) {
    const render = (renders += 1);
    const missing = new Set((await listMissingMedia(data, localMedia)).map(({ reference }) => reference));
    const files = await Promise.all(imageLayersOf(data).map(async (layer) => ({
      layer,
      file: missing.has(layer.src) ? undefined : await readMedia(/** @type {string} */ (mediaPath(layer.src))),
    })));
    if (render !== renders) return;
    for (const url of shownUrls) URL.revokeObjectURL(url);
    shownUrls = [];
    list.replaceChildren(...files.map(({ layer, file }) => (file ? image(layer, file) : placeholder(layer))));
  }

  /** @param {ImageLayer} layer @param {File} file */
  function image(layer, file) {
    const url = URL.createObjectURL(file);
    shownUrls.push(url);
    const figure = document.createElement('figure');
    figure.className = 'media-item';
    const img = document.createElement('img');
    img.dataset.testid = 'media-image';
    img.dataset.src = layer.src;
    img.src = url;
    img.alt = layer.name ?? 'Image';
    figure.append(img);
    return figure;
  }

  /** @param {ImageLayer} layer */
  function placeholder(layer) {
    const figure = document.createElement('figure');
    figure.className = 'media-item media-placeholder';
    figure.dataset.testid = 'media-placeholder';
    figure.dataset.src = layer.src;
    const caption = document.createElement('figcaption');
    caption.textContent = `${layer.name ?? 'An image'} is not on this device.`;
    const chooser = document.createElement('input');
    chooser.type = 'file';
    chooser.accept = 'image/*';
    chooser.hidden = true;
    chooser.addEventListener('change', () => {
      const file = chooser.files?.[0];
      if (file) replace(layer.src, file);
    });
    const replaceButton = document.createElement('button');
    replaceButton.type = 'button';
    replaceButton.dataset.testid = 'replace-media';
    replaceButton.textContent = 'Replace';
    replaceButton.addEventListener('click', () => chooser.click());
    figure.append(caption, replaceButton, chooser);
    return figure;
  }

  /**
   * Stores the file, then commits the change of the data it makes (once the file is stored, so the
   * project never refers to a file this device does not have).
   * @param {File} file
   * @param {(reference: string) => DataChange} changeFor
   */
  async function storeAndCommit(file, changeFor) {
    message.textContent = '';
    let path;
    try {
      path = await storeMedia(file);
    } catch (error) {
      console.error('Storing the image failed', error);
      message.textContent = `${file.name} could not be stored in this browser.`;
      return;
    }
    const committed = commit(changeFor(mediaReference(path)));
    if (committed) await show(committed);
  }

  /** @param {string} reference @param {File} file */
  const replace = (reference, file) => storeAndCommit(file, (replacement) => (data) => replaceMediaReference(data, reference, replacement));

  addImage.addEventListener('change', () => {
    const file = addImage.files?.[0];
    addImage.value = '';
    if (!file) return;
    storeAndCommit(file, (src) => (data) => ({ ...data, layers: [...layersOf(data), { type: 'image', src, name: file.name }] }));
  });

  return { show };
}
