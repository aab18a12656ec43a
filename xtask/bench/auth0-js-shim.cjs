// auth0-js declares "type": "module" but its `main` is a UMD file, so a bundler treats it as ESM and
// the UMD falls back to a global. Load it for that effect and hand the global on.
require('auth0-js/dist/auth0.min.js');
module.exports = globalThis.auth0;
