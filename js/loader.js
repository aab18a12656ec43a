/* Auth0LockPasswordless: Lock's API in front of the leptos-passwordless wasm module.
 * The constructor returns at once; calls made before the module has loaded are queued. */
(function () {
  'use strict';
  var script = document.currentScript;
  var base = script && script.src ? script.src.replace(/[^/?#]*([?#].*)?$/, '') : '';
  var loading = null;
  function load() {
    if (!loading) {
      var init = __lpwWasm;
      loading = init({ module_or_path: base + 'lock_passwordless_js_bg.wasm' }).then(function () { return init; });
    }
    return loading;
  }

  function Auth0LockPasswordless(clientID, domain, options) {
    if (!(this instanceof Auth0LockPasswordless)) {
      throw new TypeError('Auth0LockPasswordless must be called with new');
    }
    if (typeof clientID !== 'string') {
      throw new Error('A `clientID` string must be provided as first argument.');
    }
    if (typeof domain !== 'string') {
      throw new Error('A `domain` string must be provided as second argument.');
    }
    var self = this;
    this._queue = [];
    this._handle = null;
    this._failed = null;
    load().then(function (m) {
      try {
        self._handle = new m.LockHandle(clientID, domain, JSON.stringify(options || {}));
      } catch (e) {
        self._fail(e);
        return;
      }
      var queue = self._queue;
      self._queue = null;
      queue.forEach(function (call) { self._handle[call[0]].apply(self._handle, call[1]); });
    }, function (e) { self._fail(e); });
  }

  Auth0LockPasswordless.prototype._fail = function (e) {
    var message = (e && e.message) || String(e);
    console.error('Auth0LockPasswordless: ' + message);
    this._failed = message;
    (this._queue || []).forEach(function (call) {
      if (call[0] === 'on' && call[1][0] === 'unrecoverable_error') {
        call[1][1]({ error: 'unrecoverable_error', errorDescription: message });
      }
    });
    this._queue = null;
  };

  Auth0LockPasswordless.prototype._call = function (name, args) {
    if (this._handle) { this._handle[name].apply(this._handle, args); }
    else if (this._queue) { this._queue.push([name, args]); }
    return this;
  };

  Auth0LockPasswordless.prototype.on = function (event, fn) { return this._call('on', [event, fn]); };
  Auth0LockPasswordless.prototype.show = function (options) {
    return this._call('show', [options === undefined ? undefined : JSON.stringify(options)]);
  };
  Auth0LockPasswordless.prototype.hide = function () { return this._call('hide', []); };
  Auth0LockPasswordless.prototype.getUserInfo = function (token, cb) { return this._call('getUserInfo', [token, cb]); };

  window.Auth0LockPasswordless = Auth0LockPasswordless;
})();
