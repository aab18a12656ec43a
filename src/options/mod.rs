//! Lock's options, read by Lock's names (`allowedConnections`, `auth.redirectUrl`, …):
//! what the constructor takes (here), what one `show(options)` may change ([`ShowOptions`]), and the
//! checked configuration a widget runs with ([`LockConfig`]).

mod config;
mod read;
mod show;

pub use config::{LockConfig, OptionsError};
pub use show::{FlashKind, FlashMessage, ShowAuth, ShowOptions, ShowTheme};

use crate::json::Json;

/// The widget's options. Unknown options are refused by name rather than ignored.
///
/// ```
/// use leptos_passwordless::options::LockOptions;
/// let opts = LockOptions::from_json(
///     r#"{"allowedConnections":["sms"],"auth":{"redirectUrl":"https://app.example/cb","responseType":"token id_token"}}"#,
/// ).unwrap();
/// assert_eq!(opts.auth.redirect_url.as_deref(), Some("https://app.example/cb"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LockOptions {
    /// Connections the widget may offer; it needs `sms`.
    pub allowed_connections: Vec<String>,
    /// Authentication parameters.
    pub auth: AuthOptions,
    /// Whether the modal can be closed (close button, Esc).
    pub closable: bool,
    /// Clock skew allowed when checking ID token times, seconds (0..=300).
    pub leeway: u32,
    /// Close the widget after a login that did not leave the page.
    pub autoclose: bool,
    /// Remove the authorization response from the URL and history once read (Lock's
    /// `hashCleanup`).
    pub hash_cleanup: bool,
    /// Render inline in the element with this ID instead of as a modal (not closable, no
    /// autofocus unless asked for).
    pub container: Option<String>,
    /// Focus the first field when shown (default: true for the modal, false inline).
    pub autofocus: Option<bool>,
    /// Look.
    pub theme: Theme,
    /// Values to start with.
    pub prefill: Prefill,
    /// The country to start with (ISO code), before any lookup.
    pub default_location: Option<String>,
    /// Show `signUpTerms` under the form.
    pub show_terms: bool,
    /// Require a checkbox on the terms before a code is sent.
    pub must_accept_terms: bool,
    /// Lock's `languageDictionary`: texts by Lock's keys over the English ones.
    pub language_dictionary: Json,
    /// Not in Lock: digits in the tenant's codes (4..=10; Auth0's default 6).
    pub code_length: usize,
    /// Not in Lock: submit the code as soon as its last digit is typed, pasted or read by WebOTP.
    pub auto_submit_code: bool,
    /// The UI language, one of Lock's 44 (`en`, `fr`, `pt-br`, …); also the SMS's
    /// `X-Request-Language`. By default English texts and the browser's language for the SMS.
    pub language: Option<String>,
    /// Where `<lang>.json` files are fetched from (default `i18n`, next to the page or script).
    pub language_base_url: Option<String>,
    /// Where the client's configuration (`/client/{clientID}.js`) is read from; the tenant's
    /// root by default.
    pub configuration_base_url: Option<String>,
    /// For custom domains: `__token_issuer` (the expected ID token issuer) and `__jwks_uri`
    /// (where the signing keys are); `__tenant` is accepted as Lock does.
    pub overrides: Overrides,
    /// Lock's "last time you logged in with" screen, which Lock's SMS mode never shows:
    /// accepted so Lock configurations keep working, with nothing to change here.
    pub remember_last_login: bool,
    /// Not in Lock: for pages with a strict Content-Security-Policy (`script-src 'self'
    /// 'wasm-unsafe-eval'; style-src 'self'`). No `<style>` element is added (link
    /// `lock-passwordless.css` from the bundle instead), and the client configuration is read
    /// with `fetch` (`connect-src` must allow the tenant) rather than loaded as a script.
    pub strict_csp: bool,
}

/// `overrides` (custom domains).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// The tenant name (Lock uses it for CDN paths; nothing here needs it).
    pub tenant: Option<String>,
    /// The issuer ID tokens must carry, when it is not `https://{domain}/`.
    pub token_issuer: Option<String>,
    /// The JWKS URL, when it is not `https://{domain}/.well-known/jwks.json`.
    pub jwks_uri: Option<String>,
}

