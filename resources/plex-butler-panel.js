/**
 * The Butler panel: a sidebar tab showing each deployed Plex server live (connection state,
 * maintenance window, task list, running activities, whether someone is watching, last night's
 * report), with Start and Stop for a user who may change flows. Everything a server says is put
 * on the page as text (jQuery .text()), never as markup.
 *
 * The panel follows one server at a time while it is shown: a lease it renews
 * (plex-butler/panel/watch) and gives back when hidden (unwatch). Updates come over Node-RED's
 * comms, sent by the runtime only to this editor's connection, which the panel names with a
 * random key of its own (plex-butler/panel/hello).
 */
(function () {
  'use strict';

  var editor = (window.PlexButlerEditor = window.PlexButlerEditor || {});
  var TAB_ID = 'plex-butler-panel';
  var MODULE = '@plex-butler/node-red-plex-butler';
  /** The plugin's catalog: its own words under plex-butler-panel, the library's under plex-butler. */
  var NAMESPACE = MODULE + '/plex-butler-panel';
  var TOPIC = 'plex-butler/panel';
  /** How often the panel checks whether it is still shown. */
  var VISIBLE_CHECK_MS = 1000;

  function t(key, vars) {
    return RED._(NAMESPACE + ':plex-butler-panel.' + key, vars);
  }

  /** A runtime message `{message, messageRef}` in the editor's language; English as a fallback. */
  function words(answer) {
    return editor.common.wordsBy(function (key, params) {
      var text = RED._(NAMESPACE + ':' + key, params);
      return text === NAMESPACE + ':' + key ? key : text;
    }, answer);
  }

  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, (byte) => {
        return ('0' + byte.toString(16)).slice(-2);
      })
      .join('');
  }

  /** POSTs to one of the panel's routes; always resolves `{ok, data, code?, text?}`. */
  function call(path, body) {
    var result = $.Deferred();
    function failed(xhr, textStatus) {
      var answer = xhr && xhr.responseJSON;
      if (answer && answer.error && typeof answer.error.message === 'string') {
        result.resolve({ ok: false, code: answer.error.code, text: words(answer.error) });
        return;
      }
      var status = xhr ? xhr.status : 0;
      var text =
        textStatus === 'timeout'
          ? t('http.timeout')
          : !status
            ? t('http.networkError')
            : status === 401
              ? t('http.unauthorized')
              : status === 403
                ? t('http.forbidden')
                : status === 404
                  ? t('http.notFound')
                  : t('http.httpError', { status: status });
      result.resolve({ ok: false, code: 'http-' + status, text: text });
    }
    $.ajax({
      url: 'plex-butler/panel/' + path,
      type: 'POST',
      contentType: 'application/json',
      data: JSON.stringify(body),
      dataType: 'json',
      timeout: 120000,
    })
      .done((answer) => {
        if (answer && answer.ok === true) {
          result.resolve({ ok: true, data: answer.data || {} });
        } else if (answer && answer.ok === false && answer.error) {
          result.resolve({ ok: false, code: answer.error.code, text: words(answer.error) });
        } else {
          result.resolve({ ok: false, text: t('http.badAnswer') });
        }
      })
      .fail(failed);
    return result.promise();
  }

  function clock(iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? '' : date.toLocaleTimeString();
  }

  function mayAct() {
    return RED.user.hasPermission('plex-butler-server.write');
  }

  function el(tag, className, text) {
    var element = $('<' + tag + '>');
    if (className) {
      element.addClass(className);
    }
    if (text !== undefined) {
      element.text(text);
    }
    return element;
  }

  /** `focus` names the button across renders, so that a view update keeps the keyboard focus. */
  function button(label, className, focus) {
    return $('<button type="button" class="red-ui-button red-ui-button-small">')
      .addClass(className)
      .attr('data-focus', focus)
      .text(label);
  }

  function section(title, className) {
    var box = el('div', 'plex-butler-panel-section ' + className);
    el('h4', 'plex-butler-panel-heading', title).appendTo(box);
    return box;
  }

  function Panel() {
    this.key = randomKey();
    this.content = el('div', 'plex-butler-panel');
    this.following = false;
    this.server = null;
    this.servers = [];
    this.view = null;
    this.renewTimer = null;
    this.asking = null;
    this.build();
  }

  Panel.prototype.build = function () {
    var top = el('div', 'plex-butler-panel-top').appendTo(this.content);
    var label = el('label', 'plex-butler-panel-picker-label', t('server')).appendTo(top);
    this.picker = $('<select class="plex-butler-panel-picker">').appendTo(top);
    label.attr('for', 'plex-butler-panel-picker');
    this.picker.attr('id', 'plex-butler-panel-picker');
    this.picker.on('change', () => {
      this.server = this.picker.val();
      this.view = null;
      this.render();
      this.watch();
    });
    this.state = el('div', 'plex-butler-panel-state').attr('role', 'status').appendTo(top);
    this.result = el('div', 'plex-butler-panel-result')
      .attr({ role: 'status', 'aria-live': 'polite' })
      .appendTo(this.content);
    this.body = el('div', 'plex-butler-panel-body').appendTo(this.content);
  };

  /** The tab was shown: follow a server until it is hidden again. */
  Panel.prototype.shown = function () {
    if (this.following) {
      return;
    }
    this.following = true;
    this.watch();
  };

  Panel.prototype.hidden = function () {
    if (!this.following) {
      return;
    }
    this.following = false;
    this.asking = null;
    clearTimeout(this.renewTimer);
    call('unwatch', { panel: this.key });
  };

  /** Asks for (or renews) the lease on the chosen server and shows what the answer says. */
  Panel.prototype.watch = function () {
    if (!this.following) {
      return;
    }
    clearTimeout(this.renewTimer);
    // Names this editor's comms connection first, so that updates reach it.
    RED.comms.send(TOPIC + '/hello', { panel: this.key });
    var asked = this.server;
    var asking = (this.asking = call('watch', { panel: this.key, server: asked }));
    asking.then((answer) => {
      if (this.asking !== asking || !this.following) {
        return;
      }
      var renewMs = 30000;
      if (answer.ok) {
        var data = answer.data;
        this.servers = data.servers || [];
        this.server = data.server;
        this.view = data.view;
        this.error = null;
        renewMs = data.renewMs || renewMs;
        // The comms connection was not known yet: ask again soon.
        if (!data.live && data.server) {
          renewMs = 1000;
        }
      } else {
        this.error = answer.text;
      }
      this.render();
      this.renewTimer = setTimeout(() => {
        this.watch();
      }, renewMs);
    });
  };

  Panel.prototype.onView = function (serverId, view) {
    if (!this.following || serverId !== this.server || !view) {
      return;
    }
    // A view made before the one shown (comms can overtake the watch answer's): not a step back.
    var shown = this.view;
    if (shown && shown.server && shown.server.id === serverId && view.at < shown.at) {
      return;
    }
    this.view = view;
    this.render();
  };

  Panel.prototype.onServers = function (data) {
    if (!this.following || !data || !Array.isArray(data.servers)) {
      return;
    }
    this.servers = data.servers;
    // Another deploy: follow the server again (or the first one, when it is gone).
    this.watch();
  };

  Panel.prototype.renderPicker = function () {
    var picker = this.picker;
    var chosen = this.server;
    var listed = JSON.stringify(this.servers);
    // Rebuilt only when the list changed: an open drop-down stays open through updates.
    if (listed === this.listed) {
      if (chosen && picker.val() !== chosen) {
        picker.val(chosen);
      }
      return;
    }
    this.listed = listed;
    picker.empty();
    this.servers.forEach((server) => {
      var label = server.host ? server.name + ' (' + server.host + ')' : server.name;
      $('<option>').val(server.id).text(label).appendTo(picker);
    });
    if (chosen) {
      picker.val(chosen);
    }
    picker.prop('disabled', this.servers.length < 2);
    picker.closest('.plex-butler-panel-top').toggle(this.servers.length > 0);
  };

  Panel.prototype.render = function () {
    var focused = $(window.document.activeElement);
    var focus = this.body.has(window.document.activeElement).length
      ? focused.attr('data-focus')
      : null;
    this.renderBody();
    if (focus) {
      this.body.find('[data-focus="' + focus + '"]').trigger('focus');
    }
  };

  Panel.prototype.renderBody = function () {
    this.renderPicker();
    var body = this.body.empty();
    var state = this.state.empty().removeClass('plex-butler-panel-bad');
    if (this.error) {
      state.addClass('plex-butler-panel-bad').text(this.error);
      return;
    }
    if (this.servers.length === 0) {
      el('p', 'plex-butler-panel-note', t('noServers')).appendTo(body);
      return;
    }
    var view = this.view;
    if (!view) {
      state.text(t('reading'));
      return;
    }
    this.renderState(view.connection);
    if (!mayAct()) {
      el('p', 'plex-butler-panel-note', t('readOnly')).appendTo(body);
    }
    // The short sections first; the task list and the switches are long.
    this.renderRunning(view).appendTo(body);
    this.renderViewers(view).appendTo(body);
    if (view.lastNight && (view.lastNight.kind === 'report' || view.lastNight.kind === 'failed')) {
      var night = section(t('lastNight.title'), 'plex-butler-panel-last-night');
      var text =
        view.lastNight.kind === 'report' ? words(view.lastNight) : words(view.lastNight.error);
      el('p', 'plex-butler-panel-report', text).appendTo(night);
      night.appendTo(body);
    }
    this.renderTasks(view).appendTo(body);
    this.renderSchedule(view).appendTo(body);
  };

  Panel.prototype.renderState = function (connection) {
    var state = this.state;
    var word =
      connection.state === 'polling'
        ? t('state.polling', { seconds: connection.pollSeconds || '?' })
        : t('state.' + connection.state);
    el('span', 'plex-butler-panel-state-word', word)
      .attr('data-state', connection.state)
      .appendTo(state);
    if (connection.error) {
      state.addClass('plex-butler-panel-bad');
      el('span', 'plex-butler-panel-state-error', words(connection.error)).appendTo(state);
    }
  };

  Panel.prototype.renderRunning = function (view) {
    var box = section(t('running.title'), 'plex-butler-panel-running');
    var list = el('ul', 'plex-butler-panel-activities').appendTo(box);
    var any = false;
    (view.running || []).forEach((activity) => {
      any = true;
      var item = el('li', 'plex-butler-panel-activity').attr('data-uuid', activity.uuid);
      el('div', 'plex-butler-panel-activity-title', activity.title).appendTo(item);
      if (activity.subtitle) {
        el('div', 'plex-butler-panel-activity-subtitle', activity.subtitle).appendTo(item);
      }
      var bar = el('div', 'plex-butler-panel-progress').attr({
        role: 'progressbar',
        'aria-valuemin': 0,
        'aria-valuemax': 100,
      });
      var known = typeof activity.progress === 'number' && activity.progress >= 0;
      if (known) {
        bar.attr('aria-valuenow', activity.progress);
      }
      el('div', 'plex-butler-panel-progress-fill')
        .css('width', (known ? Math.min(100, activity.progress) : 0) + '%')
        .appendTo(bar);
      bar.appendTo(item);
      var since = activity.startSeen
        ? t('running.since', { time: clock(activity.since) })
        : t('running.firstSeen', { time: clock(activity.since) });
      var progress = known
        ? t('running.progress', { progress: activity.progress })
        : t('running.noProgress');
      el('div', 'plex-butler-panel-activity-meta', progress + ' · ' + since).appendTo(item);
      item.appendTo(list);
    });
    (view.ended || []).forEach((activity) => {
      any = true;
      var item = el('li', 'plex-butler-panel-activity plex-butler-panel-ended').attr(
        'data-uuid',
        activity.uuid,
      );
      el('div', 'plex-butler-panel-activity-title', activity.title).appendTo(item);
      var bar = el('div', 'plex-butler-panel-progress').attr({
        role: 'progressbar',
        'aria-valuemin': 0,
        'aria-valuemax': 100,
        'aria-valuenow': 100,
      });
      el('div', 'plex-butler-panel-progress-fill').css('width', '100%').appendTo(bar);
      bar.appendTo(item);
      var ended = activity.duration
        ? t('ended.took', { time: clock(activity.endedAt), duration: activity.duration })
        : t('ended.finished', { time: clock(activity.endedAt) });
      el('div', 'plex-butler-panel-activity-meta', ended).appendTo(item);
      item.appendTo(list);
    });
    if (!any) {
      el('p', 'plex-butler-panel-note', t('running.none')).appendTo(box);
    }
    return box;
  };

  Panel.prototype.renderTasks = function (view) {
    var box = section(t('tasks.title'), 'plex-butler-panel-tasks');
    var tasks = view.tasks || { read: false, list: [] };
    if (tasks.error) {
      el('p', 'plex-butler-panel-bad', words(tasks.error)).appendTo(box);
    }
    if (!tasks.read) {
      if (!tasks.error) {
        el('p', 'plex-butler-panel-note', t('tasks.notRead')).appendTo(box);
      }
      return box;
    }
    var allowed = this.mayActNow();
    var all = el('div', 'plex-butler-panel-all').appendTo(box);
    button(t('button.startAll'), 'plex-butler-panel-start-all', 'start-all')
      .prop('disabled', !allowed)
      .on('click', () => {
        this.act('start-all', null);
      })
      .appendTo(all);
    var stopAll = button(t('button.stopAll'), 'plex-butler-panel-stop-all', 'stop-all')
      .prop('disabled', !allowed)
      .appendTo(all);
    stopAll.on('click', () => {
      this.confirming = this.server;
      this.render();
      this.body.find('[data-focus="confirm-no"]').trigger('focus');
    });
    if (allowed && this.confirming === this.server) {
      this.renderConfirm(all);
    }
    var list = el('ul', 'plex-butler-panel-task-list').appendTo(box);
    tasks.list.forEach((task) => {
      var item = el('li', 'plex-butler-panel-task').attr('data-task', task.name);
      var text = el('div', 'plex-butler-panel-task-text').appendTo(item);
      el('div', 'plex-butler-panel-task-title', task.title).appendTo(text);
      var facts = [
        task.name,
        task.enabled ? t('tasks.enabled') : t('tasks.disabled'),
        t('tasks.interval', { count: task.interval }),
      ];
      el('div', 'plex-butler-panel-task-meta', facts.join(' · ')).appendTo(text);
      var buttons = el('div', 'plex-butler-panel-task-buttons').appendTo(item);
      button(t('button.start'), 'plex-butler-panel-start', 'start:' + task.name)
        .attr('aria-label', t('button.startTask', { task: task.title || task.name }))
        .prop('disabled', !allowed)
        .on('click', () => {
          this.act('start', task.name);
        })
        .appendTo(buttons);
      button(t('button.stop'), 'plex-butler-panel-stop', 'stop:' + task.name)
        .attr('aria-label', t('button.stopTask', { task: task.title || task.name }))
        .prop('disabled', !allowed)
        .on('click', () => {
          this.act('stop', task.name);
        })
        .appendTo(buttons);
      item.appendTo(list);
    });
    return box;
  };

  /** Stop all asks first, in place; the question survives view updates until answered. */
  Panel.prototype.renderConfirm = function (row) {
    var name = this.view && this.view.server ? this.view.server.name : '';
    var confirm = el('div', 'plex-butler-panel-confirm').attr('role', 'alertdialog');
    el('p', '', t('button.confirmStopAll', { server: name })).appendTo(confirm);
    button(t('button.yes'), 'plex-butler-panel-confirm-yes primary', 'confirm-yes')
      .on('click', () => {
        this.confirming = null;
        this.act('stop-all', null);
      })
      .appendTo(confirm);
    button(t('button.no'), 'plex-butler-panel-confirm-no', 'confirm-no')
      .on('click', () => {
        this.confirming = null;
        this.render();
        this.body.find('[data-focus="stop-all"]').trigger('focus');
      })
      .appendTo(confirm);
    confirm.appendTo(row);
  };

  /** Whether the buttons act: the user may change flows, and no action is under way. */
  Panel.prototype.mayActNow = function () {
    return mayAct() && !this.busy;
  };

  Panel.prototype.act = function (path, task) {
    // Not only the disabled buttons: a click that reaches one anyway sends nothing.
    if (!this.mayActNow()) {
      return;
    }
    var server = this.server;
    var named = task || t('result.all');
    // The button pressed is disabled while asking; the focus goes back to it after.
    var focus = $(window.document.activeElement).attr('data-focus');
    this.result.text('').removeAttr('data-status');
    this.busy = true;
    this.render();
    call(path, { server: server, task: task }).then((answer) => {
      this.busy = false;
      this.result.removeClass('plex-butler-panel-bad plex-butler-panel-good');
      if (answer.ok) {
        var status = answer.data.status;
        var word = t('status.' + status);
        this.result
          .addClass('plex-butler-panel-good')
          .attr('data-status', status)
          .text(t('result.done', { task: named, status: word }));
      } else {
        this.result
          .addClass('plex-butler-panel-bad')
          .attr('data-status', answer.code || 'failed')
          .text(t('result.failed', { task: named, reason: answer.text }));
      }
      this.render();
      if (focus) {
        this.body.find('[data-focus="' + focus + '"]').trigger('focus');
      }
    });
  };

  Panel.prototype.renderSchedule = function (view) {
    var box = section(t('window.title'), 'plex-butler-panel-schedule');
    var schedule = view.schedule || { read: false };
    if (schedule.error) {
      el('p', 'plex-butler-panel-bad', words(schedule.error)).appendTo(box);
    }
    if (!schedule.value) {
      return box;
    }
    var window = schedule.value.window;
    el(
      'p',
      'plex-butler-panel-window',
      t('window.hours', {
        start: ('0' + window.startHour).slice(-2),
        end: ('0' + window.endHour).slice(-2),
      }),
    ).appendTo(box);
    var switches = schedule.value.switches || {};
    var names = Object.keys(switches);
    if (names.length > 0) {
      el('div', 'plex-butler-panel-subheading', t('window.switches')).appendTo(box);
      var list = el('ul', 'plex-butler-panel-switches').appendTo(box);
      names.forEach((name) => {
        el('li', '', name + ': ' + (switches[name] ? t('window.on') : t('window.off')))
          .attr('data-task', name)
          .appendTo(list);
      });
    }
    return box;
  };

  Panel.prototype.renderViewers = function (view) {
    var box = section(t('viewers.title'), 'plex-butler-panel-viewers');
    var viewers = view.viewers || { state: 'unknown', count: 0 };
    el('p', 'plex-butler-panel-viewers-state', t('viewers.' + viewers.state, viewers))
      .attr('data-state', viewers.state)
      .appendTo(box);
    if (viewers.error) {
      el('p', 'plex-butler-panel-bad', words(viewers.error)).appendTo(box);
    }
    return box;
  };

  var panel = null;
  var visibleTimer = null;

  /** Follows while the tab is on screen (its tab chosen, the sidebar open), else nothing. */
  function checkVisible() {
    if (!panel) {
      return;
    }
    if (panel.content.is(':visible')) {
      panel.shown();
    } else {
      panel.hidden();
    }
  }

  function onMessage(topic, data) {
    if (!panel) {
      return;
    }
    var view = TOPIC + '/view/';
    if (topic.indexOf(view) === 0) {
      panel.onView(topic.slice(view.length), data);
    } else if (topic === TOPIC + '/servers') {
      panel.onServers(data);
    }
  }

  /**
   * Comms connected again (Node-RED restarted, or the network dropped): the runtime let the
   * lease go with the old connection, so name the new one and ask again now, not at renewal.
   */
  function onCommsConnect() {
    if (panel) {
      panel.watch();
    }
  }

  function onNodeSetRemoved(set) {
    if (set && set.module === MODULE) {
      remove();
    }
  }

  /** The package was removed from the palette: the tab goes, and the panel follows nothing. */
  function remove() {
    if (!panel) {
      return;
    }
    window.clearInterval(visibleTimer);
    panel.hidden();
    RED.comms.unsubscribe(TOPIC + '/#', onMessage);
    RED.comms.off('connect', onCommsConnect);
    RED.events.off('registry:node-set-removed', onNodeSetRemoved);
    RED.sidebar.removeTab(TAB_ID);
    panel.content.remove();
    panel = null;
  }

  editor.panel = {
    /** The plugin was added (the editor loads it once): the tab, the subscription. */
    onadd: function () {
      if (panel) {
        return;
      }
      panel = new Panel();
      RED.comms.subscribe(TOPIC + '/#', onMessage);
      RED.comms.on('connect', onCommsConnect);
      RED.events.on('registry:node-set-removed', onNodeSetRemoved);
      RED.sidebar.addTab({
        id: TAB_ID,
        label: t('label'),
        name: t('name'),
        iconClass: 'fa fa-tasks',
        content: panel.content,
        enableOnEdit: true,
        onchange: function () {
          // Called as the tab is being shown; the content is visible a moment later.
          setTimeout(checkVisible, 0);
        },
      });
      visibleTimer = window.setInterval(checkVisible, VISIBLE_CHECK_MS);
    },
    onremove: remove,
  };
})();
