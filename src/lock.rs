//! The `Lock` controller: options, visibility, event listeners and the redirect's return.

use std::sync::{Arc, Mutex};

use leptos::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};

use crate::i18n::Dictionary;
use crate::options::{FlashMessage, LockConfig, ShowOptions};
use crate::token;
use crate::webauth::WebAuth;

/// What `authenticated` carries, with Lock's payload names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthResult {
    /// The access token.
    pub access_token: Option<String>,
    /// The ID token (validated).
    pub id_token: Option<String>,
    /// The ID token's claims.
    pub id_token_payload: Option<Value>,
    /// A refresh token (never from the redirect flow).
    pub refresh_token: Option<String>,
    /// The echoed state.
    pub state: String,
    /// Access token lifetime in seconds.
    pub expires_in: Option<u64>,
    /// `Bearer`.
    pub token_type: Option<String>,
    /// Granted scopes.
    pub scope: Option<String>,
    /// Application state (unused by the redirect flow).
    pub app_state: Option<Value>,
    /// With `responseType: 'code'` and `redeemCode: false`: the code for the app's backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The PKCE verifier the backend redeems `code` with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_verifier: Option<String>,
    /// The `redirect_uri` the code was issued for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

/// What `authorization_error` carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthError {
    /// The error code (`access_denied`, `invalid_token`, …).
    pub error: String,
    /// Its text.
    pub error_description: String,
}

/// An event, named as Lock names it.
// Events are few and short-lived; boxing the result would only complicate every match.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum LockEvent {
    /// The widget was shown.
    Show,
    /// The widget was hidden.
    Hide,
    /// A login completed and its tokens were validated.
    Authenticated(AuthResult),
    /// The redirect came back with an error or untrustworthy tokens.
    AuthorizationError(AuthError),
    /// The URL fragment was read (always before `authenticated`/`authorization_error`).
    HashParsed,
    /// The widget cannot work with its configuration.
    UnrecoverableError(String),
    /// A screen event: `socialOrPhoneNumber ready|submit`, `vcode ready|submit`.
    Screen(&'static str),
}

/// Every event name `on` accepts.
pub const EVENT_NAMES: &[&str] = &[
    "show",
    "hide",
    "unrecoverable_error",
    "authenticated",
    "authorization_error",
    "hash_parsed",
    "socialOrPhoneNumber ready",
    "socialOrPhoneNumber submit",
    "vcode ready",
    "vcode submit",
];

impl LockEvent {
    /// Lock's name for the event.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Show => "show",
            Self::Hide => "hide",
            Self::Authenticated(_) => "authenticated",
            Self::AuthorizationError(_) => "authorization_error",
            Self::HashParsed => "hash_parsed",
            Self::UnrecoverableError(_) => "unrecoverable_error",
            Self::Screen(name) => name,
        }
    }

    /// The payload a JavaScript listener receives.
    pub fn payload(&self) -> Value {
        match self {
            Self::Authenticated(a) => serde_json::to_value(a).unwrap_or(Value::Null),
            Self::AuthorizationError(e) => serde_json::to_value(e).unwrap_or(Value::Null),
            Self::UnrecoverableError(m) => {
                json!({"error": "unrecoverable_error", "errorDescription": m})
            }
            _ => Value::Null,
        }
    }
}

/// An unknown event name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid event: {0:?}")]
pub struct InvalidEvent(pub String);

type Listener = Arc<dyn Fn(&LockEvent) + Send + Sync>;

/// What the tenant's client configuration (`/client/{clientID}.js`) says, once loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientState {
    /// Still loading: the widget shows its loading screen.
    Loading,
    /// Loaded, and SMS is enabled for the client and allowed by `allowedConnections`.
    Ready,
    /// Not loaded, or no allowed connection is enabled: the widget shows an error and an
    /// `unrecoverable_error` was emitted.
    Failed(String),
}

/// Whether the client configuration offers SMS among the allowed connections.
pub fn client_offers_sms(info: &serde_json::Value, allowed: &[String]) -> Result<(), String> {
    let strategies = info["strategies"]
        .as_array()
        .ok_or("the client configuration lists no strategies")?;
    let sms = strategies
        .iter()
        .any(|s| s["name"] == "sms" && allowed.iter().any(|a| a == "sms"));
    if sms {
        Ok(())
    } else {
        Err("none of the allowed connections is enabled for this client (the tenant offers no sms connection to it)".into())
    }
}

