// The page's own code, as a file (script-src 'self' forbids inline scripts).
(function () {
  var params = new URLSearchParams(location.search);
  if (params.get('tenant')) sessionStorage.setItem('lpw-demo.tenant', params.get('tenant'));
  var domain = sessionStorage.getItem('lpw-demo.tenant') || 'http://127.0.0.1:4000';
  var lock = new Auth0LockPasswordless('demo-client', domain, {
    strictCsp: true,
    auth: { redirectUrl: location.origin + location.pathname }
  });
  window.cspLock = lock;
  lock.on('authenticated', function (result) {
    document.getElementById('result').textContent = 'Logged in as ' + result.idTokenPayload.phone_number;
  });
  lock.on('authorization_error', function (err) {
    document.getElementById('result').textContent = 'Error: ' + err.errorDescription;
  });
  document.addEventListener('DOMContentLoaded', function () {
    document.getElementById('btn-login').addEventListener('click', function () { lock.show(); });
  });
})();
