/**
 * The Butler tasks the simulator knows: their schedule data as GET /butler lists them, and the
 * activity each shows while it runs.
 */

export interface SimTask {
  name: string;
  title?: string;
  description?: string;
  enabled: boolean;
  /** Days between runs. */
  interval: number;
  scheduleRandomized: boolean;
}

/**
 * The 22 tasks of the spec. Names, intervals, scheduleRandomized and enabled come from the
 * official example body of GET /butler; titles and descriptions are plausible wording (the
 * example only has them for BackupDatabase).
 */
export const DEFAULT_TASKS: SimTask[] = [
  {
    name: 'AutomaticUpdates',
    title: 'Update Plex Media Server',
    description: 'Download and install server updates automatically during the maintenance window',
    interval: 1,
    scheduleRandomized: false,
    enabled: false,
  },
  {
    name: 'BackupDatabase',
    title: 'Backup Database',
    description: "Create a backup copy of the server's database in the configured backup directory",
    interval: 3,
    scheduleRandomized: false,
    enabled: true,
  },
  {
    name: 'ButlerTaskGenerateAdMarkers',
    title: 'Generate Ad Markers',
    description: 'Detect commercials in DVR recordings so that they can be skipped',
    interval: 1,
    scheduleRandomized: false,
    enabled: false,
  },
  {
    name: 'ButlerTaskGenerateCreditsMarkers',
    title: 'Generate Credits Markers',
    description: 'Detect the end credits of movies and episodes so that they can be skipped',
    interval: 1,
    scheduleRandomized: true,
    enabled: true,
  },
  {
    name: 'ButlerTaskGenerateIntroMarkers',
    title: 'Generate Intro Markers',
    description: 'Detect the intros of TV episodes so that they can be skipped',
    interval: 1,
    scheduleRandomized: false,
    enabled: true,
  },
  {
    name: 'ButlerTaskGenerateVoiceActivity',
    title: 'Generate Voice Activity Data',
    description: 'Analyze audio tracks for speech, used to synchronize subtitles',
    interval: 1,
    scheduleRandomized: true,
    enabled: true,
  },
  {
    name: 'CleanOldBundles',
    title: 'Remove Old Bundles',
    description: 'Delete metadata bundles of items that are no longer in any library',
    interval: 7,
    scheduleRandomized: false,
    enabled: true,
  },
  {
    name: 'CleanOldCacheFiles',
    title: 'Remove Old Cache Files',
    description: 'Delete transcoder and image cache files that are no longer needed',
    interval: 7,
    scheduleRandomized: false,
    enabled: true,
  },
  {
    name: 'DeepMediaAnalysis',
    title: 'Perform Extensive Media Analysis',
    description: 'Measure the bitrate of media files in depth to improve streaming decisions',
    interval: 1,
    scheduleRandomized: false,
    enabled: true,
  },
  {
    name: 'GarbageCollectBlobs',
    title: 'Garbage Collect Blobs',
    description: 'Remove images and other data blobs that the database no longer references',
    interval: 7,
    scheduleRandomized: false,
    enabled: true,
  },
  {
    name: 'GarbageCollectLibraryMedia',
    title: 'Garbage Collect Library Media',
    description: 'Clean up media entries whose files have been removed from disk',
    interval: 1,
    scheduleRandomized: false,
    enabled: true,
  },
  {
    name: 'GenerateBlurHashes',
    title: 'Generate Blur Hashes',
    description: 'Compute the blurred placeholders shown while posters and artwork load',
    interval: 1,
    scheduleRandomized: false,
    enabled: true,
  },
  {
    name: 'GenerateChapterThumbs',
    title: 'Generate Chapter Thumbnails',
    description: 'Extract a thumbnail image for each chapter of video files',
    interval: 1,
    scheduleRandomized: false,
    enabled: true,
  },
  {
    name: 'GenerateMediaIndexFiles',
    title: 'Generate Video Preview Thumbnails',
    description: 'Create the preview thumbnail index files shown while seeking in videos',
    interval: 1,
    scheduleRandomized: false,
    enabled: false,
  },
  {
    name: 'LoudnessAnalysis',
    title: 'Perform Loudness Analysis',
    description: 'Measure the loudness of audio tracks for volume leveling',
    interval: 1,
    scheduleRandomized: false,
    enabled: true,
  },
  {
    name: 'MusicAnalysis',
    title: 'Perform Sonic Analysis',
    description: 'Analyze music tracks to find sonically similar tracks, albums and artists',
    interval: 1,
    scheduleRandomized: false,
    enabled: true,
  },
  {
    name: 'OptimizeDatabase',
    title: 'Optimize Database',
    description: "Rebuild and compact the server's database to keep it fast",
    interval: 7,
    scheduleRandomized: false,
    enabled: true,
  },
  {
    name: 'RefreshEpgGuides',
    title: 'Refresh EPG Guides',
    description: 'Download the latest program guide data for Live TV & DVR',
    interval: 1,
    scheduleRandomized: true,
    enabled: true,
  },
  {
    name: 'RefreshLibraries',
    title: 'Update All Libraries',
    description: 'Scan every library folder for new, changed and removed media',
    interval: 1,
    scheduleRandomized: false,
    enabled: false,
  },
  {
    name: 'RefreshLocalMedia',
    title: 'Refresh Local Media Assets',
    description: 'Pick up artwork, subtitles and other assets stored next to media files',
    interval: 3,
    scheduleRandomized: false,
    enabled: true,
  },
  {
    name: 'RefreshPeriodicMetadata',
    title: 'Refresh Metadata Periodically',
    description: 'Refresh the metadata of library items from their online agents',
    interval: 1,
    scheduleRandomized: true,
    enabled: true,
  },
  {
    name: 'UpgradeMediaAnalysis',
    title: 'Upgrade Media Analysis',
    description: 'Analyze again media files that an older server version analyzed',
    interval: 1,
    scheduleRandomized: false,
    enabled: true,
  },
];

