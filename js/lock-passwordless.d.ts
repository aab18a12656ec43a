// Type declarations for the leptos-passwordless JS bundle: Auth0 Lock Passwordless's API.

export type LockEventName =
  | 'show'
  | 'hide'
  | 'unrecoverable_error'
  | 'authenticated'
  | 'authorization_error'
  | 'hash_parsed'
  | 'socialOrPhoneNumber ready'
  | 'socialOrPhoneNumber submit'
  | 'vcode ready'
  | 'vcode submit';

export interface AuthResult {
  accessToken: string | null;
  idToken: string | null;
  idTokenPayload: { [claim: string]: unknown } | null;
  refreshToken: string | null;
  state: string;
  expiresIn: number | null;
  tokenType: string | null;
  scope: string | null;
  appState: unknown;
  /** With `responseType: 'code'` and `auth.redeemCode: false`: for your backend. */
  code?: string;
  codeVerifier?: string;
  redirectUri?: string;
}

export interface LockError {
  error: string;
  errorDescription: string;
  description?: string;
}

export interface UserProfile {
  sub: string;
  phone_number?: string;
  phone_number_verified?: boolean;
  name?: string;
  nickname?: string;
  picture?: string;
  updated_at?: string;
  [claim: string]: unknown;
}

export interface FlashMessage {
  type: 'error' | 'success' | 'info';
  text: string;
}

export interface LockOptions {
  allowedConnections?: string[];
  auth?: {
    redirect?: boolean;
    redirectUrl?: string;
    responseType?: 'token id_token' | 'id_token' | 'token' | 'code';
    params?: { scope?: string; audience?: string };
    autoParseHash?: boolean;
    /** Not in Lock: finish at /oauth/token (desktop and mobile shells). */
    useTokenEndpoint?: boolean;
    /** Not in Lock: with responseType 'code', false hands the code to your backend. */
    redeemCode?: boolean;
    /** Not in Lock: keep tokens in storage (memory only by default). */
    persistTokens?: 'localStorage' | 'sessionStorage';
    /** The API audience (unless `params.audience` names one). */
    audience?: string;
    /** Accepted as in Lock; SMS mode has no last-login screen for it to change. */
    sso?: boolean;
  };
  container?: string;
  closable?: boolean;
  autoclose?: boolean;
  autofocus?: boolean;
  leeway?: number;
  hashCleanup?: boolean;
  theme?: {
    logo?: string;
    primaryColor?: string;
    labeledSubmitButton?: boolean;
    /** Not in Lock: follow the system ('auto', default) or force 'light' or 'dark'. */
    colorScheme?: 'auto' | 'light' | 'dark';
  };
  prefill?: { phoneNumber?: string };
  defaultLocation?: string;
  showTerms?: boolean;
  mustAcceptTerms?: boolean;
  languageDictionary?: { [key: string]: unknown };
  /** One of Lock's 44 languages; also the SMS's language. */
  language?: string;
  /** Where `<lang>.json` is fetched from (default: `i18n/` next to the script). */
  languageBaseUrl?: string;
  /** Where `/client/{clientID}.js` is read from (default: the tenant). */
  configurationBaseUrl?: string;
  /** Custom domains: the expected token issuer and the JWKS URL. */
  overrides?: { __tenant?: string; __token_issuer?: string; __jwks_uri?: string };
  /** Accepted as in Lock; SMS mode has no last-login screen for it to change. */
  rememberLastLogin?: boolean;
  /** Not in Lock: for a strict CSP: no injected <style> (link lock-passwordless.css) and the client configuration read with fetch. */
  strictCsp?: boolean;
  /** Not in Lock: digits per code (4..10). */
  codeLength?: number;
  /** Not in Lock: submit when the last digit arrives. */
  autoSubmitCode?: boolean;
}

/** What `show(options)` may change for one showing; each showing starts from the constructor's options. */
export interface ShowOptions {
  flashMessage?: FlashMessage;
  allowedConnections?: string[];
  auth?: { params?: { scope?: string; audience?: string } };
  theme?: { logo?: string; primaryColor?: string; labeledSubmitButton?: boolean; colorScheme?: 'auto' | 'light' | 'dark' };
  language?: string;
  languageDictionary?: Record<string, unknown>;
}

type Listener<E extends LockEventName> = E extends 'authenticated'
  ? (result: AuthResult) => void
  : E extends 'authorization_error' | 'unrecoverable_error'
    ? (error: LockError) => void
    : () => void;

export declare class Auth0LockPasswordless {
  constructor(clientID: string, domain: string, options?: LockOptions);
  show(options?: ShowOptions): this;
  hide(): this;
  destroy(): this;
  on<E extends LockEventName>(event: E, listener: Listener<E>): this;
  once<E extends LockEventName>(event: E, listener: Listener<E>): this;
  off<E extends LockEventName>(event: E, listener?: Listener<E>): this;
  getUserInfo(accessToken: string, callback: (error: LockError | null, profile?: UserProfile) => void): this;
  checkSession(params: { scope?: string; audience?: string }, callback: (error: LockError | null, result?: AuthResult) => void): this;
  checkSession(callback: (error: LockError | null, result?: AuthResult) => void): this;
  resumeAuth(hash: string, callback: (error: LockError | null, result?: AuthResult | null) => void): this;
  logout(query?: { returnTo?: string; federated?: boolean }): this;
}

declare global {
  interface Window {
    Auth0LockPasswordless: typeof Auth0LockPasswordless;
  }
}

export default Auth0LockPasswordless;
