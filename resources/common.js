/*
 * Editor code shared by every node of this package. Node-RED serves this folder at
 * resources/@plex-butler/node-red-plex-butler/ and runs a node's inline registerType script only
 * once every <script src> of its .html has loaded. Those load in no set order, so the scripts use
 * one another only inside functions that the editor calls after that, never while loading.
 */
(function () {
  'use strict';

  var editor = (window.PlexButlerEditor = window.PlexButlerEditor || {});

  editor.common = {
    /** The config version this release saves; nodes/migrations.ts reads the same number. */
    CONFIG_VERSION: 2,

    /** Every node's `version` default: new nodes get this release's; saved ones keep theirs. */
    versionDefault: function () {
      return { value: editor.common.CONFIG_VERSION };
    },

    /** A server config's certificate mode; release 0.1.0 saved a "verify" box instead. */
    tlsModeOf: function (config) {
      if (config.tlsMode) {
        return config.tlsMode;
      }
      return config.verifyTls === false || config.verifyTls === 'false' ? 'off' : 'verify';
    },

    /** oneditsave: the dialog saved the node in this release's shape. */
    markCurrent: function () {
      this.version = editor.common.CONFIG_VERSION;
    },

    /** A validator's answer for a refused value: the message when the editor asks for one. */
    refused: function (type, key, opt) {
      return opt ? RED.nodes.getType(type)._(type + '.errors.' + key) : false;
    },

    /**
     * The words of a message the runtime sent (`{message, messageRef}`), in the editor's
     * language: the reference is looked up in the package's catalog, which the build gives every
     * node's catalog under "plex-butler"; the runtime's English words when a key is missing.
     */
    words: function (type, answer) {
      if (!answer || typeof answer !== 'object') {
        return '';
      }
      var english = typeof answer.message === 'string' ? answer.message : '';
      var translate = RED.nodes.getType(type)._;
      var missing = false;
      function format(ref) {
        var params = {};
        Object.keys(ref.params || {}).forEach(function (name) {
          var value = ref.params[name];
          params[name] = value && typeof value === 'object' ? format(value) : value;
        });
        var key = 'plex-butler.' + ref.key;
        var text = translate(key, params);
        if (text === key) {
          missing = true;
        }
        return text;
      }
      var ref = answer.messageRef;
      if (!ref || typeof ref.key !== 'string') {
        return english;
      }
      var text = format(ref);
      return missing && english ? english : text;
    },

    /** A node the user has named shows its label in italics. */
    labelStyle: function () {
      return this.name ? 'node_label_italic' : '';
    },

    /** POSTs `body` as JSON to one of this package's admin endpoints, relative to the editor. */
    postJson: function (path, body) {
      return $.ajax({
        url: path,
        type: 'POST',
        contentType: 'application/json',
        data: JSON.stringify(body),
        dataType: 'json',
        timeout: 120000,
      });
    },

    /**
     * Why a request to Node-RED's admin API failed, in words: the runtime's own message when its
     * answer carries one (in the editor's language, see words), else what the HTTP outcome
     * means. `type` is the node type whose catalog to use; `say(key, vars)` translates one of
     * timeout, networkError, unauthorized, forbidden, notFound and httpError in the caller's
     * namespace; `withStatusText` adds the reason phrase to the status of httpError.
     */
    describeHttpFailure: function (type, xhr, textStatus, say, withStatusText) {
      var answer = xhr && xhr.responseJSON;
      if (answer && answer.error && typeof answer.error.message === 'string') {
        return editor.common.words(type, answer.error);
      }
      if (answer && typeof answer.message === 'string' && answer.message) {
        return editor.common.words(type, answer);
      }
      if (textStatus === 'timeout') {
        return say('timeout');
      }
      var status = xhr ? xhr.status : 0;
      if (!status) {
        return say('networkError');
      }
      if (status === 401) {
        return say('unauthorized');
      }
      if (status === 403) {
        return say('forbidden');
      }
      if (status === 404) {
        return say('notFound');
      }
      var reason = withStatusText && xhr.statusText ? ' ' + xhr.statusText : '';
      return say('httpError', { status: status + reason });
    },
  };
})();
