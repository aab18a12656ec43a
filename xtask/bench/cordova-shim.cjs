// Same story as auth0-js-shim.cjs for the plugin Lock imports.
require('auth0-js/dist/cordova-auth0-plugin.min.js');
module.exports = { __esModule: true, default: globalThis.CordovaAuth0Plugin };