/** How a running task shows in /activities and on the notification socket. */
export interface TaskActivity {
  type: string;
  title: string;
}

/**
 * Activity types seen from real servers in public client code (python-plexapi,
 * Plex-Auto-Languages, @ctrl/plex, pseuplex), by the Butler task each most likely belongs to.
 * Plex documents none of this: the pairing is an inference from that code. A title is known
 * only for RefreshEpgGuides. Public code ties library.refresh.items and
 * library.update.item.metadata to RefreshLocalMedia and RefreshPeriodicMetadata without saying
 * which is which; the simulator gives one to each.
 */
const KNOWN_ACTIVITIES: Readonly<Record<string, { type: string; title?: string }>> = {
  RefreshLibraries: { type: 'library.update.section' },
  RefreshLocalMedia: { type: 'library.refresh.items' },
  RefreshPeriodicMetadata: { type: 'library.update.item.metadata' },
  GenerateMediaIndexFiles: { type: 'media.generate.bif' },
  GenerateChapterThumbs: { type: 'media.generate.chapter.thumbs' },
  ButlerTaskGenerateCreditsMarkers: { type: 'media.generate.credits' },
  ButlerTaskGenerateIntroMarkers: { type: 'media.generate.intros' },
  ButlerTaskGenerateVoiceActivity: { type: 'media.generate.voice.activity' },
  RefreshEpgGuides: { type: 'provider.epg.load', title: 'Refreshing EPG' },
};

/**
 * For every other task (OptimizeDatabase, BackupDatabase, CleanOldBundles and CleanOldCacheFiles
 * among them) no public source shows a type. The simulator then sends `simulator.<task name>`:
 * no real server sends it, and it says whose invention it is.
 */
const INVENTED_ACTIVITY_TYPE_PREFIX = 'simulator.';

/** The known type and title where there is one; else the invented type and the task's title. */
export function taskActivity(task: SimTask): TaskActivity {
  const known = Object.hasOwn(KNOWN_ACTIVITIES, task.name)
    ? KNOWN_ACTIVITIES[task.name]
    : undefined;
  return {
    type: known?.type ?? `${INVENTED_ACTIVITY_TYPE_PREFIX}${task.name}`,
    title: known?.title ?? task.title ?? task.name,
  };
}

/** A copy, so that changes of the simulator's list never reach the caller's objects. */
export function cloneTask(task: SimTask): SimTask {
  return { ...task };
}