struct Inner {
    auth: WebAuth,
    client: RwSignal<ClientState>,
    /// The constructor's configuration; each `show(options)` starts from it.
    base: LockConfig,
    dictionary: RwSignal<Dictionary>,
    /// The last language file fetched (language, JSON), and a counter so that only the latest
    /// request's answer is applied.
    language_file: Mutex<Option<(String, String)>>,
    texts_generation: std::sync::atomic::AtomicU64,
    open: RwSignal<bool>,
    flash: RwSignal<Option<FlashMessage>>,
    listeners: Mutex<Vec<(Option<String>, Listener)>>,
}

/// A login widget instance: cheap to clone, shared by the component and the host.
///
/// ```no_run
/// use leptos::prelude::*;
/// use leptos_passwordless::{Lock, LockConfig, LockEvent, LockOptions, LockPasswordless};
///
/// let config = LockConfig::new("my-client-id", "tenant.eu.auth0.com", LockOptions::default()).unwrap();
/// let lock = Lock::new(config);
/// lock.on_any(|event| {
///     if let LockEvent::Authenticated(result) = event {
///         leptos::logging::log!("logged in: {:?}", result.id_token_payload);
///     }
/// });
/// let shown = lock.clone();
/// leptos::mount::mount_to_body(move || view! {
///     <button on:click=move |_| shown.show()>"Log in"</button>
///     <LockPasswordless lock=lock.clone()/>
/// });
/// ```
#[derive(Clone)]
pub struct Lock(Arc<Inner>);

impl Lock {
    /// A widget for this configuration. With `auth.autoParseHash` (the default) it reads a
    /// returning redirect's fragment at once and emits `authenticated` or `authorization_error`.
    pub fn new(config: LockConfig) -> Self {
        Self::with_auth(WebAuth::new(config))
    }

