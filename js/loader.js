/* Auth0LockPasswordless: Lock's API in front of the leptos-passwordless wasm module.
 * The constructor returns at once; calls made before the module has loaded are queued and run
 * in order. Listeners live here (on, off, once); the module reports every event to `_dispatch`.
 * `loadModule()` resolves to the wasm-bindgen exports; the classic script and the ES module
 * build each pass their own, with where the language files and the phone tables (fetched once
 * the widget runs, while the first screen is already up) are. */
function __lpwMakeLock(loadModule, languageBaseUrl, phoneTablesUrl) {
  'use strict';
  var loading = null;
  function load() {
    if (!loading) loading = loadModule();
    return loading;
  }

  // The client configuration script (`/client/{id}.js`), by LockConfig::client_config_url's
  // rule: `configurationBaseUrl`, else the tenant's root.
  function clientConfigUrl(clientID, domain, options) {
    var root = domain.replace(/\/+$/, '');
    if (!/^https?:\/\//.test(root)) root = 'https://' + root;
    var base = typeof options.configurationBaseUrl === 'string' ? options.configurationBaseUrl : root;
    var id = encodeURIComponent(clientID).replace(/[!'()*]/g, function (c) {
      return '%' + c.charCodeAt(0).toString(16).toUpperCase();
    });
    return base.replace(/\/+$/, '') + '/client/' + id + '.js';
  }
  // Asked for while the wasm downloads: the widget's own <script> for it, once it runs, takes
  // this answer instead of waiting a round trip more before the phone screen. (Not under
  // `strictCsp`, where the widget reads it with fetch.)
  var preloaded = {};
  function preloadClientConfig(clientID, domain, options) {
    if (options.strictCsp === true || !document.head) return;
    var url = clientConfigUrl(clientID, domain, options);
    if (preloaded[url]) return;
    preloaded[url] = true;
    var link = document.createElement('link');
    link.rel = 'preload';
    link.as = 'script';
    link.href = url;
    document.head.appendChild(link);
  }

  // The page's first Intl.DisplayNames and Intl.Collator load the browser's locale data (60-90
  // ms at a phone's speed, measured under `cargo xtask bench load`'s mobile profile), which the
  // country picker otherwise waits for once the wasm has arrived; made here, with the locales
  // the widget asks for (browser.rs: RegionNames::new, collator), they load while it downloads.
  var warmed = {};
  function warmIntl(language) {
    var lang = typeof language === 'string' && language ? language : 'en';
    if (lang === 'ua') lang = 'uk';
    if (warmed[lang] || typeof Intl !== 'object') return;
    warmed[lang] = true;
    setTimeout(function () {
      try {
        if (Intl.DisplayNames) new Intl.DisplayNames([lang, 'en'], { type: 'region' }).of('US');
        if (Intl.Collator) new Intl.Collator([lang, 'en']).compare('a', 'b');
      } catch (e) { /* a locale the browser refuses: the widget falls back as it would have */ }
    }, 0);
  }

  var EVENTS = ['show', 'hide', 'unrecoverable_error', 'authenticated', 'authorization_error', 'hash_parsed',
    'socialOrPhoneNumber ready', 'socialOrPhoneNumber submit', 'vcode ready', 'vcode submit'];

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
    if (options !== undefined && options !== null && typeof options !== 'object') {
      throw new Error('The `options` argument must be an object.');
    }
    var self = this;
    this._queue = [];
    this._handle = null;
    this._listeners = {};
    this._destroyed = false;
    var loaded = load();
    preloadClientConfig(clientID, domain, options || {});
    warmIntl((options || {}).language);
    loaded.then(function (m) {
      if (self._destroyed) return;
      try {
        var opts = Object.assign({}, options || {});
        // Language files ship next to the script, in i18n/.
        if (opts.language && opts.languageBaseUrl === undefined) opts.languageBaseUrl = languageBaseUrl;
        self._handle = new m.LockHandle(clientID, domain, JSON.stringify(opts), function (name, payload) {
          self._dispatch(name, payload);
        }, phoneTablesUrl);
      } catch (e) {
        self._queue = null;
        self._dispatch('unrecoverable_error', { error: 'unrecoverable_error', errorDescription: (e && e.message) || String(e) });
        return;
      }
      var queue = self._queue;
      self._queue = null;
      queue.forEach(function (call) { self._handle[call[0]].apply(self._handle, call[1]); });
    }, function (e) {
      self._queue = null;
      self._dispatch('unrecoverable_error', { error: 'unrecoverable_error', errorDescription: 'the widget could not load: ' + ((e && e.message) || e) });
    });
  }

  Auth0LockPasswordless.prototype._dispatch = function (name, payload) {
    // Destroyed: what was in flight finishes silently.
    if (this._destroyed) return;
    var list = (this._listeners[name] || []).slice();
    if (name === 'unrecoverable_error' && list.length === 0) {
      // As Lock does: an unrecoverable error nobody listens to is thrown.
      var message = (payload && payload.errorDescription) || 'unrecoverable error';
      setTimeout(function () { throw new Error(message); });
      return;
    }
    var self = this;
    list.forEach(function (entry) {
      if (entry.once) self.off(name, entry.fn);
      entry.fn.call(self, payload);
    });
  };

  Auth0LockPasswordless.prototype._call = function (name, args) {
    if (this._destroyed) return this;
    var self = this;
    // A callback whose answer arrives after destroy() is not called.
    args = args.map(function (a) {
      return typeof a === 'function' ? function () { if (!self._destroyed) a.apply(null, arguments); } : a;
    });
    if (this._handle) { this._handle[name].apply(this._handle, args); }
    else if (this._queue) { this._queue.push([name, args]); }
    return this;
  };

  Auth0LockPasswordless.prototype.on = function (event, fn, once) {
    if (EVENTS.indexOf(event) < 0) {
      this._dispatch('unrecoverable_error', { error: 'unrecoverable_error', errorDescription: 'Invalid event: ' + event });
      return this;
    }
    if (typeof fn !== 'function') throw new TypeError('A listener function is required.');
    (this._listeners[event] = this._listeners[event] || []).push({ fn: fn, once: !!once });
    return this;
  };
  Auth0LockPasswordless.prototype.once = function (event, fn) { return this.on(event, fn, true); };
  Auth0LockPasswordless.prototype.off = function (event, fn) {
    var list = this._listeners[event] || [];
    this._listeners[event] = fn ? list.filter(function (e) { return e.fn !== fn; }) : [];
    return this;
  };
  Auth0LockPasswordless.prototype.removeListener = Auth0LockPasswordless.prototype.off;

  Auth0LockPasswordless.prototype.show = function (options) {
    return this._call('show', [options === undefined ? undefined : JSON.stringify(options)]);
  };
  Auth0LockPasswordless.prototype.hide = function () { return this._call('hide', []); };
  Auth0LockPasswordless.prototype.destroy = function () {
    this._call('destroy', []);
    this._destroyed = true;
    this._listeners = {};
    return this;
  };
  Auth0LockPasswordless.prototype.getUserInfo = function (token, cb) { return this._call('getUserInfo', [token, cb]); };
  Auth0LockPasswordless.prototype.checkSession = function (params, cb) {
    if (typeof params === 'function') { cb = params; params = undefined; }
    if (typeof cb !== 'function') throw new TypeError('checkSession needs a callback function.');
    return this._call('checkSession', [params == null ? undefined : JSON.stringify(params), cb]);
  };
  Auth0LockPasswordless.prototype.resumeAuth = function (hash, cb) { return this._call('resumeAuth', [hash, cb]); };
  Auth0LockPasswordless.prototype.logout = function (query) {
    return this._call('logout', [query && query.returnTo ? String(query.returnTo) : undefined, !!(query && query.federated)]);
  };

  return Auth0LockPasswordless;
}
