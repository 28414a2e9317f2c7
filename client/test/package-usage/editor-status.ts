// The editor's TypeScript against the package's types: a status badge and the conflict choice.
import type { ProjectState, SyncEngine, SyncStatus } from '@appframes/sync-client';

const BADGE_CLASSES: Record<SyncStatus['state'], string> = {
  'saved-locally': 'badge-local',
  syncing: 'badge-busy',
  synced: 'badge-ok',
  error: 'badge-error',
};

export function badgeFor(status: SyncStatus): { text: string; className: string; signInAgain: boolean } {
  const waiting = Object.values(status.projects).filter(({ state }) => state === ('conflict' satisfies ProjectState));
  const text = waiting.length ? `${status.label} (${waiting.length} to resolve)` : status.label;
  return { text, className: BADGE_CLASSES[status.state], signInAgain: status.signInRequired === true };
}

export async function resolveConflict(engine: SyncEngine, projectId: string, keepMine: boolean): Promise<void> {
  if (engine.status().projects[projectId]?.state !== 'conflict') return;
  await (keepMine ? engine.keepMine(projectId) : engine.takeTheirs(projectId));
}
