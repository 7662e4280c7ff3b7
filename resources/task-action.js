/*
 * Editor of plex-butler-start and plex-butler-stop: one script for both, the node type tells them
 * apart (start alone can wait for completion). See common.js for how it is loaded.
 */
(function () {
  'use strict';

  /** The type with the "wait for completion" option and its second output. */
  var WAITING_TYPE = 'plex-butler-start';
  var editor = (window.PlexButlerEditor = window.PlexButlerEditor || {});

  function taskValidator(type) {
    return function (v, opt) {
      // The open dialog's type field counts only when the dialog edits this node.
      var typeField = $('#node-input-taskType');
      var editingThis = typeField.length && typeField.data('plex-butler-node') === this.id;
      var taskType = (editingThis && typeField.val()) || this.taskType || 'str';
      var value = typeof v === 'string' ? v : '';
      var ok;
      if (taskType === 'all') {
        ok = true;
      } else if (taskType === 'str') {
        // empty: the name comes from msg.task or msg.payload
        ok =
          value === '' ||
          new RegExp(editor.common.rules().taskNamePattern).test(value) ||
          /^\$\{[^}]+\}$/.test(value);
      } else if (taskType === 'msg' || taskType === 'flow' || taskType === 'global') {
        ok = value !== '' && RED.utils.validatePropertyExpression(value);
      } else if (taskType === 'env') {
        ok = value.trim() !== '';
      } else {
        ok = false;
      }
      return ok || editor.common.refused(type, 'invalidTask', opt);
    };
  }

  /** The dialog: the task field with the server's task list, and start's wait options. */
  function prepareDialog(node) {
    $('#node-input-taskType').data('plex-butler-node', node.id);
    var _ = function (key, vars) {
      return node._(node.type + '.' + key, vars);
    };
    // Offline fallback only: the server's live list (GET /butler) is the authority. The runtime
    // exports lib's STATIC_TASK_NAMES with the server node's settings.
    var STATIC_TASKS = editor.common.rules().taskNames.map(function (name) {
      return { name: name };
    });

    var taskInput = $('#node-input-task');
    var serverSelect = $('#node-input-server');
    var taskSelect = $('#node-input-task-select');
    var refreshButton = $('#node-input-task-refresh');
    var note = $('#node-input-task-note');
    var listRows = $('.node-input-task-list-row');
    var tasks = [];
    var loadedKey = null;
    var requestNumber = 0;

    taskInput.typedInput({
      default: 'str',
      typeField: $('#node-input-taskType'),
      types: [
        { value: 'all', label: _('types.all'), hasValue: false },
        'str',
        'msg',
        'flow',
        'global',
        'env',
      ],
    });

    function typedName() {
      return taskInput.typedInput('type') === 'str'
        ? (taskInput.typedInput('value') || '').trim()
        : '';
    }

    function optionLabel(task) {
      var text =
        task.title && task.title !== task.name ? task.title + ' (' + task.name + ')' : task.name;
      if (task.enabled === false) {
        text = _('list.disabled', { task: text });
      }
      return text;
    }

    // Shows the typed name in the list; a name typed by hand that the list lacks is kept.
    function syncSelect() {
      var name = typedName();
      taskSelect.find('option.plex-butler-typed').remove();
      if (!name) {
        taskSelect.val('');
        return;
      }
      var known = tasks.some(function (task) {
        return task.name === name;
      });
      if (!known) {
        $('<option>')
          .addClass('plex-butler-typed')
          .val(name)
          .text(_('list.notInList', { task: name }))
          .insertAfter(taskSelect.find('option').first());
      }
      taskSelect.val(name);
    }

    function fill(list) {
      tasks = list
        .filter(function (task) {
          return task && typeof task.name === 'string' && task.name !== '';
        })
        .slice()
        .sort(function (a, b) {
          return optionLabel(a).localeCompare(optionLabel(b));
        });
      taskSelect.empty();
      $('<option>').val('').text(_('list.choose')).appendTo(taskSelect);
      tasks.forEach(function (task) {
        $('<option>').val(task.name).text(optionLabel(task)).appendTo(taskSelect);
      });
      syncSelect();
    }

    function showOffline(message) {
      note.text(_('list.offline', { error: message || _('list.unknownError') }));
    }

    function sayList(key, vars) {
      return _('list.' + key, vars);
    }

    function load(force) {
      var serverId = serverSelect.val();
      var config = serverId && serverId !== '_ADD_' ? RED.nodes.node(serverId) : null;
      var body = null;
      if (config) {
        body = {
          server: serverId,
          url: config.url,
          // The same certificate settings as the server dialog's Test connection sends, as
          // saved (the runtime reads a config of release 0.1.0 as this release does).
          tlsMode: config.tlsMode,
          verifyTls: config.verifyTls,
          version: config.version,
          tls: config.tls,
          plexDirectHash: config.plexDirectHash,
          ca: config.ca,
          timeout: config.timeout,
          clientId: config.clientId,
        };
        // Present only when just typed in this editor session (or "__PWRD__" for a
        // saved one); otherwise the runtime uses the token it has stored.
        if (
          config.credentials &&
          typeof config.credentials.token === 'string' &&
          config.credentials.token !== ''
        ) {
          body.token = config.credentials.token;
        }
      }
      var key = JSON.stringify(body);
      if (!force && key === loadedKey) {
        return;
      }
      loadedKey = key;
      var thisRequest = ++requestNumber;
      if (!config) {
        fill(STATIC_TASKS);
        showOffline(_('list.noServer'));
        return;
      }
      note.text(_('list.loading'));
      refreshButton.prop('disabled', true).find('i').addClass('fa-spin');
      editor.common.call(node.type, 'plex-butler/tasks', body, sayList).then(function (answer) {
        if (thisRequest !== requestNumber) {
          return;
        }
        refreshButton.prop('disabled', false).find('i').removeClass('fa-spin');
        var list = answer.data && Array.isArray(answer.data.tasks) ? answer.data.tasks : [];
        fill(list.length > 0 ? list : STATIC_TASKS);
        if (answer.ok && list.length > 0) {
          note.text(_('list.live', { count: list.length }));
        } else {
          showOffline(answer.text);
        }
      });
    }

    taskSelect.on('change', function () {
      var name = taskSelect.val();
      if (name && name !== typedName()) {
        taskInput.typedInput('type', 'str');
        taskInput.typedInput('value', name);
      }
    });
    var lastType = taskInput.typedInput('type');
    var lastName = typedName();
    taskInput.on('change', function () {
      var current = taskInput.typedInput('type');
      var value = taskInput.typedInput('value') || '';
      var previousType = lastType;
      lastType = current;
      if (
        current === 'msg' &&
        previousType !== 'msg' &&
        (value === '' || (previousType === 'str' && value === lastName))
      ) {
        // msg.task is the documented place for a task name (not msg.OptimizeDatabase)
        taskInput.typedInput('value', 'task');
      } else if (
        current === 'str' &&
        previousType !== 'str' &&
        previousType !== undefined &&
        value !== lastName
      ) {
        // back to a fixed name: restore the last one instead of "task" from msg.task
        taskInput.typedInput('value', lastName);
      } else if (current === 'str') {
        lastName = value.trim();
      }
      listRows.toggle(current === 'str');
      syncSelect();
    });
    serverSelect.on('change', function () {
      load(false);
    });
    refreshButton.on('click', function (event) {
      event.preventDefault();
      load(true);
    });

    fill(STATIC_TASKS);
    listRows.toggle(taskInput.typedInput('type') === 'str');
    load(false);

    if (node.type === WAITING_TYPE) {
      // Waiting adds the second output ("finished"); the hidden field tells the editor.
      var waitBox = $('#node-input-wait');
      var toggleWait = function () {
        var waiting = waitBox.is(':checked');
        $('.node-input-wait-row').toggle(waiting);
        $('#node-input-outputs').val(waiting ? 2 : 1);
      };
      editor.common.fillNumbers(node.type, 'node-input-');
      waitBox.on('change', toggleWait);
      toggleWait();
    }
  }

  editor.taskAction = {
    defaults: function (type) {
      var defaults = {
        name: { value: '' },
        version: editor.common.versionDefault(),
        server: { value: '', type: 'plex-butler-server', required: true },
        task: { value: '', validate: taskValidator(type) },
        taskType: { value: 'str' },
      };
      if (type === WAITING_TYPE) {
        defaults.wait = { value: false };
        $.extend(defaults, editor.common.numberDefaults(type));
        defaults.waitType = { value: '' };
        defaults.waitTitle = { value: '' };
        defaults.outputs = { value: 1 };
      }
      return defaults;
    },

    paletteLabel: function () {
      return this._(this.type + '.paletteLabel');
    },

    label: function () {
      if (this.name) {
        return this.name;
      }
      var taskType = this.taskType || 'str';
      if (taskType === 'all') {
        return this._(this.type + '.nodeLabel.all');
      }
      if (!this.task) {
        return this._(this.type + '.paletteLabel');
      }
      var shown = this.task;
      if (taskType === 'env') {
        shown = '${' + this.task + '}';
      } else if (taskType !== 'str') {
        shown = taskType + '.' + this.task;
      }
      return this._(this.type + '.nodeLabel.task', { task: shown });
    },

    inputLabels: function () {
      return this._(this.type + '.inputLabel');
    },

    outputLabels: function (index) {
      return this._(this.type + (index === 1 ? '.outputLabelFinished' : '.outputLabel'));
    },

    oneditprepare: function () {
      prepareDialog(this);
    },
  };
})();
