/* Editor of the plex-butler-watch node. See common.js for how it is loaded. */
(function () {
  'use strict';

  var TYPE = 'plex-butler-watch';
  var editor = (window.PlexButlerEditor = window.PlexButlerEditor || {});

  editor.watch = {
    defaults: function () {
      return $.extend(editor.common.numberDefaults(TYPE), {
        name: { value: '' },
        version: editor.common.versionDefault(),
        server: { value: '', type: 'plex-butler-server', required: true },
        typePrefix: { value: '' },
        titleContains: { value: '' },
        updates: { value: 'all' },
      });
    },

    paletteLabel: function () {
      return this._(TYPE + '.paletteLabel');
    },

    label: function () {
      if (this.name) {
        return this.name;
      }
      var filter = [this.typePrefix, this.titleContains]
        .filter(function (part) {
          return part;
        })
        .join(' · ');
      return filter
        ? this._(TYPE + '.nodeLabel', { filter: filter })
        : this._(TYPE + '.paletteLabel');
    },

    outputLabels: function () {
      return this._(TYPE + '.outputLabel');
    },

    oneditprepare: function () {
      var updates = $('#node-input-updates');
      var rateRow = $('.node-input-rate-row');
      if (!updates.val()) {
        updates.val('all');
      }
      editor.common.fillNumbers(TYPE, 'node-input-');
      var toggle = function () {
        rateRow.toggle(updates.val() === 'limit');
      };
      updates.on('change', toggle);
      toggle();
    },
  };
})();
