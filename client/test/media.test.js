// Missing media: which references of a project's data this device lacks, and the data after one is replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listMissingMedia, mediaPath, mediaReference, replaceMediaReference } from '../src/index.js';

/** @param {string[]} paths the files this device has */
function localMediaWith(paths) {
  /** @type {string[]} */
  const asked = [];
  return {
    asked,
    /** @param {string} path */
    has: async (path) => {
      asked.push(path);
      return paths.includes(path);
    },
  };
}

const projectData = () => ({
  text: 'Launch screenshots',
  layers: [
    { type: 'image', src: 'opfs:/media/phone.png', caption: 'opfs is where the file lives' },
    { type: 'text', value: 'Hello' },
    { type: 'image', src: 'opfs:/media/tablet.png' },
    { type: 'image', src: 'opfs:/media/phone.png' },
  ],
  background: { fill: { image: 'opfs:/media/backdrop.jpg' } },
});

test('lists the references whose file is missing here, each once, in the order they appear', async () => {
  const localMedia = localMediaWith(['/media/tablet.png']);

  const missing = await listMissingMedia(projectData(), localMedia);

  assert.deepEqual(missing, [
    { reference: 'opfs:/media/phone.png', path: '/media/phone.png' },
    { reference: 'opfs:/media/backdrop.jpg', path: '/media/backdrop.jpg' },
  ]);
  assert.deepEqual(localMedia.asked.sort(), ['/media/backdrop.jpg', '/media/phone.png', '/media/tablet.png']);
});

test('nothing is missing when every file is here, or when the data references none', async () => {
  const everything = localMediaWith(['/media/phone.png', '/media/tablet.png', '/media/backdrop.jpg']);
  assert.deepEqual(await listMissingMedia(projectData(), everything), []);

  const nothing = localMediaWith([]);
  assert.deepEqual(await listMissingMedia({ text: 'opfs: a word, not a path', list: [1, null, true] }, nothing), []);
  assert.deepEqual(await listMissingMedia(null, nothing), []);
  assert.deepEqual(nothing.asked, []);
});

test('a replacement rewrites every occurrence of the reference and leaves the rest as it was', () => {
  const data = projectData();
  const before = structuredClone(data);

  const after = replaceMediaReference(data, 'opfs:/media/phone.png', 'opfs:/media/new-phone.png');

  assert.deepEqual(data, before, 'the data given is not changed');
  assert.equal(after.layers[0].src, 'opfs:/media/new-phone.png');
  assert.equal(after.layers[3].src, 'opfs:/media/new-phone.png');
  assert.equal(after.layers[0].caption, 'opfs is where the file lives');
  assert.deepEqual(after.layers[1], { type: 'text', value: 'Hello' });
  assert.equal(after.layers[2].src, 'opfs:/media/tablet.png');
  assert.equal(after.text, 'Launch screenshots');
  assert.equal(after.background, data.background, 'a part without the reference is shared');
});

test('replacing a reference the data does not hold gives the same data back', () => {
  const data = projectData();
  assert.equal(replaceMediaReference(data, 'opfs:/media/elsewhere.png', 'opfs:/media/new.png'), data);
});

test('a replacement names media references only', () => {
  assert.throws(() => replaceMediaReference(projectData(), '/media/phone.png', 'opfs:/media/new.png'), TypeError);
  assert.throws(() => replaceMediaReference(projectData(), 'opfs:/media/phone.png', 'new.png'), TypeError);
});

test('a reference is the scheme and an absolute OPFS path', () => {
  assert.equal(mediaReference('/media/a.png'), 'opfs:/media/a.png');
  assert.equal(mediaPath('opfs:/media/a.png'), '/media/a.png');
  assert.equal(mediaPath('https://example.com/a.png'), undefined);
  assert.equal(mediaPath(42), undefined);
  assert.throws(() => mediaReference('media/a.png'), TypeError);
});
