// The client as the editor's team gets it: `npm pack`'s tarball, installed into a project of their
// own (test/package-usage/, copied to a temporary directory), type-checked there and run there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, lstat, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { IDBFactory } from 'fake-indexeddb';
import { createFakeServer } from './support/fake-server.js';

const CLIENT = fileURLToPath(new URL('..', import.meta.url));
const USAGE = fileURLToPath(new URL('./package-usage/', import.meta.url));
const TSC = join(CLIENT, 'node_modules', 'typescript', 'bin', 'tsc');
const PACKAGE_NAME = '@appframes/sync-client';

/**
 * @param {string} command
 * @param {string[]} args
 * @param {string} cwd
 */
async function run(command, args, cwd) {
  try {
    return (await promisify(execFile)(command, args, { cwd, encoding: 'utf8' })).stdout;
  } catch (error) {
    const { stdout, stderr } = /** @type {{ stdout?: string, stderr?: string }} */ (error);
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

/** Packs the client, then installs the tarball into a copy of the usage project; removed afterwards. */
async function installedPackage() {
  const scratch = await mkdtemp(join(tmpdir(), 'sync-client-package-'));
  const [packed] = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', scratch], CLIENT));
  const project = join(scratch, 'editor');
  await cp(USAGE, project, { recursive: true });
  // The client has no dependencies: the tarball installs without the registry.
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(scratch, packed.filename)], project);
  return { packed, project, remove: () => rm(scratch, { recursive: true, force: true }) };
}

test('the packed client installs into an editor project, type-checks there and syncs media references', async (t) => {
  const { packed, project, remove } = await installedPackage();
  t.after(remove);

  const manifest = JSON.parse(await readFile(join(CLIENT, 'package.json'), 'utf8'));
  assert.equal(packed.name, PACKAGE_NAME);
  assert.equal(manifest.private, undefined, 'publishable');
  assert.deepEqual(manifest.dependencies ?? {}, {});
  const files = packed.files.map((/** @type {{ path: string }} */ file) => file.path);
  for (const expected of ['package.json', 'README.md', 'CHANGELOG.md', 'src/index.js', 'src/index.d.ts', 'src/sync-types.d.ts', 'src/media.js']) {
    assert.ok(files.includes(expected), `the tarball has ${expected}`);
  }
  assert.deepEqual(files.filter((path) => !path.startsWith('src/') && !path.endsWith('.md') && path !== 'package.json'), []);

  const installed = join(project, 'node_modules', ...PACKAGE_NAME.split('/'));
  assert.ok(!(await lstat(installed)).isSymbolicLink(), 'installed from the tarball, not linked to the checkout');
  const requireInProject = createRequire(join(project, 'package.json'));
  assert.throws(() => requireInProject.resolve(`${PACKAGE_NAME}/src/engine.js`), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });

  await run(process.execPath, [TSC, '-p', project], project);

  const { openEditorDevice } = await import(pathToFileURL(join(project, 'editor-device.js')).href);
  const server = createFakeServer();
  const user = { id: 'editor-user', email: 'editor@example.com' };
  const device = () => openEditorDevice({ indexedDB: new IDBFactory(), fetch: server.fetchAs(user.id), baseUrl: 'http://api.test' });
  const laptop = await device();
  const phone = await device();
  t.after(() => Promise.all([laptop.close(), phone.close()]));

  await laptop.engine.setUser(user);
  const projectId = await laptop.createProjectWithImage('Launch', '/media/launch.png');
  await laptop.engine.idle();
  assert.equal(laptop.statusLabels.at(-1), 'Synced');

  await phone.engine.setUser(user);
  await phone.engine.idle();
  const opened = await phone.open(projectId);
  assert.deepEqual(opened.missing, [{ reference: 'opfs:/media/launch.png', path: '/media/launch.png' }]);

  const stillMissing = await phone.replaceMissing(opened.editing, opened.missing[0], '/media/replacement.png');
  await phone.engine.idle();

  assert.deepEqual(stillMissing, []);
  assert.equal(phone.statusLabels.at(-1), 'Synced');
  assert.deepEqual(server.project(user.id, projectId)?.data, {
    layers: [{ type: 'text', value: 'Launch' }, { type: 'image', src: 'opfs:/media/replacement.png' }],
  });
});
