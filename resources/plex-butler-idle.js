/* Editor of the plex-butler-idle node ("when idle"). See common.js for how it is loaded. */
(function () {
  'use strict';

  var TYPE = 'plex-butler-idle';
  var editor = (window.PlexButlerEditor = window.PlexButlerEditor || {});

  /**
   * A field's value as the user sees it: the open dialog's while this node's dialog is open (the
   * deadline field is this node's own), else the saved one.
   */
  function current(node, field) {
    if ($('#node-input-deadlineTime').length > 0) {
      return $('#node-input-' + field).val();
    }
    return node[field];
  }

  function deadlineKind(node) {
    return current(node, 'mode') === 'wait' ? current(node, 'deadlineType') || 'minutes' : '';
  }

  /** The deadline fields matter in wait mode only, and only the kind chosen. */
  function checkedWhen(kind, validate) {
    return function (v, opt) {
      return deadlineKind(this) === kind ? validate.call(this, v, opt) : true;
    };
  }

  function validateTime(v, opt) {
    var pattern = new RegExp(editor.common.rules().timeOfDayPattern);
    return (
      (typeof v === 'string' && pattern.test(v.trim())) ||
      editor.common.refused(TYPE, 'deadlineTime', opt)
    );
  }

  editor.idle = {
    defaults: function () {
      return $.extend(editor.common.numberDefaults(TYPE), {
        name: { value: '' },
        version: editor.common.versionDefault(),
        server: { value: '', type: 'plex-butler-server', required: true },
        mode: { value: 'wait' },
        // Watch mode needs no input: the dialog removes the port (see oneditsave).
        inputs: { value: 1 },
        deadlineType: { value: 'minutes' },
        deadline: {
          value: editor.common.rules().numbers.deadline.default,
          validate: checkedWhen(
            'minutes',
            editor.common.numberValidator(TYPE, 'deadline', 'deadline'),
          ),
        },
        deadlineTime: { value: '05:00', validate: checkedWhen('time', validateTime) },
        countRecordings: { value: true },
        countBackground: { value: false },
        onlyTranscodes: { value: false },
        ignorePlayers: { value: '' },
      });
    },

    paletteLabel: function () {
      return this._(TYPE + '.paletteLabel');
    },

    label: function () {
      if (this.name) {
        return this.name;
      }
      if (this.mode === 'check') {
        return this._(TYPE + '.nodeLabel.check');
      }
      if (this.mode === 'watch') {
        return this._(TYPE + '.nodeLabel.watch');
      }
      var until =
        this.deadlineType === 'time'
          ? this.deadlineTime
          : this._(TYPE + '.nodeLabel.minutes', { minutes: this.deadline });
      return this._(TYPE + '.nodeLabel.wait', { deadline: until });
    },

    inputLabels: function () {
      return this._(TYPE + '.inputLabel');
    },

    outputLabels: function (index) {
      var mode = this.mode === 'check' || this.mode === 'watch' ? this.mode : 'wait';
      return this._(TYPE + '.outputLabels.' + mode + '.' + (index === 0 ? 'idle' : 'inUse'));
    },

    oneditprepare: function () {
      var mode = $('#node-input-mode');
      var kind = $('#node-input-deadlineType');
      if (!mode.val()) {
        mode.val('wait');
      }
      if (!kind.val()) {
        kind.val('minutes');
      }
      editor.common.fillNumbers(TYPE, 'node-input-');
      var toggle = function () {
        var waiting = mode.val() === 'wait';
        $('.node-input-deadline-row').toggle(waiting);
        $('.node-input-deadline-minutes').toggle(kind.val() !== 'time');
        $('.node-input-deadline-time').toggle(kind.val() === 'time');
        $('.node-input-mode-tip').hide();
        $('.node-input-mode-tip-' + mode.val()).show();
        // The other kind's field may hold anything: only the one in use is checked.
        $('#node-input-deadline, #node-input-deadlineTime').trigger('change');
      };
      mode.on('change', toggle);
      kind.on('change', toggle);
      toggle();
    },

    oneditsave: function () {
      editor.common.markCurrent.call(this);
      this.inputs = $('#node-input-mode').val() === 'watch' ? 0 : 1;
    },
  };
})();