/// `theme`.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    /// Logo URL (https, http or a data: image), shown in the header.
    pub logo: Option<String>,
    /// The main color (a CSS color: `#635dff`, `rgb(…)`, a name).
    pub primary_color: Option<String>,
    /// Label the submit button with text (`true`) or an arrow.
    pub labeled_submit_button: bool,
    /// Not in Lock: `"auto"` (the system's light or dark preference, the default), `"light"`
    /// or `"dark"`.
    pub color_scheme: String,
}

impl Default for Theme {
    fn default() -> Self {
        Self {
            logo: None,
            primary_color: None,
            labeled_submit_button: true,
            color_scheme: "auto".into(),
        }
    }
}

/// `prefill`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prefill {
    /// A phone number for the input (national for `defaultLocation`, or international).
    pub phone_number: Option<String>,
}

impl Default for LockOptions {
    fn default() -> Self {
        Self {
            allowed_connections: vec!["sms".into()],
            auth: AuthOptions::default(),
            closable: true,
            leeway: 60,
            autoclose: false,
            hash_cleanup: true,
            container: None,
            autofocus: None,
            theme: Theme::default(),
            prefill: Prefill::default(),
            default_location: None,
            show_terms: true,
            must_accept_terms: false,
            language_dictionary: Json::Null,
            code_length: crate::otp::DEFAULT_CODE_LENGTH,
            auto_submit_code: true,
            language: None,
            language_base_url: None,
            configuration_base_url: None,
            overrides: Overrides::default(),
            remember_last_login: true,
            strict_csp: false,
        }
    }
}

/// A builder over Lock's options, for Rust: each method sets one option and returns the options,
/// and [`LockConfig::new`] checks the whole as Lock's constructor does.
///
/// ```
/// use leptos_passwordless::{LockConfig, LockOptions};
///
/// let options = LockOptions::default()
///     .redirect_url("https://app.example/callback")
///     .language("fr")
///     .primary_color("#0a7d32")
///     .default_location("FR")
///     .must_accept_terms(true);
/// let config = LockConfig::new("my-client-id", "tenant.eu.auth0.com", options).unwrap();
/// assert_eq!(config.options.language.as_deref(), Some("fr"));
/// assert!(LockConfig::new("id", "t", LockOptions::default().color_scheme("sepia")).is_err());
/// ```
impl LockOptions {
    /// `allowedConnections`.
    pub fn allowed_connections<S: Into<String>>(mut self, c: impl IntoIterator<Item = S>) -> Self {
        self.allowed_connections = c.into_iter().map(Into::into).collect();
        self
    }
    /// `auth.redirect`.
    pub fn redirect(mut self, redirect: bool) -> Self {
        self.auth.redirect = redirect;
        self
    }
    /// `auth.redirectUrl`.
    pub fn redirect_url(mut self, url: impl Into<String>) -> Self {
        self.auth.redirect_url = Some(url.into());
        self
    }
    /// `auth.responseType`.
    pub fn response_type(mut self, response_type: impl Into<String>) -> Self {
        self.auth.response_type = response_type.into();
        self
    }
    /// `auth.params.scope`.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.auth.params.scope = scope.into();
        self
    }
    /// `auth.params.audience`.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.auth.params.audience = Some(audience.into());
        self
    }
    /// `auth.useTokenEndpoint` (not in Lock).
    pub fn use_token_endpoint(mut self, on: bool) -> Self {
        self.auth.use_token_endpoint = on;
        self
    }
    /// `container`: inline in the element with this ID.
    pub fn container(mut self, id: impl Into<String>) -> Self {
        self.container = Some(id.into());
        self
    }
    /// `closable`.
    pub fn closable(mut self, closable: bool) -> Self {
        self.closable = closable;
        self
    }
    /// `autoclose`.
    pub fn autoclose(mut self, autoclose: bool) -> Self {
        self.autoclose = autoclose;
        self
    }
    /// `autofocus`.
    pub fn autofocus(mut self, autofocus: bool) -> Self {
        self.autofocus = Some(autofocus);
        self
    }
    /// `language`.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }
    /// `languageDictionary` (Lock's nested object of texts).
    pub fn language_dictionary(mut self, dictionary: Json) -> Self {
        self.language_dictionary = dictionary;
        self
    }
    /// `defaultLocation`.
    pub fn default_location(mut self, country: impl Into<String>) -> Self {
        self.default_location = Some(country.into());
        self
    }
    /// `prefill.phoneNumber`.
    pub fn prefill_phone_number(mut self, number: impl Into<String>) -> Self {
        self.prefill.phone_number = Some(number.into());
        self
    }
    /// `theme.logo`.
    pub fn logo(mut self, url: impl Into<String>) -> Self {
        self.theme.logo = Some(url.into());
        self
    }
    /// `theme.primaryColor`.
    pub fn primary_color(mut self, color: impl Into<String>) -> Self {
        self.theme.primary_color = Some(color.into());
        self
    }
    /// `theme.labeledSubmitButton`.
    pub fn labeled_submit_button(mut self, labeled: bool) -> Self {
        self.theme.labeled_submit_button = labeled;
        self
    }
    /// `theme.colorScheme` (not in Lock): `auto`, `light` or `dark`.
    pub fn color_scheme(mut self, scheme: impl Into<String>) -> Self {
        self.theme.color_scheme = scheme.into();
        self
    }
    /// `showTerms`.
    pub fn show_terms(mut self, show: bool) -> Self {
        self.show_terms = show;
        self
    }
    /// `mustAcceptTerms`.
    pub fn must_accept_terms(mut self, must: bool) -> Self {
        self.must_accept_terms = must;
        self
    }
    /// `codeLength` (not in Lock).
    pub fn code_length(mut self, digits: usize) -> Self {
        self.code_length = digits;
        self
    }
    /// `strictCsp` (not in Lock).
    pub fn strict_csp(mut self, strict: bool) -> Self {
        self.strict_csp = strict;
        self
    }
}

