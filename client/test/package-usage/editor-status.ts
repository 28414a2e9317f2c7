// The editor's TypeScript against the package's types: a status badge, the conflict choice, a history panel.
import { HistoryError } from '@appframes/sync-client';
import type { ProjectState, RevisionSummary, SyncEngine, SyncStatus } from '@appframes/sync-client';

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

/** The history panel's rows, or why there are none (offline, signed out). */
export async function historyRows(engine: SyncEngine, projectId: string): Promise<string[]> {
  try {
    const revisions: RevisionSummary[] = await engine.listRevisions(projectId);
    return revisions.map(({ revision, updatedAt, bytes }) => `#${revision} ${updatedAt} ${bytes} B`);
  } catch (error) {
    if (error instanceof HistoryError && error.failure === 'offline') return [];
    throw error;
  }
}
