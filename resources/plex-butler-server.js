/*
 * Editor of the plex-butler-server config node: validators, label, and the dialog (client
 * identifier, default numbers, TLS rows, Test connection). See common.js for how it is loaded.
 */
(function () {
  'use strict';

  var TYPE = 'plex-butler-server';
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
      ok =
        /^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(:\d{1,5})?(\/[^\s?#]*)?$/.test(
          text,
        );
    }
    return ok || editor.common.refused(TYPE, 'url', opt);
  }

  function validateRetries(v, opt) {
    if (typeof v === 'string' && /^\$\{[^}]+\}$/.test(v)) {
      return true;
    }
    var n = Number(v);
    if (v !== '' && v !== null && Number.isInteger(n) && n >= 0 && n <= 10) {
      return true;
    }
    return editor.common.refused(TYPE, 'retries', opt);
  }

  /** The same range as the runtime's check (lib/settings.ts LIMITS.timeoutMs). */
  function validateTimeout(v, opt) {
    if (typeof v === 'string' && /^\$\{[^}]+\}$/.test(v)) {
      return true;
    }
    var n = Number(v);
    if (v === '' || v === undefined || (Number.isFinite(n) && n >= 100 && n <= 600000)) {
      return true;
    }
    return editor.common.refused(TYPE, 'timeout', opt);
  }

  function validatePollInterval(v, opt) {
    var n = Number(v);
    if (v === '' || v === undefined || (Number.isFinite(n) && n >= 0.1 && n <= 3600)) {
      return true;
    }
    return editor.common.refused(TYPE, 'pollInterval', opt);
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

  /** The dialog: client identifier, default numbers, TLS rows and Test connection. */
  function prepareDialog(node) {
    var _ = function (key, vars) {
      return node._(TYPE + '.' + key, vars);
    };

    // --- client identifier: kept once there; the runtime's own when the saved one is unset --
    var clientIdInput = $('#node-config-input-clientId');
    var current = (node.version || 1) >= editor.common.CONFIG_VERSION;
    if (!clientIdInput.val() || !current) {
      // What the runtime uses (or would) for this node; a new one only if that cannot be had.
      editor.common
        .postJson('plex-butler/client-id', {
          id: node.id,
          clientId: clientIdInput.val(),
          version: node.version,
        })
        .done(function (answer) {
          clientIdInput.val(answer && answer.clientId ? answer.clientId : randomUuid());
        })
        .fail(function () {
          if (!clientIdInput.val()) {
            clientIdInput.val(randomUuid());
          }
        });
    }

    // --- numbers: fill the defaults in when the fields are empty ----------------------
    if ($('#node-config-input-timeout').val() === '') {
      $('#node-config-input-timeout').val(10000);
    }
    if ($('#node-config-input-retries').val() === '') {
      $('#node-config-input-retries').val(2);
    }
    if ($('#node-config-input-pollInterval').val() === '') {
      $('#node-config-input-pollInterval').val(5);
    }

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
        verifyTls: $('#node-config-input-verifyTls').is(':checked'),
        ca: $('#node-config-input-ca').val(),
        timeout: timeout,
        clientId: clientIdInput.val(),
      };
      testButton.prop('disabled', true);
      showResult('pending', _('test.testing'));
      editor.common
        .postJson('plex-butler/test-connection', body)
        .done(function (answer) {
          if (answer && answer.ok === true) {
            showResult('ok', editor.common.words(TYPE, answer) || _('test.ok'));
          } else if (answer && typeof answer.message === 'string') {
            showResult('error', editor.common.words(TYPE, answer));
          } else {
            showResult('error', _('test.failed', { message: _('test.badAnswer') }));
          }
        })
        .fail(function (xhr, textStatus) {
          var message = editor.common.describeHttpFailure(TYPE, xhr, textStatus, sayTest, true);
          showResult('error', _('test.failed', { message: message }));
        })
        .always(function () {
          testButton.prop('disabled', false);
        });
    });
  }

  editor.server = {
    defaults: function () {
      return {
        name: { value: '' },
        version: editor.common.versionDefault(),
        url: { value: '', required: true, validate: validateUrl },
        clientId: { value: '' },
        verifyTls: { value: true },
        ca: { value: '' },
        timeout: { value: 10000, validate: validateTimeout },
        retries: { value: 2, validate: validateRetries },
        pollInterval: { value: 5, validate: validatePollInterval },
      };
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
  };
})();
