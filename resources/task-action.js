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

  /**
   * The dialog: one task field whose string type offers the server's tasks (typed: the names
   * that match; its list button: all of them), and start's wait options.
   */
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
    var refreshButton = $('#node-input-task-refresh');
    var note = $('#node-input-task-note');
    var mark = $('#node-input-task-mark');
    var listRows = $('.node-input-task-list-row');
    var tasks = [];
    var loadedKey = null;
    var requestNumber = 0;

    function optionLabel(task) {
      var text =
        task.title && task.title !== task.name ? task.title + ' (' + task.name + ')' : task.name;
      if (task.enabled === false) {
        text = _('list.disabled', { task: text });
      }
      return text;
    }

    /** A task as the lists show it: its words, with the part the user typed in bold. */
    function optionElement(task, typed) {
      var text = optionLabel(task);
      var at = typed ? text.toLowerCase().indexOf(typed.toLowerCase()) : -1;
      var element = $('<span>');
      if (at < 0) {
        return element.text(text);
      }
      $('<span>').text(text.slice(0, at)).appendTo(element);
      $('<b>')
        .text(text.slice(at, at + typed.length))
        .appendTo(element);
      $('<span>')
        .text(text.slice(at + typed.length))
        .appendTo(element);
      return element;
    }

    /** The completions of what is typed: tasks whose name or title contains it. */
    function completions(value) {
      var typed = (value || '').trim();
      return tasks
        .filter(function (task) {
          return optionLabel(task).toLowerCase().indexOf(typed.toLowerCase()) !== -1;
        })
        .map(function (task) {
          return { value: task.name, label: optionElement(task, typed) };
        });
    }

    function container() {
      return taskInput.next('.red-ui-typedInput-container');
    }

    /** The whole list under the field, from its list button. */
    function showList() {
      var menu = RED.popover.menu({
        options: tasks.map(function (task) {
          return { value: task.name, label: optionElement(task, '') };
        }),
        width: container().outerWidth(),
        maxHeight: 300,
        class: 'plex-butler-task-menu',
        onselect: function (option) {
          taskInput.typedInput('value', option.value);
          taskInput.trigger('change');
        },
      });
      menu.show({ target: container(), align: 'left' });
    }

    // The string type's list button: Node-RED calls a function given as "expand", and reads
    // the button's icon from its "icon".
    var listButton = function () {
      showList();
    };
    listButton.icon = 'fa-list';

    taskInput.typedInput({
      default: 'str',
      typeField: $('#node-input-taskType'),
      types: [
        { value: 'all', label: _('types.all'), hasValue: false },
        {
          value: 'str',
          label: RED._('typedInput.type.str'),
          icon: 'red/images/typedInput/az.svg',
          autoComplete: function (value) {
            return completions(value);
          },
          expand: listButton,
        },
        'msg',
        'flow',
        'global',
        'env',
      ],
    });
    container().find('.red-ui-typedInput-option-expand').attr('title', _('label.taskList'));

    function typedName() {
      return taskInput.typedInput('type') === 'str'
        ? (taskInput.typedInput('value') || '').trim()
        : '';
    }

    // A name typed by hand that the list lacks stays as it is, marked under the field.
    function markUnknown() {
      var name = typedName();
      var known =
        !name ||
        /^\$\{[^}]+\}$/.test(name) ||
        tasks.some(function (task) {
          return task.name === name;
        });
      mark.empty().toggle(!known);
      if (!known) {
        $('<i class="fa fa-exclamation-triangle"></i>').appendTo(mark);
        $('<span>')
          .text(' ' + _('list.notInList', { task: name }))
          .appendTo(mark);
      }
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
      markUnknown();
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
      markUnknown();
    });
    taskInput.on('keyup', markUnknown);
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
