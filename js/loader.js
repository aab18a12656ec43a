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

  // The first screen, drawn here while the wasm downloads (as a server-rendered page is before
  // hydration): what the widget's phone screen first shows (Modal + PhoneScreen in src/ui), from
  // the same options, texts (`__lpwEarly`: English, the stylesheet and the regions, written by
  // `cargo xtask bundle` from the widget's sources) and browser APIs. It takes keys at once; the
  // widget takes over when its own phone screen is up, with what was typed, the caret, the focus,
  // a ticked box, an opened country list and a waiting submit. Not drawn where the first screen
  // needs what only the wasm knows (a `+…` prefilled number picks its country by the tables).
  var EARLY = typeof __lpwEarly === 'object' ? __lpwEarly : null;

  function flatten(value, prefix, out) {
    if (value && typeof value === 'object') {
      for (var k in value) flatten(value[k], prefix ? prefix + '.' + k : k, out);
    } else if (typeof value === 'string') out[prefix] = value;
    return out;
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs) if (attrs[k] != null) e.setAttribute(k, attrs[k]);
    (children || []).forEach(function (c) { if (c != null) e.append(c); });
    return e;
  }

  // i18n.rs' rich_text: `<br>` a space, http(s) or site-relative links as links, the rest text.
  function rich(source) {
    var out = [], text = '', rest = source, at;
    while ((at = rest.indexOf('<')) >= 0) {
      text += rest.slice(0, at);
      var tail = rest.slice(at), lower = tail.toLowerCase();
      var br = /^<br( ?\/)?>/.exec(lower);
      if (br) { text += ' '; rest = tail.slice(br[0].length); continue; }
      var link = null, end = tail.indexOf('>');
      if (lower.lastIndexOf('<a ', 0) === 0 && end >= 0) {
        var attrs = tail.slice(3, end), href = attrs.toLowerCase().indexOf('href=');
        var after = href >= 0 ? attrs.slice(href + 5) : '', quote = after.charAt(0);
        var close = lower.indexOf('</a>', end);
        if ((quote === '"' || quote === "'") && after.indexOf(quote, 1) > 0 && close >= 0) {
          var url = after.slice(1, after.indexOf(quote, 1)), label = tail.slice(end + 1, close);
          var safe = /^https?:\/\//.test(url) || (url.charAt(0) === '/' && url.charAt(1) !== '/');
          if (safe && label.indexOf('<') < 0) link = [url, label, close + 4];
        }
      }
      if (link) {
        if (text) out.push(text);
        text = '';
        out.push(el('a', { href: link[0], target: '_blank', rel: 'noopener noreferrer' }, [link[1]]));
        rest = tail.slice(link[2]);
        continue;
      }
      text += '<';
      rest = tail.slice(1);
    }
    if (text + rest) out.push(text + rest);
    return out;
  }

  // browser.rs' draws_flags: a flag is one glyph where the platform draws it, two letters boxed
  // where it does not.
  function drawsFlags() {
    var probe = document.createElement('span'), s = probe.style;
    s.position = 'absolute'; s.visibility = 'hidden'; s.whiteSpace = 'nowrap'; s.fontSize = '32px';
    document.body.appendChild(probe);
    probe.textContent = '\u{1F1FA}\u{1F1F8}';
    var pair = probe.offsetWidth;
    probe.textContent = '\u{1F1FA}';
    var one = probe.offsetWidth;
    probe.remove();
    return one > 0 ? pair < 1.5 * one : true;
  }

  // The widget's stylesheet (the wasm is built without it: `external-style`), as the widget
  // would put it in; under `strictCsp` the page links lock-passwordless.css instead.
  function addStyle(options) {
    if (EARLY && options.strictCsp !== true && document.head && !document.getElementById('lpw-style')) {
      document.head.appendChild(el('style', { id: 'lpw-style' }, [EARLY.css]));
    }
  }

  function drawEarly(self, options, shown) {
    if (!EARLY || self._early !== null || !document.body) return;
    var show = shown ? JSON.parse(shown) : {};
    if (!show || typeof show !== 'object') return;
    var theme = Object.assign({}, options.theme, show.theme);
    var language = show.language || options.language || 'en';
    var overrides = show.languageDictionary !== undefined ? show.languageDictionary : options.languageDictionary;
    var inline = typeof options.container === 'string';
    var container = inline ? document.getElementById(options.container) : null;
    if (inline && !container) return; // the widget reports it
    var prefill = (options.prefill && options.prefill.phoneNumber) || '';
    var regions = {};
    EARLY.regions.split(',').forEach(function (r) { regions[r.slice(0, 2)] = r.slice(2); });
    // ui/mod.rs' start_region: `defaultLocation`, else the browser language's region, else US.
    var region;
    if (typeof options.defaultLocation === 'string') region = options.defaultLocation.toUpperCase();
    else if (/^\s*\+/.test(prefill)) return;
    else {
      var part = String(navigator.language || 'en').split(/[-_]/)[1] || '';
      region = part.length === 2 && regions[part.toUpperCase()] ? part.toUpperCase() : 'US';
    }
    self._early = { pending: true };
    var draw = function (file) {
      if (!self._early || !self._early.pending) return;
      var texts = Object.assign({}, EARLY.en, file || {}, flatten(overrides, '', {}));
      var t = function (key) { return texts[key]; };
      var prefix = inline ? 'lpw-' + options.container : 'lpw';
      var id = function (name) { return prefix + '-' + name; };
      var name = region;
      try {
        name = new Intl.DisplayNames([language === 'ua' ? 'uk' : language, 'en'], { type: 'region' }).of(region) || region;
      } catch (e) { /* no Intl.DisplayNames, or a code it refuses: the code, as the widget shows */ }
      var mark = drawsFlags() ? String.fromCodePoint.apply(null, region.split('').map(function (c) {
        return 0x1F1E6 + c.charCodeAt(0) - 65;
      })) : region;
      var scheme = theme.colorScheme === 'light' ? ' lpw-light' : theme.colorScheme === 'dark' ? ' lpw-dark' : '';
      var closable = options.closable !== false && !inline;
      var labeled = theme.labeledSubmitButton !== false;
      var mustAccept = options.mustAcceptTerms === true;
      var flash = show.flashMessage;
      var kinds = { error: 'lpw-banner lpw-banner--error', success: 'lpw-banner lpw-banner--success', info: 'lpw-banner lpw-banner--info' };
      var input = el('input', { id: id('phone'), class: 'lpw-input', type: 'tel', name: 'phone', autocomplete: 'tel',
        placeholder: t('phoneNumberInputPlaceholder'), 'aria-invalid': 'false', 'aria-describedby': id('phone-error') });
      input.value = prefill;
      var country = el('button', { type: 'button', id: id('country'), class: 'lpw-country', value: region,
        'aria-haspopup': 'listbox', 'aria-expanded': 'false', 'aria-labelledby': id('country-label') + ' ' + id('country') }, [
        el('span', { class: 'lpw-country-value' }, [regions[region] ? mark + ' ' + name + ' +' + regions[region] : region]),
        el('span', { class: 'lpw-country-caret', 'aria-hidden': 'true' }, ['\u25BE'])]);
      var accept = mustAccept ? el('input', { type: 'checkbox', id: id('terms-accept') }) : null;
      var termsError = mustAccept ? el('p', { class: 'lpw-field-error', role: 'alert' }) : null;
      var submit = el('button', { type: 'submit', class: 'lpw-submit', 'aria-label': labeled ? null : t('submitLabel') },
        [labeled ? t('submitLabel') : '\u2192']);
      var form = el('form', { class: 'lpw-body', novalidate: '' }, [
        el('p', { class: 'lpw-instructions' }, rich(t('passwordlessSMSInstructions'))),
        el('span', { id: id('country-label'), class: 'lpw-label' }, [t('countryLabel')]),
        country,
        el('label', { class: 'lpw-label', for: id('phone') }, [t('phoneNumberInputLabel')]),
        input,
        el('p', { id: id('phone-error'), class: 'lpw-field-error', role: 'alert' }),
        mustAccept ? el('label', { class: 'lpw-terms lpw-terms--accept' }, [accept, el('span', {}, rich(t('signUpTerms')))]) :
          options.showTerms !== false ? el('p', { class: 'lpw-terms' }, rich(t('signUpTerms'))) : null,
        termsError,
        submit]);
      var close = closable ? el('button', { type: 'button', class: 'lpw-close', 'aria-label': t('closeLabel') }, ['\u00D7']) : null;
      var modal = el('div', { class: 'lpw-modal', role: inline ? 'region' : 'dialog', 'aria-modal': inline ? null : 'true',
        'aria-labelledby': id('title') }, [
        el('div', { class: 'lpw-header' }, [
          typeof theme.logo === 'string' ? el('img', { class: 'lpw-logo', src: theme.logo, alt: '' }) : null,
          el('h2', { id: id('title'), class: 'lpw-title' }, [t('title')]),
          close]),
        el('div', { 'aria-live': 'polite' }, [flash && kinds[flash.type] && typeof flash.text === 'string' ?
          el('div', { class: kinds[flash.type], role: 'status' }, [flash.text]) : null]),
        form]);
      var root = el('div', { class: 'lpw-root lpw-early' + (inline ? ' lpw-inline' : '') + scheme, lang: language,
        dir: /^(ar|fa|he)$/.test(language) ? 'rtl' : 'ltr' }, [inline ? null : el('div', { class: 'lpw-overlay' }), modal]);
      if (typeof theme.primaryColor === 'string' && theme.primaryColor) root.style.setProperty('--lpw-primary', theme.primaryColor);
      var early = { root: root, input: input, accept: accept, texts: textsOf(root), container: container,
        // Widgets already on the page (another lock's) are not this one.
        others: [].slice.call((container || document.body).querySelectorAll('.lpw-root')), late: false,
        submit: false, country: false, observer: null };
      // Where focus was before: the widget gives it back there when it closes (browser.rs' FocusReturn).
      root.lpwReturn = document.activeElement;
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        if (mustAccept && !accept.checked) {
          termsError.textContent = t('error.signUp.social_signup_needs_terms_acception');
          return;
        }
        early.submit = true;
        submit.disabled = true;
        if (labeled) submit.textContent = t('sendingLabel');
      });
      if (accept) accept.addEventListener('change', function () { termsError.textContent = ''; });
      // Touched: the widget, hidden behind this screen, keeps the country shown (browser.rs'
      // early_screen_touched; its geo lookup may answer before it takes over).
      var touched = function () { root.setAttribute('data-touched', ''); };
      input.addEventListener('input', touched);
      country.addEventListener('click', function () { touched(); early.country = !early.country; });
      if (close) close.addEventListener('click', function () { self.hide(); });
      modal.addEventListener('keydown', function (e) {
        if (e.key === 'Escape' && closable) self.hide();
        // Tab and Shift+Tab stay in the dialog, as browser.rs' trap_tab keeps them (what this
        // screen has that takes the focus: links, buttons, the field, the terms' box).
        if (e.key !== 'Tab' || inline) return;
        var items = modal.querySelectorAll('a[href],button:not(:disabled),input'), n = items.length - 1;
        var at = document.activeElement, out = !modal.contains(at);
        if (out || at === items[e.shiftKey ? 0 : n]) {
          e.preventDefault();
          items[e.shiftKey ? n : 0].focus();
        }
      });
      (container || document.body).appendChild(root);
      if (options.autofocus === undefined ? !inline : options.autofocus === true) input.focus();
      self._early = early;
      early.observer = new MutationObserver(function () { handOff(self); });
      early.observer.observe(container || document.body, { childList: true, subtree: true, characterData: true });
      handOff(self);
    };
    if (language === 'en') return draw(null);
    var base = typeof options.languageBaseUrl === 'string' ? options.languageBaseUrl : languageBaseUrl;
    fetch(base.replace(/\/+$/, '') + '/' + language + '.json').then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(draw, function () { if (self._early && self._early.pending) self._early = null; });
  }

  // The dictionary's texts a phone screen shows: the widget takes over once its own are the same
  // (its language file may land after its first screen).
  function textsOf(root) {
    return [].map.call(root.querySelectorAll('.lpw-title, .lpw-instructions, .lpw-label, .lpw-terms'),
      function (e) { return e.textContent; }).join('\n');
  }

  // The widget's own root for this lock: in the container, or in the host it appends to <body>.
  function widgetRoot(early) {
    var roots = (early.container || document.body).querySelectorAll('.lpw-root');
    for (var i = 0; i < roots.length; i++) {
      var r = roots[i], host = r.parentNode;
      if (r !== early.root && early.others.indexOf(r) < 0 && (early.container ? host === early.container
        : host.classList && host.classList.contains('auth0-lock-passwordless'))) return r;
    }
    return null;
  }

  // Called on every change under the drawn screen's parent, until the widget's phone screen is up
  // with the same texts: then the widget's, with everything the drawn one was given.
  function handOff(self) {
    var early = self._early;
    if (!early || early.pending) return;
    var root = widgetRoot(early);
    if (!root) return;
    var input = root.querySelector('input[type=tel][name=phone]');
    var ready = input && (early.late || textsOf(root) === early.texts);
    if (!ready && (input || root.querySelector('.lpw-status[aria-busy=true]'))) {
      root.style.display = 'none'; // loading, or its texts not in yet: the drawn screen stays
      early.hidden = root;
      // Texts that never come to agree (a slow language file, say) do not keep it hidden.
      if (input && !early.timer) early.timer = setTimeout(function () { early.late = true; handOff(self); }, 3000);
      return;
    }
    // Once more on the next task: the widget's first reactive updates (its field's value among
    // them) run in microtasks after it is mounted, and must not overwrite what is carried over.
    // Until then keys still land in the drawn field.
    if (ready && !early.due) {
      if (!early.next) early.next = setTimeout(function () { early.due = true; handOff(self); }, 0);
      return;
    }
    var drawn = early.input, focused = document.activeElement === drawn;
    var value = drawn.value, from = drawn.selectionStart, to = drawn.selectionEnd;
    var ticked = early.accept && early.accept.checked;
    removeEarly(self);
    if (!ready) return; // anything else (an error): the widget's own
    if (focused) input.focus();
    if (value !== input.value) {
      input.value = value;
      try { input.setSelectionRange(from, to); } catch (e) { /* not a text field's selection */ }
      input.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText' }));
    } else if (focused) {
      try { input.setSelectionRange(from, to); } catch (e) { /* as above */ }
    }
    var box = root.querySelector('input[type=checkbox]');
    if (ticked && box && !box.checked) {
      box.checked = true;
      box.dispatchEvent(new Event('change', { bubbles: true }));
    }
    var country = root.querySelector('.lpw-country');
    if (early.country && country) country.click();
    else if (early.submit && input.form) input.form.requestSubmit();
  }

  function removeEarly(self) {
    var early = self._early;
    self._early = null;
    if (!early || early.pending) return;
    early.observer.disconnect();
    clearTimeout(early.timer);
    clearTimeout(early.next);
    early.root.remove();
    // The widget's root shows again (and with no style attribute when that was all it had).
    var hidden = early.hidden;
    if (hidden) {
      hidden.style.removeProperty('display');
      if (hidden.getAttribute('style') === '') hidden.removeAttribute('style');
    }
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
    this._options = options || {};
    this._early = null;
    var loaded = load();
    addStyle(this._options);
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
    // The widget failed before its phone screen: nothing drawn stays over its message.
    if (name === 'unrecoverable_error') removeEarly(this);
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
    var json = options === undefined ? undefined : JSON.stringify(options);
    if (!this._handle && this._queue && !this._destroyed) drawEarly(this, this._options, json);
    return this._call('show', [json]);
  };
  Auth0LockPasswordless.prototype.hide = function () {
    removeEarly(this);
    return this._call('hide', []);
  };
  Auth0LockPasswordless.prototype.destroy = function () {
    removeEarly(this);
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
