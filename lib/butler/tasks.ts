import { ButlerError } from '../failures/errors';
import { message, type MessageParam } from '../messages';

/** Anything else in a URL path could reach another endpoint (`../library/sections/1/refresh`). */
export const TASK_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * The task names of the current spec. Only the offline fallback: the server's live list is
 * the authority, because task names change with server versions.
 */
export const STATIC_TASK_NAMES: readonly string[] = Object.freeze([
  'AutomaticUpdates',
  'BackupDatabase',
  'ButlerTaskGenerateAdMarkers',
  'ButlerTaskGenerateCreditsMarkers',
  'ButlerTaskGenerateIntroMarkers',
  'ButlerTaskGenerateVoiceActivity',
  'CleanOldBundles',
  'CleanOldCacheFiles',
  'DeepMediaAnalysis',
  'GarbageCollectBlobs',
  'GarbageCollectLibraryMedia',
  'GenerateBlurHashes',
  'GenerateChapterThumbs',
  'GenerateMediaIndexFiles',
  'LoudnessAnalysis',
  'MusicAnalysis',
  'OptimizeDatabase',
  'RefreshEpgGuides',
  'RefreshLibraries',
  'RefreshLocalMedia',
  'RefreshPeriodicMetadata',
  'UpgradeMediaAnalysis',
]);

const MAX_SHOWN_NAME = 60;

/** A value made safe to quote in a message: bounded length, control characters escaped. */
export function describeValue(value: unknown): MessageParam {
  if (typeof value !== 'string') {
    if (value === null) return 'null';
    if (Array.isArray(value)) return message('value.array');
    return message('value.other', { type: typeof value });
  }
  return JSON.stringify(
    value.length > MAX_SHOWN_NAME ? `${value.slice(0, MAX_SHOWN_NAME)}…` : value,
  );
}

/** Refuses anything that is not a syntactically valid task name, before any request. */
export function checkTaskNameSyntax(name: unknown, validTasks: readonly string[]): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ButlerError(
      'invalid-task',
      message('errors.noTaskName', { value: describeValue(name), tasks: validTasks.join(', ') }),
      { validTasks },
    );
  }
  if (!TASK_NAME_PATTERN.test(name)) {
    throw new ButlerError(
      'invalid-task',
      message('errors.malformedTask', {
        value: describeValue(name),
        tasks: validTasks.join(', '),
      }),
      { validTasks },
    );
  }
  return name;
}

/** Levenshtein distance, bounded: stops early once it exceeds `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length];
}

/** Names a person probably meant: same name in another case, or a few letters off. */
export function suggestTaskNames(name: string, validTasks: readonly string[]): string[] {
  const lower = name.toLowerCase();
  const sameCase = validTasks.filter((task) => task.toLowerCase() === lower);
  if (sameCase.length > 0) return sameCase;
  // Long names tolerate more typos: about one in four letters.
  const limit = Math.max(2, Math.ceil(name.length / 4));
  return validTasks
    .map((task) => ({ task, distance: editDistance(lower, task.toLowerCase(), limit) }))
    .filter((candidate) => candidate.distance <= limit)
    .sort((a, b) => a.distance - b.distance)
    .slice(0, 3)
    .map((candidate) => candidate.task);
}

export function unknownTaskError(name: string, validTasks: readonly string[]): ButlerError {
  const suggestions = suggestTaskNames(name, validTasks);
  const suggestion =
    suggestions.length > 0 ? message('errors.didYouMean', { names: suggestions.join(', ') }) : '';
  return new ButlerError(
    'invalid-task',
    message('errors.unknownTask', {
      value: describeValue(name),
      suggestion,
      tasks: validTasks.join(', '),
    }),
    { validTasks, suggestions },
  );
}
