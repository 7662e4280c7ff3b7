/**
 * The node types this package provides, written out here rather than read from package.json,
 * so that a type missing from the package (its manifest, its files) fails the tests.
 */
export const NODE_TYPES: readonly string[] = [
  'plex-butler-server',
  'plex-butler-tasks',
  'plex-butler-start',
  'plex-butler-stop',
  'plex-butler-watch',
  'plex-butler-schedule',
  'plex-butler-idle',
  'plex-butler-report',
];
