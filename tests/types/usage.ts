// Compiled with `tsc --noEmit --strict` by `cargo xtask test`: Lock's documented usage must type-check.
import { Auth0LockPasswordless, AuthResult, LockError } from '../../js/lock-passwordless';

const lock = new Auth0LockPasswordless('client-id', 'tenant.eu.auth0.com', {
  allowedConnections: ['sms'],
  auth: { redirectUrl: 'https://app.example/cb', responseType: 'token id_token', params: { scope: 'openid profile' } },
  theme: { primaryColor: '#635dff', labeledSubmitButton: false },
  prefill: { phoneNumber: '+31612345678' },
});
lock.on('authenticated', (authResult: AuthResult) => {
  localStorage.setItem('accessToken', authResult.accessToken ?? '');
  lock.getUserInfo(authResult.accessToken ?? '', (error, profile) => {
    if (error) { console.error(error.errorDescription); return; }
    console.log(profile?.phone_number);
  });
});
lock.once('authorization_error', (e: LockError) => console.error(e.error));
lock.on('show', () => undefined).off('show');
lock.show({ flashMessage: { type: 'info', text: 'Welcome back' } }).hide();
lock.checkSession({}, (err, result) => console.log(err?.error, result?.idTokenPayload));
lock.resumeAuth(window.location.hash, () => undefined);
lock.logout({ returnTo: 'https://app.example/' });
const global: typeof Auth0LockPasswordless = window.Auth0LockPasswordless;
void global;
lock.destroy();
