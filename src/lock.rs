//! The `Lock` controller: options, visibility, event listeners and the redirect's return.

use std::sync::{Arc, Mutex};

use leptos::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};

use crate::options::LockConfig;
use crate::token::{self, Expected, HashResponse, TokenError};
use crate::{api, browser};

/// What `authenticated` carries, with Lock's payload names.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

struct Inner {
    config: LockConfig,
    open: RwSignal<bool>,
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
        let parse = config.options.auth.auto_parse_hash;
        let lock = Self(Arc::new(Inner {
            config,
            open: RwSignal::new(false),
            listeners: Mutex::new(Vec::new()),
        }));
        if parse && cfg!(target_arch = "wasm32") {
            let l = lock.clone();
            wasm_bindgen_futures::spawn_local(async move { l.resume_from_location().await });
        }
        lock
    }

    /// The configuration.
    pub fn config(&self) -> &LockConfig {
        &self.0.config
    }

    /// Whether the modal is open (reactive).
    pub fn is_open(&self) -> bool {
        self.0.open.get()
    }

    /// Opens the widget.
    pub fn show(&self) {
        if !self.0.open.get_untracked() {
            self.0.open.set(true);
            self.emit(&LockEvent::Show);
        }
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
        self.0.listeners.lock().unwrap_or_else(|e| e.into_inner())
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
        let hash = window.location().hash().unwrap_or_default();
        let Some(response) = token::parse_hash(&hash) else {
            return;
        };
        let clean = format!(
            "{}{}",
            window.location().pathname().unwrap_or_default(),
            window.location().search().unwrap_or_default()
        );
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&clean));
        }
        self.emit(&LockEvent::HashParsed);
        match self.verify_response(response).await {
            Ok(result) => self.emit(&LockEvent::Authenticated(result)),
            Err(e) => self.emit(&LockEvent::AuthorizationError(e)),
        }
    }

    async fn verify_response(&self, response: HashResponse) -> Result<AuthResult, AuthError> {
        let invalid = |d: String| AuthError {
            error: "invalid_token".into(),
            error_description: d,
        };
        let params = match response {
            HashResponse::Error {
                error,
                description,
                state,
            } => {
                if let Some(s) = state {
                    browser::take_transaction(&s);
                }
                return Err(AuthError {
                    error,
                    error_description: description,
                });
            }
            HashResponse::Tokens(p) => p,
        };
        let state = params.get("state").cloned().unwrap_or_default();
        let config = self.config();
        let tx = browser::take_transaction(&state).ok_or_else(|| {
            invalid("`state` does not match any login started in this tab.".into())
        })?;
        let now = browser::now();
        if tx.is_expired(now) || tx.client_id != config.client_id {
            return Err(invalid("The login transaction has expired.".into()));
        }
        let access_token = params.get("access_token").cloned();
        let id_token = params.get("id_token").cloned();
        let mut payload = None;
        match &id_token {
            Some(id_token) => {
                let jwt = token::decode(id_token).map_err(|e| invalid(e.to_string()))?;
                let kid = jwt.header["kid"].as_str().unwrap_or_default().to_string();
                let mut jwks = api::jwks(config)
                    .await
                    .map_err(|e| invalid(e.to_string()))?;
                if browser::find_key(&jwks, &kid).is_none() {
                    // Keys rotate: one fresh fetch before giving up.
                    jwks = api::jwks(config)
                        .await
                        .map_err(|e| invalid(e.to_string()))?;
                }
                let key = browser::find_key(&jwks, &kid)
                    .ok_or_else(|| invalid(TokenError::UnknownKey(kid).to_string()))?;
                browser::verify_rs256(key, &jwt)
                    .await
                    .map_err(|e| invalid(e.to_string()))?;
                let issuer = config.issuer();
                token::validate_claims(
                    &jwt.claims,
                    &Expected {
                        issuer: &issuer,
                        client_id: &config.client_id,
                        nonce: Some(&tx.nonce),
                        access_token: access_token.as_deref(),
                        now,
                        leeway: 60,
                    },
                )
                .map_err(|e| invalid(e.to_string()))?;
                payload = Some(jwt.claims);
            }
            None if config.wants_id_token() => {
                return Err(invalid("The response has no id_token.".into()));
            }
            None => {}
        }
        Ok(AuthResult {
            access_token,
            id_token,
            id_token_payload: payload,
            refresh_token: None,
            state,
            expires_in: params.get("expires_in").and_then(|s| s.parse().ok()),
            token_type: params.get("token_type").cloned(),
            scope: params.get("scope").cloned(),
            app_state: None,
        })
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
            id_token: None,
            id_token_payload: None,
            refresh_token: None,
            state: "s".into(),
            expires_in: Some(7200),
            token_type: Some("Bearer".into()),
            scope: None,
            app_state: None,
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
