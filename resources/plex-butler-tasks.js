/* Editor of the plex-butler-tasks node. See common.js for how it is loaded. */
(function () {
  'use strict';

  var editor = (window.PlexButlerEditor = window.PlexButlerEditor || {});

  editor.tasks = editor.common.readingNode('plex-butler-tasks', {
    enabledOnly: { value: false },
    split: { value: false },
  });
})();
