// Bearer mode (an API on another origin): the session travels as the editor's token. A session that
// ends, online or while offline, stops sync with "sign in again" and keeps every queued edit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeServer } from './support/fake-server.js';
import { createDevice, eventually } from './support/devices.js';

const ALICE = { id: 'user-alice' };

/**
 * The editor's side of Better Auth: the token of the current sign-in, a refresh that finds the
 * session Better Auth still has (`renewable`), and sign-in / sign-out.
 * @param {ReturnType<typeof createFakeServer>} server
 */
function editorAuth(server) {
  const auth = {
    /** @type {string | null} */
    token: null,
    /** What a refresh finds: a new token of the same session, or null when the session is gone. */
    renewable: true,
    refreshes: 0,
    /** @param {{ refresh: boolean }} request */
    sessionToken: ({ refresh }) => {
      if (refresh) {
        auth.refreshes += 1;
        auth.token = auth.renewable ? server.issueSessionToken(ALICE.id) : null;
      }
      return auth.token;
    },
    signIn() { auth.token = server.issueSessionToken(ALICE.id); },
    /** The session expired on the server: its token is refused, and a refresh finds nothing. */
    expire() {
      if (auth.token) server.endSession(auth.token);
      auth.renewable = false;
    },
  };
  return auth;
}

async function bearerDevice() {
  const server = createFakeServer();
  const auth = editorAuth(server);
  const device = await createDevice(server, { sessionToken: auth.sessionToken });
  auth.signIn();
  await device.signIn(ALICE);
  return { server, auth, device };
}

test('in bearer mode every request carries the token and the projects sync', async () => {
  const { server, auth, device } = await bearerDevice();
  await device.save('p1', 'over bearer');
  await device.engine.idle();
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'over bearer' });
  assert.ok(server.requests.length >= 2);
  assert.ok(server.requests.every((request) => request.authorization === `Bearer ${auth.token}`));
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});

test('a token refused with a 401 is refreshed once and the push goes through', async () => {
  const { server, auth, device } = await bearerDevice();
  const refused = /** @type {string} */ (auth.token);
  server.endSession(refused);
  await device.save('p1', 'after the token rotated');
  await device.engine.idle();

  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'after the token rotated' });
  assert.equal(auth.refreshes, 1);
  assert.equal(device.engine.status().label, 'Synced');
  assert.equal(device.engine.status().signInRequired, undefined);
  await device.close();
});

test('a session that ended says "sign in again", keeps the queue, and sync resumes after the next sign-in', async () => {
  const { server, auth, device } = await bearerDevice();
  auth.expire();
  await device.save('p1', 'typed after the session ended');
  await device.save('p2', 'also kept');
  await device.engine.idle();

  const ended = device.engine.status();
  assert.equal(ended.signInRequired, true);
  assert.match(ended.detail ?? '', /sign in again/i);
  assert.equal(ended.projects.p1?.state, 'pending');
  assert.equal(ended.projects.p2?.state, 'pending');
  assert.equal(device.engine.hasUnsyncedEdits(), true);
  assert.equal(server.projects(ALICE.id).length, 0);
  const refreshesAtTheEnd = auth.refreshes;
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(auth.refreshes, refreshesAtTheEnd, 'no retry loop without a session (30 s of the device\'s clock)');

  auth.renewable = true;
  auth.signIn();
  await device.signIn(ALICE);
  assert.deepEqual(server.projects(ALICE.id).map((project) => project.data), [{ text: 'typed after the session ended' }, { text: 'also kept' }]);
  assert.equal(device.engine.status().label, 'Synced');
  assert.equal(device.engine.status().signInRequired, undefined);
  await device.close();
});

test('a session that expired while offline is found when the network is back; edits wait for the sign-in', async () => {
  const { server, auth, device } = await bearerDevice();
  device.setOffline(true);
  await device.save('p1', 'written offline');
  await eventually(() => /offline/.test(device.engine.status().detail ?? ''), 'the offline status');
  auth.expire();

  device.setOffline(false);
  device.engine.syncNow();
  await eventually(() => device.engine.status().signInRequired === true, 'sign in again');
  assert.equal(device.engine.status().projects.p1?.state, 'pending');
  assert.equal(await device.text('p1'), 'written offline');

  auth.renewable = true;
  auth.signIn();
  await device.signIn(ALICE);
  assert.deepEqual(server.project(ALICE.id, 'p1')?.data, { text: 'written offline' });
  assert.equal(device.engine.status().label, 'Synced');
  await device.close();
});