    /// A widget over a given client (for a custom key source, say).
    pub fn with_auth(auth: WebAuth) -> Self {
        let parse = auth.config().options.auth.auto_parse_hash;
        let base = (*auth.config()).clone();
        let load_client = cfg!(target_arch = "wasm32");
        let lock = Self(Arc::new(Inner {
            client: RwSignal::new(if load_client {
                ClientState::Loading
            } else {
                ClientState::Ready
            }),
            dictionary: RwSignal::new(base.dictionary.clone()),
            base,
            auth,
            language_file: Mutex::new(None),
            texts_generation: std::sync::atomic::AtomicU64::new(0),
            open: RwSignal::new(false),
            flash: RwSignal::new(None),
            listeners: Mutex::new(Vec::new()),
        }));
        lock.load_texts();
        if load_client {
            let l = lock.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let config = l.config();
                let url = config.client_config_url();
                let loaded = if config.options.strict_csp {
                    crate::browser::fetch_client_info(&url).await
                } else {
                    crate::browser::load_client_info(&url, &config.client_id).await
                };
                let state = match loaded {
                    Ok(info) => {
                        match client_offers_sms(&info, &config.options.allowed_connections) {
                            Ok(()) => ClientState::Ready,
                            Err(e) => ClientState::Failed(e),
                        }
                    }
                    Err(e) => ClientState::Failed(e),
                };
                if l.0.client.get_untracked() != ClientState::Loading {
                    return; // the app vouched for the client meanwhile
                }
                if let ClientState::Failed(reason) = &state {
                    l.emit(&LockEvent::UnrecoverableError(reason.clone()));
                }
                l.0.client.set(state);
            });
        }
        if parse && cfg!(target_arch = "wasm32") {
            let l = lock.clone();
            wasm_bindgen_futures::spawn_local(async move { l.resume_from_location().await });
        }
        lock
    }

    /// Sets the texts for the configuration in force: English under its `languageDictionary`,
    /// then its language's file (fetched only when chosen, once; English shows until it lands).
    fn load_texts(&self) {
        use std::sync::atomic::Ordering;
        let config = self.config();
        let overrides = config.dictionary.clone();
        let generation = self.0.texts_generation.fetch_add(1, Ordering::SeqCst) + 1;
        let Some(lang) = config.options.language.clone().filter(|l| l != "en") else {
            return self.0.dictionary.set(overrides);
        };
        let cached = crate::webauth::lock(&self.0.language_file)
            .as_ref()
            .filter(|(l, _)| *l == lang)
            .map(|(_, json)| json.clone());
        if let Some(json) = cached {
            return self
                .0
                .dictionary
                .set(overrides.with_language(&json).unwrap_or(overrides));
        }
        self.0.dictionary.set(overrides.clone());
        if !cfg!(target_arch = "wasm32") {
            return;
        }
        let base = config
            .options
            .language_base_url
            .clone()
            .unwrap_or_else(|| "i18n".into());
        let l = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let url = format!("{}/{lang}.json", base.trim_end_matches('/'));
            let loaded = match gloo_net::http::Request::get(&url).send().await {
                Ok(r) if r.ok() => r.text().await.map_err(|e| e.to_string()),
                Ok(r) => Err(format!("HTTP {}", r.status())),
                Err(e) => Err(e.to_string()),
            };
            if l.0.texts_generation.load(Ordering::SeqCst) != generation {
                return; // a later show(options) chose other texts
            }
            match loaded.and_then(|json| overrides.with_language(&json).map(|d| (d, json))) {
                Ok((d, json)) => {
                    *crate::webauth::lock(&l.0.language_file) = Some((lang, json));
                    l.0.dictionary.set(d);
                }
                Err(e) => l.emit(&LockEvent::UnrecoverableError(format!(
                    "invalid option language: {url}: {e}"
                ))),
            }
        });
    }

    /// Whether the tenant's client configuration is loaded and offers SMS (reactive).
    pub fn client_state(&self) -> ClientState {
        self.0.client.get()
    }

    /// Skips loading the client configuration: the caller vouches that SMS is enabled for the
    /// client (an app that knows its tenant, or tests without one).
    pub fn assume_sms_enabled(&self) {
        self.0.client.set(ClientState::Ready);
    }

    /// The configuration in force: the constructor's, with the current `show(options)`.
    pub fn config(&self) -> Arc<LockConfig> {
        self.0.auth.config()
    }

    /// The texts in the chosen language (reactive: the language file arrives after start).
    pub fn dictionary(&self) -> RwSignal<Dictionary> {
        self.0.dictionary
    }

    /// The client the widget uses: `check_session`, `renew`, `user_info`, `logout`, ….
    pub fn auth(&self) -> &WebAuth {
        &self.0.auth
    }

    /// Whether the modal is open (reactive).
    pub fn is_open(&self) -> bool {
        self.0.open.get()
    }

    /// Opens the widget.
    pub fn show(&self) {
        self.show_with(ShowOptions::default());
    }

    /// Opens the widget with options for this showing: `flashMessage`, and overrides of
    /// `allowedConnections`, `auth.params`, `theme`, `language` and `languageDictionary`, checked
    /// as the constructor's are (a bad one is an `unrecoverable_error` and nothing opens). Each
    /// showing starts again from the constructor's options. Overrides given while the widget is
    /// already open apply from its next opening.
    pub fn show_with(&self, options: ShowOptions) {
        let base = &self.0.base;
        let config =
            match LockConfig::new(&base.client_id, &base.domain, options.apply(&base.options)) {
                Ok(c) => c,
                Err(e) => return self.emit(&LockEvent::UnrecoverableError(e.to_string())),
            };
        let current = self.config();
        let texts_changed = config.options.language != current.options.language
            || config.options.language_dictionary != current.options.language_dictionary;
        self.0.auth.set_config(config);
        if texts_changed {
            self.load_texts();
        }
        self.0.flash.set(options.flash_message);
        if !self.0.open.get_untracked() {
            self.0.open.set(true);
            self.emit(&LockEvent::Show);
        }
    }

    /// The flash message of the current showing (reactive).
    pub fn flash(&self) -> RwSignal<Option<FlashMessage>> {
        self.0.flash
    }

    /// Closes the widget.
    pub fn hide(&self) {
        if self.0.open.get_untracked() {
            self.0.open.set(false);
            self.emit(&LockEvent::Hide);
        }
    }

    /// Listens to one event by Lock's name.
    pub fn on(
        &self,
        event: &str,
        f: impl Fn(&LockEvent) + Send + Sync + 'static,
    ) -> Result<(), InvalidEvent> {
        if !EVENT_NAMES.contains(&event) {
            return Err(InvalidEvent(event.to_string()));
        }
        self.listeners()
            .push((Some(event.to_string()), Arc::new(f)));
        Ok(())
    }

    /// Listens to every event.
    pub fn on_any(&self, f: impl Fn(&LockEvent) + Send + Sync + 'static) {
        self.listeners().push((None, Arc::new(f)));
    }

    fn listeners(&self) -> std::sync::MutexGuard<'_, Vec<(Option<String>, Listener)>> {
        crate::webauth::lock(&self.0.listeners)
    }

    /// Calls the listeners of `event`.
    pub fn emit(&self, event: &LockEvent) {
        // Listeners run without the lock held, so they may call `on` or `show`.
        let matching: Vec<Listener> = self
            .listeners()
            .iter()
            .filter(|(name, _)| name.as_deref().is_none_or(|n| n == event.name()))
            .map(|(_, f)| f.clone())
            .collect();
        for f in matching {
            f(event);
        }
    }

    /// Reads `location.hash`; when it is an authorization response, removes it from the URL and
    /// history and emits `hash_parsed` then `authenticated` or `authorization_error`.
    pub async fn resume_from_location(&self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        let hash = location.hash().unwrap_or_default();
        let search = location.search().unwrap_or_default();
        // Tokens come in the fragment; an authorization code in the query.
        let (part, clean) = if token::parse_hash(&hash).is_some() {
            (
                hash,
                format!("{}{}", location.pathname().unwrap_or_default(), search),
            )
        } else if token::parse_hash(&search).is_some()
            && (search.contains("code=") || search.contains("error="))
        {
            (search, location.pathname().unwrap_or_default())
        } else {
            return;
        };
        if self.config().options.hash_cleanup {
            if let Ok(history) = window.history() {
                let _ =
                    history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&clean));
            }
        }
        self.resume(&part).await;
    }

    /// Completes an authorization response (a fragment or query, as `resumeAuth` does): emits
    /// `hash_parsed` then `authenticated` or `authorization_error`.
    pub async fn resume(&self, url_part: &str) {
        let Some(outcome) = self.0.auth.resume(url_part).await else {
            return;
        };
        self.emit(&LockEvent::HashParsed);
        match outcome {
            Ok(result) => self.emit(&LockEvent::Authenticated(result)),
            Err(e) => self.emit(&LockEvent::AuthorizationError(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::LockOptions;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn lock() -> Lock {
        Lock::new(LockConfig::new("app", "t", LockOptions::default()).unwrap())
    }

    #[test]
    fn the_client_configuration_decides_whether_sms_is_offered() {
        let sms = serde_json::json!({"id": "app", "strategies": [{"name": "sms", "connections": [{"name": "sms"}]}]});
        let none = serde_json::json!({"id": "app", "strategies": []});
        let email = serde_json::json!({"id": "app", "strategies": [{"name": "email"}]});
        let allowed = vec!["sms".to_string()];
        assert!(client_offers_sms(&sms, &allowed).is_ok());
        assert!(client_offers_sms(&none, &allowed)
            .unwrap_err()
            .contains("none of the allowed connections"));
        assert!(client_offers_sms(&email, &allowed).is_err());
        assert!(client_offers_sms(&sms, &["email".to_string()]).is_err());
        assert!(client_offers_sms(&serde_json::json!({"id": "app"}), &allowed).is_err());
    }

    #[test]
    fn listeners_get_their_events_only() {
        let l = lock();
        let shows = Arc::new(AtomicUsize::new(0));
        let all = Arc::new(AtomicUsize::new(0));
        let s = shows.clone();
        l.on("show", move |_| {
            s.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        let a = all.clone();
        l.on_any(move |_| {
            a.fetch_add(1, Ordering::SeqCst);
        });
        l.show();
        l.show(); // already open: no second event
        l.hide();
        assert_eq!(shows.load(Ordering::SeqCst), 1);
        assert_eq!(all.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn unknown_event_names_are_refused() {
        assert_eq!(
            lock().on("authenticate", |_| {}),
            Err(InvalidEvent("authenticate".into()))
        );
    }

    #[test]
    fn payloads_use_lock_names() {
        let a = AuthResult {
            access_token: Some("a".into()),
            state: "s".into(),
            expires_in: Some(7200),
            token_type: Some("Bearer".into()),
            ..AuthResult::default()
        };
        let p = LockEvent::Authenticated(a).payload();
        assert_eq!(p["accessToken"], "a");
        assert_eq!(p["expiresIn"], 7200);
        assert_eq!(p["tokenType"], "Bearer");
        let e = LockEvent::AuthorizationError(AuthError {
            error: "x".into(),
            error_description: "y".into(),
        });
        assert_eq!(e.payload()["errorDescription"], "y");
    }
}