/// `auth`: how the login completes.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthOptions {
    /// Complete by redirecting through `/authorize` (`true`, Lock's default) or in a hidden
    /// iframe without leaving the page (`false`).
    pub redirect: bool,
    /// Where `/authorize` sends the browser back; the current page when absent.
    pub redirect_url: Option<String>,
    /// `token id_token`, `id_token`, `token`, or `code` (authorization code with PKCE).
    pub response_type: String,
    /// Extra `/authorize` parameters.
    pub params: AuthParams,
    /// Parse the URL fragment on start and emit `authenticated`.
    pub auto_parse_hash: bool,
    /// Not in Lock: finish with the passwordless OTP grant at `/oauth/token` (desktop and mobile
    /// shells; gives a refresh token with `offline_access`). No redirect, no iframe.
    pub use_token_endpoint: bool,
    /// With `responseType: 'code'`: redeem the code here (`true`) or hand `code` and
    /// `codeVerifier` to the app's backend in `authenticated` (`false`).
    pub redeem_code: bool,
    /// Keep the last tokens in `"localStorage"` or `"sessionStorage"`; by default they live in
    /// memory only.
    pub persist_tokens: Option<String>,
    /// Lock's `auth.audience`: the API audience, unless `params.audience` names one.
    pub audience: Option<String>,
    /// Lock's `auth.sso`: whether Lock looks for an existing session to offer on its
    /// last-login screen, which SMS mode never shows; accepted so Lock configurations keep
    /// working (`checkSession` is the way to reuse a session here).
    pub sso: bool,
}

impl Default for AuthOptions {
    fn default() -> Self {
        Self {
            redirect: true,
            redirect_url: None,
            response_type: "token id_token".into(),
            params: AuthParams::default(),
            auto_parse_hash: true,
            use_token_endpoint: false,
            redeem_code: true,
            persist_tokens: None,
            audience: None,
            sso: true,
        }
    }
}

/// `auth.params`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthParams {
    /// Requested scopes.
    pub scope: String,
    /// API audience for the access token.
    pub audience: Option<String>,
}

