// Loaded before the widget: every CSP violation on this page is recorded and shown.
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
  var out = document.getElementById('violations');
  if (out) out.textContent = window.cspViolations.join('\n');
});
