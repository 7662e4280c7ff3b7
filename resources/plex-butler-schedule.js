/* Editor of the plex-butler-schedule node. See common.js for how it is loaded. */
(function () {
  'use strict';

  var TYPE = 'plex-butler-schedule';
  var editor = (window.PlexButlerEditor = window.PlexButlerEditor || {});

  function validateProperty(v, opt) {
    if (typeof v === 'string' && v !== '' && RED.utils.validatePropertyExpression(v)) {
      return true;
    }
    return editor.common.refused(TYPE, 'property', opt);
  }

  editor.schedule = {
    defaults: function () {
      return {
        name: { value: '' },
        version: editor.common.versionDefault(),
        server: { value: '', type: 'plex-butler-server', required: true },
        property: { value: 'payload', required: true, validate: validateProperty },
      };
    },

    paletteLabel: function () {
      return this._(TYPE + '.paletteLabel');
    },

    label: function () {
      return this.name || this._(TYPE + '.paletteLabel');
    },

    inputLabels: function () {
      return this._(TYPE + '.inputLabel');
    },

    outputLabels: function () {
      return this._(TYPE + '.outputLabel');
    },

    oneditprepare: function () {
      var property = $('#node-input-property');
      if (!property.val()) {
        property.val('payload');
      }
      property.typedInput({ default: 'msg', types: ['msg'] });
    },
  };
})();
