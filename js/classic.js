/* The classic build: one <script src> defines window.Auth0LockPasswordless; the wasm is fetched
 * from the script's own folder. */
(function () {
  var script = document.currentScript;
  var base = script && script.src ? script.src.replace(/[^/?#]*([?#].*)?$/, '') : '';
  window.Auth0LockPasswordless = __lpwMakeLock(function () {
    var init = __lpwWasm;
    return init({ module_or_path: base + 'lock_passwordless_js_bg.wasm' }).then(function () { return init; });
  }, base + 'i18n', base + 'phone-tables');
})();
