/* The ES module build: `import { Auth0LockPasswordless } from './lock-passwordless.mjs'`. */
import init, * as wasm from './lock_passwordless_js_esm.js';

export const Auth0LockPasswordless = __lpwMakeLock(function () {
  return init({ module_or_path: new URL('lock_passwordless_js_esm_bg.wasm', import.meta.url) }).then(function () { return wasm; });
}, new URL('i18n', import.meta.url).href, new URL('phone-tables', import.meta.url).href);
export default Auth0LockPasswordless;
