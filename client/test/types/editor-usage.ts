// Compiled by `tsc` (never run): the way the editor's TypeScript uses the client must type-check.
import { createSyncEngine, openIndexedDbProjectStore } from '../../src/index.js';
import type { LocalProject, SyncStatus } from '../../src/index.js';

export async function startEditorSync(): Promise<() => Promise<void>> {
  const localStore = await openIndexedDbProjectStore({ indexedDB, name: 'editor-projects' });
  const engine = createSyncEngine({ localStore, baseUrl: '', debounceMs: 300 });

  const unsubscribe = engine.on('status', (status: SyncStatus) => {
    const conflicts = Object.entries(status.projects).filter(([, project]) => project.state === 'conflict');
    document.title = `${status.label}${conflicts.length ? ` (${conflicts.length} to resolve)` : ''}`;
  });
  engine.on('local-change', ({ projectIds }) => console.debug('reload projects', projectIds.join(', ')));

  const project: LocalProject = { id: crypto.randomUUID(), name: 'Untitled', data: { text: '' } };
  await engine.saveProject(project);
  await engine.setUser({ id: 'user-1', email: 'someone@example.com' });
  if (engine.status().projects[project.id]?.state === 'conflict') await engine.keepMine(project.id);

  return async () => {
    unsubscribe();
    await engine.stop();
  };
}
