/*
 * Editor code shared by every node of this package. Node-RED serves this folder at
 * resources/@plex-butler/node-red-plex-butler/ and runs a node's inline registerType script only
 * once every <script src> of its .html has loaded. Those load in no set order, so the scripts use
 * one another only inside functions that the editor calls after that, never while loading.
 */
(function () {
  'use strict';

  var editor = (window.PlexButlerEditor = window.PlexButlerEditor || {});

  /** What the runtime tells the editor to check fields with (nodes/server/editor-contract.ts). */
  function rules() {
    return RED.settings.plexButlerServerRules;
  }

  editor.common = {
    rules: rules,

    /** Every node's `version` default: new nodes get this release's; saved ones keep theirs. */
    versionDefault: function () {
      return { value: rules().configVersion };
    },

    /** oneditsave: the dialog saved the node in this release's shape. */
    markCurrent: function () {
      this.version = rules().configVersion;
    },

    /** A validator's answer for a refused value: the message when the editor asks for one. */
    refused: function (type, key, opt, vars) {
      return opt ? RED.nodes.getType(type)._(type + '.errors.' + key, vars) : false;
    },

    /**
     * A validator of a number field by the runtime's rule for it (`field` in rules().numbers):
     * its limits, whether empty means the default and whether `${NAME}` may stand for it.
     */
    numberValidator: function (type, field, key) {
      return function (v, opt) {
        var rule = rules().numbers[field];
        var n = Number(v);
        var ok;
        if (v === '' || v === undefined || v === null) {
          ok = rule.empty;
        } else if (rule.env && typeof v === 'string' && /^\$\{[^}]+\}$/.test(v)) {
          ok = true;
        } else {
          ok =
            Number.isFinite(n) &&
            (rule.exclusiveMin ? n > rule.min : n >= rule.min) &&
            n <= rule.max &&
            (!rule.integer || Number.isInteger(n));
        }
        return ok || editor.common.refused(type, key || field, opt, rule);
      };
    },

    /** A number field's default, with its validator. */
    numberDefault: function (type, field, key) {
      return {
        value: rules().numbers[field].default,
        validate: editor.common.numberValidator(type, field, key),
      };
    },

    /** The defaults of every number field the runtime lists for a node type, by property. */
    numberDefaults: function (type) {
      var defaults = {};
      Object.keys(rules().numbers).forEach(function (field) {
        var rule = rules().numbers[field];
        if (rule.node === type) {
          defaults[rule.property] = editor.common.numberDefault(type, field, rule.property);
        }
      });
      return defaults;
    },

    /** Fills the dialog's empty number fields of a node type in with the runtime's defaults. */
    fillNumbers: function (type, inputPrefix) {
      Object.keys(rules().numbers).forEach(function (field) {
        var rule = rules().numbers[field];
        var input = $('#' + inputPrefix + rule.property);
        if (rule.node === type && input.val() === '') {
          input.val(rule.default);
        }
      });
    },

    /**
     * The words of a message the runtime sent (`{message, messageRef}`), in the editor's
     * language: the reference is looked up in the package's catalog, which the build gives every
     * node's catalog under "plex-butler"; the runtime's English words when a key is missing.
     */
    words: function (type, answer) {
      return editor.common.wordsBy(RED.nodes.getType(type)._, answer);
    },

    /**
     * As words, looked up by `translate(key, params)`, which answers the key itself for a key
     * its catalog lacks (as a node type's `_` does): for the panel, which is no node type.
     */
    wordsBy: function (translate, answer) {
      if (!answer || typeof answer !== 'object') {
        return '';
      }
      var english = typeof answer.message === 'string' ? answer.message : '';
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

    /**
     * The editor of a node that reads from the server on any input and writes the answer to a
     * message property of the user's choice (get tasks, schedule): its defaults with
     * `extraDefaults`, labels, and the property field.
     */
    readingNode: function (type, extraDefaults) {
      function validateProperty(v, opt) {
        if (typeof v === 'string' && v !== '' && RED.utils.validatePropertyExpression(v)) {
          return true;
        }
        return editor.common.refused(type, 'property', opt);
      }
      return {
        defaults: function () {
          return $.extend(
            {
              name: { value: '' },
              version: editor.common.versionDefault(),
              server: { value: '', type: 'plex-butler-server', required: true },
            },
            extraDefaults,
            { property: { value: 'payload', required: true, validate: validateProperty } },
          );
        },
        paletteLabel: function () {
          return this._(type + '.paletteLabel');
        },
        label: function () {
          return this.name || this._(type + '.paletteLabel');
        },
        inputLabels: function () {
          return this._(type + '.inputLabel');
        },
        outputLabels: function () {
          return this._(type + '.outputLabel');
        },
        oneditprepare: function () {
          var property = $('#node-input-property');
          if (!property.val()) {
            property.val('payload');
          }
          property.typedInput({ default: 'msg', types: ['msg'] });
        },
      };
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
     * Asks one of this package's admin routes, which all answer `{ ok, data?, error? }`. The
     * promise always resolves: with `{ ok: true, data }`, or with `{ ok: false, data?, code?,
     * text }` where `text` says why in the editor's language (see describeHttpFailure for
     * `say` and `withStatusText`).
     */
    call: function (type, path, body, say, withStatusText) {
      var result = $.Deferred();
      // A call whose failure is not shown needs no words for it.
      say =
        say ||
        function () {
          return '';
        };
      function settle(answer, xhr, textStatus) {
        if (answer && answer.ok === true) {
          result.resolve({ ok: true, data: answer.data || {} });
          return;
        }
        var error = answer && answer.error;
        result.resolve({
          ok: false,
          data: answer && answer.data,
          code: error && error.code,
          text:
            error && typeof error.message === 'string'
              ? editor.common.words(type, error)
              : xhr
                ? editor.common.describeHttpFailure(type, xhr, textStatus, say, withStatusText)
                : say('badAnswer'),
        });
      }
      editor.common
        .postJson(path, body)
        .done(function (answer) {
          settle(answer);
        })
        .fail(function (xhr, textStatus) {
          settle(xhr && xhr.responseJSON, xhr, textStatus);
        });
      return result.promise();
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
