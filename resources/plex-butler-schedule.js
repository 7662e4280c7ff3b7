/* Editor of the plex-butler-schedule node. See common.js for how it is loaded. */
(function () {
  'use strict';

  var editor = (window.PlexButlerEditor = window.PlexButlerEditor || {});

  editor.schedule = editor.common.readingNode('plex-butler-schedule', {});
})();
