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
    /** A validator's answer for a refused value: the message when the editor asks for one. */
    refused: function (type, key, opt) {
      return opt ? RED.nodes.getType(type)._(type + '.errors.' + key) : false;
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
     * answer carries one, else what the HTTP outcome means. `say(key, vars)` translates one of
     * timeout, networkError, unauthorized, forbidden, notFound and httpError in the caller's
     * namespace; `withStatusText` adds the reason phrase to the status of httpError.
     */
    describeHttpFailure: function (xhr, textStatus, say, withStatusText) {
      var answer = xhr && xhr.responseJSON;
      if (answer && answer.error && typeof answer.error.message === 'string') {
        return answer.error.message;
      }
      if (answer && typeof answer.message === 'string' && answer.message) {
        return answer.message;
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
