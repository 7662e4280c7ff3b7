/*
 * Editor of the plex-butler-server config node: validators, label, and the dialog (client
 * identifier, default numbers, TLS rows, Test connection). See common.js for how it is loaded.
 */
(function () {
  'use strict';

  var TYPE = 'plex-butler-server';
  /** Node-RED's placeholder for a saved password field: "keep the saved one". */
  var SAVED_PASSWORD = '__PWRD__';
  var editor = (window.PlexButlerEditor = window.PlexButlerEditor || {});

  function validateUrl(v, opt) {
    var text = typeof v === 'string' ? v.trim() : '';
    var ok;
    if (text === '') {
      ok = false;
    } else if (text.indexOf('${') !== -1) {
      // ${PLEX_URL}: Node-RED substitutes the environment variable at deploy time.
      ok = true;
    } else {
      ok = new RegExp(editor.common.rules().urlPattern).test(text);
    }
    return ok || editor.common.refused(TYPE, 'url', opt);
  }

  /** A version 4 UUID for the client identifier, also on plain http (no secure context). */
  function randomUuid() {
    var c = window.crypto || window.msCrypto;
    if (c && typeof c.randomUUID === 'function') {
      try {
        return c.randomUUID();
      } catch {
        // randomUUID exists but refuses to run outside a secure context
      }
    }
    var bytes = new Uint8Array(16);
    if (c && typeof c.getRandomValues === 'function') {
      // getRandomValues also works on insecure origins (http://192.168.1.5:1880)
      c.getRandomValues(bytes);
    } else {
      for (var i = 0; i < 16; i++) {
        bytes[i] = Math.floor(Math.random() * 256);
      }
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    var hex = [];
    for (var j = 0; j < 16; j++) {
      hex.push((bytes[j] + 0x100).toString(16).slice(1));
    }
    return (
      hex.slice(0, 4).join('') +
      '-' +
      hex.slice(4, 6).join('') +
      '-' +
      hex.slice(6, 8).join('') +
      '-' +
      hex.slice(8, 10).join('') +
      '-' +
      hex.slice(10, 16).join('')
    );
  }

  /**
   * One id per opening of a server's dialog: the runtime holds the dialog's sign-in and the
   * server chosen in it under this id, and writes them to the config only on Done.
   */
  var drafts = new Map();
  /** Dialogs (by draft) that signed in or chose a server: Done changes the runtime's credentials. */
  var keptByDone = new Set();

  /** The chosen tls-config node's id, or '' for none. */
  function tlsConfigId() {
    var id = $('#node-config-input-tls').val();
    return id && id !== '_ADD_' ? id : '';
  }

  /**
   * Sign in with Plex, the account's servers and the ones on the LAN. The runtime does the
   * talking to plex.tv and keeps the token; the dialog only shows names and states.
   */
  function prepareSignIn(node, _, draft) {
    var button = $('#node-config-plex-butler-server-signin');
    var cancelButton = $('#node-config-plex-butler-server-signin-cancel');
    var status = $('#node-config-plex-butler-server-signin-status');
    var serverSelect = $('#node-config-plex-butler-server-servers');
    var discoverButton = $('#node-config-plex-butler-server-discover');
    var session = null;
    var popup = null;
    var tabOutOfSight = false;
    var timer = null;
    var accountServers = [];
    var lanServers = [];

    function show(kind, text) {
      status.empty().removeClass('plex-butler-test-ok plex-butler-test-error');
      var icon = {
        pending: 'fa-spinner fa-spin',
        ok: 'fa-user',
        notice: 'fa-hourglass-half',
        error: 'fa-times',
      }[kind];
      if (kind === 'ok') status.addClass('plex-butler-test-ok');
      if (kind === 'error') status.addClass('plex-butler-test-error');
      $('<i>')
        .addClass('fa ' + icon)
        .appendTo(status);
      $('<span>')
        .text(' ' + text)
        .appendTo(status);
    }

    /** Asks the runtime; resolves with `{ ok, data, text }` (see common.js). */
    function ask(path, body) {
      return editor.common.call(TYPE, path, body, function (key, vars) {
        return _('test.' + key, vars);
      });
    }

    function fillServers() {
      serverSelect.empty();
      $('<option>').val('').text(_('servers.choose')).appendTo(serverSelect);
      if (accountServers.length > 0) {
        var account = $('<optgroup>').attr('label', _('servers.account')).appendTo(serverSelect);
        accountServers.forEach(function (server) {
          var state = [
            _(server.owned ? 'servers.owned' : 'servers.shared'),
            _(server.online ? 'servers.online' : 'servers.offline'),
          ].join(', ');
          $('<option>')
            .val('account:' + server.machineIdentifier)
            .text(server.name + ' (' + state + ')')
            .appendTo(account);
        });
      }
      if (lanServers.length > 0) {
        var lan = $('<optgroup>').attr('label', _('servers.lan')).appendTo(serverSelect);
        lanServers.forEach(function (server, index) {
          $('<option>')
            .val('lan:' + index)
            .text(server.name + ' (' + server.url + ')')
            .appendTo(lan);
        });
      }
      serverSelect.prop('disabled', accountServers.length + lanServers.length === 0);
    }

    function loadServers() {
      ask('plex-butler/servers', { id: node.id, draft: draft }).then(function (answer) {
        if (answer.ok) {
          accountServers = answer.data.servers || [];
          fillServers();
        } else {
          show('error', answer.text);
        }
      });
    }

    /**
     * The token field as the runtime's answer says: `chosen`, the runtime holds the chosen
     * server's token (the field says "saved", so that Done keeps it and Deploy sends nothing;
     * typing a token instead replaces it); `cleared`, no saved token goes to this server.
     */
    function setTokenField(token) {
      if (token === 'chosen') {
        $('#node-config-input-token').val(SAVED_PASSWORD);
        // The address it was chosen for: kept by the runtime with Done, left as it is by Deploy.
        $('#node-config-input-tokenFor').val(SAVED_PASSWORD);
      } else {
        $('#node-config-input-token').val('');
      }
    }

    /**
     * A server picked from the list: one of the account's (at the best address plex.tv lists,
     * or at the one found on the LAN), or one found on the LAN. The runtime says where it
     * answers and what becomes of the token field.
     */
    function chooseServer(machineIdentifier, lan) {
      show('pending', _('servers.finding'));
      ask('plex-butler/servers/choose', {
        id: node.id,
        draft: draft,
        machineIdentifier: machineIdentifier,
        url: lan ? lan.url : '',
        // An https LAN address typed here stays when plex.tv lists it for this server.
        typedUrl: $('#node-config-input-url').val(),
        ca: $('#node-config-input-ca').val(),
        tls: tlsConfigId(),
      }).then(function (answer) {
        if (!answer.ok) {
          show('error', answer.text);
          return;
        }
        var chosen = answer.data;
        $('#node-config-input-url').val(chosen.url).trigger('change');
        $('#node-config-input-machineId').val(chosen.machineIdentifier);
        $('#node-config-input-plexDirectHash').val(chosen.plexDirectHash || '');
        if (chosen.tlsMode) {
          $('#node-config-input-tlsMode').val(chosen.tlsMode);
        }
        setTokenField(chosen.token);
        if (chosen.token !== 'chosen') {
          show('ok', _('servers.chosenNoToken', { name: lan ? lan.name : chosen.url }));
          return;
        }
        keptByDone.add(draft);
        if (!$('#node-config-input-name').val()) {
          $('#node-config-input-name').val(chosen.name);
        }
        show('ok', _('servers.chosen', { name: chosen.name }));
      });
    }

    function stopWaiting() {
      clearTimeout(timer);
      timer = null;
      button.prop('disabled', false);
      cancelButton.hide();
    }

    function poll() {
      timer = setTimeout(function () {
        // A closed tab and one that a Cross-Origin-Opener-Policy (on plex.tv or on a proxy in
        // front of Node-RED) hides from this page look the same here: polling goes on until
        // plex.tv answers or the code expires, and the words say what Cancel is for.
        if (popup !== null && popup.closed && !tabOutOfSight) {
          tabOutOfSight = true;
          show('notice', _('signIn.tabOutOfSight'));
        }
        ask('plex-butler/sign-in/status', { id: node.id, session: session }).then(answered);
      }, 1000);
    }

    function answered(answer) {
      if (!answer.ok) {
        stopWaiting();
        show('error', answer.text);
        return;
      }
      var signIn = answer.data;
      if (signIn.state === 'waiting') {
        poll();
        return;
      }
      stopWaiting();
      if (popup && !popup.closed) {
        popup.close();
      }
      if (signIn.state === 'signed-in') {
        keptByDone.add(draft);
        show('ok', editor.common.words(TYPE, signIn));
        loadServers();
      } else {
        show('error', editor.common.words(TYPE, signIn));
      }
    }

    function end() {
      ask('plex-butler/sign-in/cancel', { id: node.id, session: session }).then(answered);
    }

    button.on('click', function (event) {
      event.preventDefault();
      // Opened in the click itself: a window opened later, after an answer, is a blocked pop-up.
      popup = window.open('', '_blank');
      tabOutOfSight = false;
      button.prop('disabled', true);
      show('pending', _('signIn.starting'));
      ask('plex-butler/sign-in', {
        id: node.id,
        draft: draft,
        clientId: $('#node-config-input-clientId').val(),
      }).then(function (answer) {
        if (!answer.ok) {
          if (popup) popup.close();
          stopWaiting();
          show('error', answer.text);
          return;
        }
        session = answer.data.session;
        if (popup) {
          popup.location.href = answer.data.authUrl;
          show('pending', _('signIn.waiting'));
        } else {
          show('pending', _('signIn.popupBlocked'));
          $('<a>')
            .attr({ href: answer.data.authUrl, target: '_blank', rel: 'noopener' })
            .text(' ' + _('signIn.open'))
            .appendTo(status);
        }
        cancelButton.show();
        poll();
      });
    });

    cancelButton.hide().on('click', function (event) {
      event.preventDefault();
      clearTimeout(timer);
      end();
    });

    serverSelect.on('change', function () {
      var value = serverSelect.val() || '';
      if (value.indexOf('lan:') === 0) {
        var found = lanServers[Number(value.slice(4))];
        chooseServer(found.machineIdentifier, found);
      } else if (value.indexOf('account:') === 0) {
        chooseServer(value.slice(8));
      }
    });

    // A token typed by hand is the user's own, for whatever address: no longer bound to the
    // address a chosen token was kept for.
    $('#node-config-input-token').on('input', function () {
      // A blank, not empty: always sent with the next deploy (an empty value is not sent for a
      // config loaded without one), and a blank credential is removed by the runtime.
      $('#node-config-input-tokenFor').val(' ');
    });

    // An address typed by hand is no longer the chosen server's.
    $('#node-config-input-url').on('input', function () {
      $('#node-config-input-machineId').val('');
      $('#node-config-input-plexDirectHash').val('');
    });

    discoverButton.on('click', function (event) {
      event.preventDefault();
      discoverButton.prop('disabled', true);
      show('pending', _('servers.searching'));
      ask('plex-butler/discover', {}).then(function (answer) {
        discoverButton.prop('disabled', false);
        if (!answer.ok) {
          show('error', answer.text);
          return;
        }
        lanServers = answer.data.servers || [];
        fillServers();
        show(
          lanServers.length > 0 ? 'ok' : 'error',
          lanServers.length > 0
            ? _('servers.found', { count: lanServers.length })
            : _('servers.noneFound'),
        );
      });
    });

    fillServers();
    // Signed in before: the account's servers can be listed with the token the runtime keeps.
    if (node.credentials && node.credentials.has_accountToken) {
      loadServers();
    }
  }

  /** The dialog: client identifier, default numbers, TLS rows and Test connection. */
  function prepareDialog(node) {
    var _ = function (key, vars) {
      return node._(TYPE + '.' + key, vars);
    };

    // --- client identifier: kept once there; the runtime's own when the saved one is unset --
    // --- a config as this release reads it: its client identifier (the one the runtime uses,
    // or would; a new one only if that cannot be had) and, for a config of release 0.1.0, the
    // certificate mode its "verify" box meant -----------------------------------------------
    var clientIdInput = $('#node-config-input-clientId');
    var current = (node.version || 1) >= editor.common.rules().configVersion;
    if (!clientIdInput.val() || !current) {
      editor.common
        .call(TYPE, 'plex-butler/migrate', {
          id: node.id,
          clientId: clientIdInput.val(),
          tlsMode: node.tlsMode,
          verifyTls: node.verifyTls,
          version: node.version,
        })
        .then(function (answer) {
          var migrated = answer.ok ? answer.data : {};
          clientIdInput.val(migrated.clientId || clientIdInput.val() || randomUuid());
          if (migrated.tlsMode && !node.tlsMode) {
            $('#node-config-input-tlsMode').val(migrated.tlsMode);
          }
        });
    }

    // --- numbers: fill the runtime's defaults in when the fields are empty ------------------
    editor.common.fillNumbers(TYPE, 'node-config-input-');

    var draft = randomUuid();
    drafts.set(node.id, draft);
    prepareSignIn(node, _, draft);

    // --- TLS rows only make sense for https (or a URL from an environment variable) ----
    var urlInput = $('#node-config-input-url');
    function updateTlsRows() {
      var url = (urlInput.val() || '').trim();
      var show = /^https:/i.test(url) || url.indexOf('${') !== -1;
      $('.node-config-plex-butler-server-tls-row').toggle(show);
    }
    urlInput.on('change keyup input', updateTlsRows);
    updateTlsRows();

    // --- test connection ----------------------------------------------------------------
    var testButton = $('#node-config-plex-butler-server-test');
    var result = $('#node-config-plex-butler-server-test-result');
    function showResult(kind, text) {
      result.empty().removeClass('plex-butler-test-ok plex-butler-test-error');
      var icon = 'fa-spinner fa-spin';
      if (kind === 'ok') {
        result.addClass('plex-butler-test-ok');
        icon = 'fa-check';
      } else if (kind === 'error') {
        result.addClass('plex-butler-test-error');
        icon = 'fa-times';
      }
      $('<i>')
        .addClass('fa ' + icon)
        .appendTo(result);
      $('<span>')
        .text(' ' + text)
        .appendTo(result);
    }
    function sayTest(key, vars) {
      return _('test.' + key, vars);
    }
    testButton.on('click', function (event) {
      event.preventDefault();
      var url = (urlInput.val() || '').trim();
      if (!url) {
        showResult('error', _('test.noUrl'));
        return;
      }
      var timeoutText = ($('#node-config-input-timeout').val() || '').trim();
      var timeout =
        timeoutText !== '' && !isNaN(Number(timeoutText)) ? Number(timeoutText) : timeoutText;
      var body = {
        id: node.id,
        url: url,
        // Unchanged saved tokens show as "__PWRD__": sent as it is, the runtime then
        // uses the token it has stored for this node.
        token: $('#node-config-input-token').val(),
        tlsMode: $('#node-config-input-tlsMode').val(),
        tls: tlsConfigId(),
        plexDirectHash: $('#node-config-input-plexDirectHash').val(),
        ca: $('#node-config-input-ca').val(),
        timeout: timeout,
        clientId: clientIdInput.val(),
        draft: draft,
      };
      testButton.prop('disabled', true);
      showResult('pending', _('test.testing'));
      editor.common
        .call(TYPE, 'plex-butler/test-connection', body, sayTest, true)
        .then(function (answer) {
          testButton.prop('disabled', false);
          if (answer.ok) {
            showResult('ok', editor.common.words(TYPE, answer.data) || _('test.ok'));
          } else if (answer.code) {
            // The runtime's own reason, from the server: the words say it all.
            showResult('error', answer.text);
          } else {
            showResult('error', _('test.failed', { message: answer.text }));
          }
        });
    });
  }

  editor.server = {
    defaults: function () {
      return $.extend(editor.common.numberDefaults(TYPE), {
        name: { value: '' },
        version: editor.common.versionDefault(),
        url: { value: '', required: true, validate: validateUrl },
        clientId: { value: '' },
        tlsMode: { value: 'verify' },
        tls: { value: '', type: 'tls-config', required: false },
        machineId: { value: '' },
        plexDirectHash: { value: '' },
        ca: { value: '' },
      });
    },

    paletteLabel: function () {
      return this._(TYPE + '.paletteLabel');
    },

    label: function () {
      if (this.name) {
        return this.name;
      }
      var url = this.url || '';
      if (url && url.indexOf('${') === -1) {
        var match = /^https?:\/\/([^/?#]+)/i.exec(url.trim());
        if (match) {
          return match[1];
        }
      }
      return url || this._(TYPE + '.paletteLabel');
    },

    oneditprepare: function () {
      prepareDialog(this);
    },

    /** Done: the runtime keeps what this dialog signed in to and chose. */
    oneditsave: function () {
      editor.common.markCurrent.call(this);
      var draft = drafts.get(this.id);
      drafts.delete(this.id);
      if (!draft) {
        return false;
      }
      editor.common.call(TYPE, 'plex-butler/servers/keep', {
        id: this.id,
        draft: draft,
        // The chosen server's token is kept only for the chosen server's address.
        url: $('#node-config-input-url').val(),
        withServerToken: $('#node-config-input-token').val() === SAVED_PASSWORD,
      });
      // The runtime's credentials change with Done even when no field did: the node counts as
      // changed, so that the next deploy (of modified nodes too) restarts it with them.
      var kept = keptByDone.has(draft);
      keptByDone.delete(draft);
      return kept;
    },

    /** Cancel: nothing of this dialog is kept. */
    oneditcancel: function () {
      var draft = drafts.get(this.id);
      drafts.delete(this.id);
      if (draft) {
        keptByDone.delete(draft);
        editor.common.call(TYPE, 'plex-butler/servers/forget', { id: this.id, draft: draft });
      }
    },
  };
})();
