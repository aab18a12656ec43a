// Must NOT compile: `tsc` has to reject these, or the declarations check nothing.
import { Auth0LockPasswordless } from '../../js/lock-passwordless';
const lock = new Auth0LockPasswordless(42, 'tenant.eu.auth0.com');
lock.on('authenticate', () => undefined);
lock.show({ flashMessage: { type: 'warning', text: 'x' } });
