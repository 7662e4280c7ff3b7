/*
 * Editor of the plex-butler-report node: its dialog with the journal's state and a "Delete
 * journal" button, and the offer to delete a journal that no report node keeps any more (the
 * last report node of a server, or the server config, removed and deployed). A journal is only
 * ever deleted when the user presses "Delete journal". See common.js for how it is loaded.
 */
(function () {
  'use strict';

  var TYPE = 'plex-butler-report';
  var SERVER_TYPE = 'plex-butler-server';
  var PERIODS = ['since-last-report', 'maintenance-window', 'last-24-hours'];
  var editor = (window.PlexButlerEditor = window.PlexButlerEditor || {});

  /** This node type's words (the catalog is the node type's, wherever it is asked from). */
  function words(key, vars) {
    return RED.nodes.getType(TYPE)._(TYPE + '.' + key, vars);
  }

  function say(key, vars) {
    return words('http.' + key, vars);
  }

  function sizeWords(bytes) {
    if (bytes < 1024) {
      return words('size.bytes', { count: bytes });
    }
    if (bytes < 1024 * 1024) {
      return words('size.kb', { count: Math.round(bytes / 102.4) / 10 });
    }
    return words('size.mb', { count: Math.round(bytes / (1024 * 102.4)) / 10 });
  }

  /** How the user knows the server: its name, else its address, else its id. */
  function serverLabel(id, known) {
    var config = RED.nodes.node(id) || known || {};
    return config.name || config.url || id;
  }

  function isServerId(id) {
    return typeof id === 'string' && id !== '' && id !== '_ADD_';
  }

  function journalInfo(serverId) {
    return editor.common.call(TYPE, 'plex-butler/journal', { server: serverId }, say);
  }

  /** Asks the runtime to delete the journal, then says what happened in a notification. */
  function deleteJournal(serverId, label) {
    return editor.common
      .call(TYPE, 'plex-butler/journal/delete', { server: serverId }, say)
      .then(function (result) {
        if (!result.ok) {
          RED.notify(
            $('<div>').text(words('journal.failed', { server: label, reason: result.text })),
            'error',
          );
          return result;
        }
        var key = !result.data.deleted
          ? 'journal.nothing'
          : result.data.kept
            ? 'journal.deletedKept'
            : 'journal.deleted';
        RED.notify($('<div>').text(words(key, { server: label })), 'success');
        return result;
      });
  }

  /**
   * A notification with "Delete journal" and a way out: `question` is the text. Resolves
   * true when the user chose to delete.
   */
  function ask(question, keepKey, modal) {
    var answered = $.Deferred();
    var notification = RED.notify($('<div>').text(question), {
      type: 'warning',
      modal: modal,
      fixed: true,
      buttons: [
        {
          text: words(keepKey),
          click: function () {
            notification.close();
            answered.resolve(false);
          },
        },
        {
          text: words('journal.delete'),
          class: 'primary',
          click: function () {
            notification.close();
            answered.resolve(true);
          },
        },
      ],
    });
    return answered.promise();
  }

  // ---- the offer after the last report node of a server has gone ---------------------------

  /** Server ids whose last report node (or the config itself) was removed since the deploy. */
  var removed = {};

  function reportNodeUses(serverId) {
    var used = false;
    RED.nodes.eachNode(function (node) {
      if (node.type === TYPE && node.server === serverId) {
        used = true;
      }
    });
    return used;
  }

  function offerDeletion(serverId, known) {
    journalInfo(serverId).then(function (result) {
      // Nothing to offer when there is no file, or when a report node still keeps it.
      if (!result.ok || !result.data.exists || reportNodeUses(serverId)) {
        return;
      }
      var label = serverLabel(serverId, known);
      ask(
        words('journal.offer', { server: label, size: sizeWords(result.data.bytes) }),
        'journal.keep',
        false,
      ).then(function (yes) {
        if (yes) {
          deleteJournal(serverId, label);
        }
      });
    });
  }

  if (!editor.reportListening) {
    editor.reportListening = true;
    RED.events.on('nodes:remove', function (node) {
      if (node && node.type === TYPE && isServerId(node.server)) {
        removed[node.server] = removed[node.server] || {};
      } else if (node && node.type === SERVER_TYPE) {
        removed[node.id] = { name: node.name, url: node.url };
      }
    });
    // Offered once the removal is deployed: an undo before that offers nothing, and the
    // runtime has let go of the journal by then.
    RED.events.on('deploy', function () {
      var ids = Object.keys(removed);
      var known = removed;
      removed = {};
      ids.forEach(function (id) {
        if (!reportNodeUses(id)) {
          offerDeletion(id, known[id]);
        }
      });
    });
  }

  // ---- the dialog ----------------------------------------------------------------------------

  editor.report = {
    defaults: function () {
      return {
        name: { value: '' },
        version: editor.common.versionDefault(),
        server: { value: '', type: SERVER_TYPE, required: true },
        period: {
          value: 'since-last-report',
          validate: function (v) {
            return PERIODS.indexOf(v) >= 0;
          },
        },
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
      var period = $('#node-input-period');
      if (PERIODS.indexOf(period.val()) < 0) {
        period.val('since-last-report');
      }
      var serverSelect = $('#node-input-server');
      var state = $('#node-plex-butler-report-journal');
      var button = $('#node-plex-butler-report-delete');
      var asked = 0;
      var size = 0;

      function show(text, error) {
        state.text(text).toggleClass('plex-butler-report-error', !!error);
      }

      function refresh() {
        var serverId = serverSelect.val();
        var mine = ++asked;
        button.prop('disabled', true);
        if (!isServerId(serverId)) {
          show(words('journal.chooseServer'));
          return;
        }
        show(words('journal.checking'));
        journalInfo(serverId).then(function (result) {
          if (mine !== asked) {
            return;
          }
          if (!result.ok) {
            show(words('journal.unavailable', { reason: result.text }), true);
            return;
          }
          size = result.data.bytes;
          if (!result.data.exists) {
            show(words('journal.none'));
            return;
          }
          var key = result.data.kept ? 'journal.kept' : 'journal.notKept';
          show(words(key, { size: sizeWords(size) }));
          button.prop('disabled', false);
        });
      }

      button.on('click', function () {
        var serverId = serverSelect.val();
        if (!isServerId(serverId)) {
          return;
        }
        var label = serverLabel(serverId);
        ask(
          words('journal.confirm', { server: label, size: sizeWords(size) }),
          'journal.cancel',
          true,
        ).then(function (yes) {
          if (!yes) {
            return;
          }
          button.prop('disabled', true);
          deleteJournal(serverId, label).then(refresh);
        });
      });
      serverSelect.on('change', refresh);
      refresh();
    },
  };
})();