impl Default for AuthParams {
    fn default() -> Self {
        Self {
            scope: "openid profile email".into(),
            audience: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_names_parse_and_defaults_fill_in() {
        let c = LockConfig::from_json(
            "abc",
            "tenant.eu.auth0.com",
            r#"{"allowedConnections":["sms"],"auth":{"redirectUrl":"https://a/cb","responseType":"id_token","params":{"scope":"openid"}}}"#,
        )
        .unwrap();
        assert_eq!(c.options.auth.redirect_url.as_deref(), Some("https://a/cb"));
        assert_eq!(c.options.auth.params.scope, "openid");
        assert!(c.options.auth.auto_parse_hash);
        assert!(c.options.closable);
        assert_eq!(c.root_url(), "https://tenant.eu.auth0.com");
        assert_eq!(c.issuer(), "https://tenant.eu.auth0.com/");
        assert!(c.wants_id_token());
        let d = LockConfig::from_json("abc", "http://127.0.0.1:4000/", "").unwrap();
        assert_eq!(d.root_url(), "http://127.0.0.1:4000");
        assert_eq!(d.options, LockOptions::default());
    }

    #[test]
    fn bad_options_name_the_option() {
        let err = |json: &str| {
            LockConfig::from_json("abc", "d", json)
                .unwrap_err()
                .to_string()
        };
        assert!(err(r#"{"allowedConnections":"sms"}"#).contains("invalid type"));
        assert!(err(r#"{"bogus":1}"#).contains("bogus"));
        assert!(err(r#"{"auth":{"redirectURL":"x"}}"#).contains("redirectURL"));
        assert!(err(r#"{"allowedConnections":["email"]}"#).contains("allowedConnections"));
        assert!(err(r#"{"auth":{"responseType":"code token"}}"#).contains("auth.responseType"));
        assert!(err(r#"{"leeway":301}"#).contains("leeway"));
        assert!(err(r#"{"leeway":-1}"#).contains("invalid value"));
        assert!(err(r#"{"auth":{"persistTokens":"cookie"}}"#).contains("auth.persistTokens"));
        let ok = LockConfig::from_json("abc", "d", r#"{"leeway":0,"auth":{"redirect":false,"responseType":"code","useTokenEndpoint":true}}"#).unwrap();
        assert_eq!(ok.options.leeway, 0, "0 means 0");
        assert!(ok.wants_code() && !ok.options.auth.redirect && ok.options.auth.use_token_endpoint);
        assert!(err(r#"{"theme":{"primaryColor":"red;background:url(x)"}}"#)
            .contains("theme.primaryColor"));
        assert!(err(r#"{"theme":{"logo":"javascript:alert(1)"}}"#).contains("theme.logo"));
        assert!(err(r#"{"defaultLocation":"XX"}"#).contains("defaultLocation"));
        assert!(err(r#"{"language":"klingon"}"#).contains("language"));
        assert!(LockConfig::from_json("abc", "d", r#"{"language":"pt-br"}"#).is_ok());
        assert!(err(r#"{"languageDictionary":{"title":5}}"#).contains("languageDictionary"));
        assert!(err(r#"{"theme":{"colour":"red"}}"#).contains("colour"));
        let themed = LockConfig::from_json(
            "abc",
            "d",
            r#"{"container":"login-box","theme":{"primaryColor":"rgb(10, 20, 30)","logo":"https://x/logo.svg","labeledSubmitButton":false},
               "prefill":{"phoneNumber":"+31612345678"},"defaultLocation":"nl","mustAcceptTerms":true,
               "languageDictionary":{"title":"Hoi"}}"#,
        )
        .unwrap();
        assert!(themed.inline() && !themed.closable() && !themed.autofocus());
        assert_eq!(themed.dictionary.text("title"), "Hoi");
        assert!(!themed.options.theme.labeled_submit_button);
        let flash =
            ShowOptions::from_json(r#"{"flashMessage":{"type":"success","text":"<b>ok</b>"}}"#)
                .unwrap();
        assert_eq!(flash.flash_message.unwrap().kind, FlashKind::Success);
        // The rest of Lock's options: auth.audience, auth.sso, configurationBaseUrl, overrides,
        // rememberLastLogin.
        let lock_style = LockConfig::from_json(
            "app",
            "tenant.example",
            r#"{"auth":{"audience":"https://api.example","sso":false},"rememberLastLogin":false,
               "configurationBaseUrl":"https://cdn.example/","overrides":{"__tenant":"t",
               "__token_issuer":"https://login.example/","__jwks_uri":"https://login.example/keys"}}"#,
        )
        .unwrap();
        assert_eq!(
            lock_style.options.auth.params.audience.as_deref(),
            Some("https://api.example")
        );
        assert_eq!(lock_style.issuer(), "https://login.example/");
        assert_eq!(lock_style.jwks_url(), "https://login.example/keys");
        assert_eq!(
            lock_style.client_config_url(),
            "https://cdn.example/client/app.js"
        );
        let plain = LockConfig::new("a b", "tenant.example", LockOptions::default()).unwrap();
        assert_eq!(plain.issuer(), "https://tenant.example/");
        assert_eq!(
            plain.jwks_url(),
            "https://tenant.example/.well-known/jwks.json"
        );
        assert_eq!(
            plain.client_config_url(),
            "https://tenant.example/client/a%20b.js"
        );
        let both = LockConfig::from_json(
            "app",
            "d",
            r#"{"auth":{"audience":"a","params":{"audience":"b"}}}"#,
        )
        .unwrap();
        assert_eq!(both.options.auth.params.audience.as_deref(), Some("b"));
        assert!(err(r#"{"configurationBaseUrl":"javascript:alert(1)"}"#)
            .contains("configurationBaseUrl"));
        assert!(err(r#"{"overrides":{"__jwks_uri":"/keys"}}"#).contains("__jwks_uri"));
        assert!(err(r#"{"overrides":{"__other":1}}"#).contains("invalid options"));
        assert!(err(r#"{"theme":{"colorScheme":"sepia"}}"#).contains("theme.colorScheme"));
        let dark =
            LockConfig::from_json("app", "d", r#"{"theme":{"colorScheme":"dark"}}"#).unwrap();
        assert_eq!(dark.options.theme.color_scheme, "dark");
        // show(options) overrides one showing and is checked like the constructor's options.
        let show = ShowOptions::from_json(
            r##"{"allowedConnections":["sms","email"],"auth":{"params":{"scope":"openid","audience":"api"}},
               "theme":{"primaryColor":"#0a7d32"},"language":"fr","languageDictionary":{"title":"Salut"}}"##,
        )
        .unwrap();
        let base = themed.options.clone();
        let shown = LockConfig::new("app", "d", show.apply(&base)).unwrap();
        assert_eq!(shown.options.auth.params.audience.as_deref(), Some("api"));
        assert_eq!(
            shown.options.theme.primary_color.as_deref(),
            Some("#0a7d32")
        );
        assert!(
            !shown.options.theme.labeled_submit_button,
            "untouched fields stay"
        );
        assert_eq!(shown.options.language.as_deref(), Some("fr"));
        assert_eq!(shown.dictionary.text("title"), "Salut");
        assert_eq!(
            ShowOptions::default().apply(&base),
            base,
            "nothing given, nothing changed"
        );
        let email_only = ShowOptions::from_json(r#"{"allowedConnections":["email"]}"#).unwrap();
        assert!(LockConfig::new("app", "d", email_only.apply(&base))
            .unwrap_err()
            .to_string()
            .contains("allowedConnections"));
        let bad_color = ShowOptions::from_json(r#"{"theme":{"primaryColor":"url(x)"}}"#).unwrap();
        assert!(LockConfig::new("app", "d", bad_color.apply(&base)).is_err());
        assert!(ShowOptions::from_json(r#"{"container":"x"}"#).is_err());
        for bad in [
            r#"{"flashMessage":{"type":"warn","text":"x"}}"#,
            r#"{"flashMessage":{"type":"info"}}"#,
            r#"{"theme":{"logo":5}}"#,
            r#"{"auth":{"redirect":true}}"#,
            "[1]",
        ] {
            assert!(ShowOptions::from_json(bad).is_err(), "{bad}");
        }
        assert_eq!(ShowOptions::from_json("null"), Ok(ShowOptions::default()));
        assert_eq!(
            ShowOptions::from_json("undefined"),
            Ok(ShowOptions::default())
        );
        assert!(err("{not json").contains("invalid options"));
        assert!(LockConfig::new("", "d", LockOptions::default())
            .unwrap_err()
            .to_string()
            .contains("clientID"));
    }
}
