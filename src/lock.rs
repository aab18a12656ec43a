//! The `Lock` controller: options, visibility, event listeners, the authentication state and
//! the redirect's return. Its state belongs to no component: a `Lock` made in one component
//! can be used from another and outlive the route that made it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::json::{obj, Json};
use leptos::prelude::*;

use crate::browser;
use crate::i18n::Dictionary;
use crate::options::{FlashMessage, LockConfig, ShowOptions};
pub use crate::outcome::{AuthError, AuthResult};
use crate::webauth::WebAuth;
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
    pub fn payload(&self) -> Json {
        match self {
            Self::Authenticated(a) => a.to_json(),
            Self::AuthorizationError(e) => e.to_json(),
            Self::UnrecoverableError(m) => {
                obj! {"error": "unrecoverable_error", "errorDescription": m}
            }
            _ => Json::Null,
        }
    }
}

/// An unknown event name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid event: {}", crate::quoted(.0))]
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
pub fn client_offers_sms(info: &Json, allowed: &[String]) -> Result<(), String> {
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

/// A listener registered with [`Lock::on`] or [`Lock::on_any`], for [`Lock::off`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

struct Inner {
    auth: WebAuth,
    client: ArcRwSignal<ClientState>,
    /// The constructor's configuration; each `show(options)` starts from it.
    base: LockConfig,
    dictionary: ArcRwSignal<Dictionary>,
    /// The last language file fetched (language, JSON), and a counter so that only the latest
    /// request's answer is applied.
    language_file: Mutex<Option<(String, String)>>,
    texts_generation: AtomicU64,
    open: ArcRwSignal<bool>,
    flash: ArcRwSignal<Option<FlashMessage>>,
    listeners: Mutex<Vec<(ListenerId, Option<String>, Listener)>>,
    next_listener: AtomicU64,
    /// `None` until the widget knows (after hydration, once the URL was read).
    authenticated: ArcRwSignal<Option<bool>>,
    result: ArcRwSignal<Option<AuthResult>>,
    /// Set by the leptos_router glue, which then reads the response from the router's location.
    router_owns_location: AtomicBool,
    /// While a response from the URL is being completed, "not known" stays.
    resuming: AtomicBool,
}

/// A login widget instance: cheap to clone, shared by the component and the host.
///
/// Creating one touches no browser API: in the browser its work (the client configuration,
/// the language file, the redirect's return) starts on the next tick, after hydration; on the
/// server it never starts, and [`Lock::authenticated`] stays `None` ("not known").
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
    /// returning redirect's answer once it starts and emits `authenticated` or
    /// `authorization_error`; an answer is taken only when its `state` belongs to a login this
    /// tab started.
    pub fn new(config: LockConfig) -> Self {
        Self::with_auth(WebAuth::new(config))
    }

    /// A widget over a given client (for a custom key source, say).
    pub fn with_auth(auth: WebAuth) -> Self {
        let base = (*auth.config()).clone();
        let lock = Self(Arc::new(Inner {
            client: ArcRwSignal::new(if browser::AVAILABLE {
                ClientState::Loading
            } else {
                ClientState::Ready
            }),
            dictionary: ArcRwSignal::new(base.dictionary.clone()),
            base,
            auth,
            language_file: Mutex::new(None),
            texts_generation: AtomicU64::new(0),
            open: ArcRwSignal::new(false),
            flash: ArcRwSignal::new(None),
            listeners: Mutex::new(Vec::new()),
            next_listener: AtomicU64::new(0),
            authenticated: ArcRwSignal::new(None),
            result: ArcRwSignal::new(None),
            router_owns_location: AtomicBool::new(false),
            resuming: AtomicBool::new(false),
        }));
        lock.load_texts();
        if browser::AVAILABLE {
            let l = lock.clone();
            // A task, not a call: it runs after the current render (and hydration) is done.
            wasm_bindgen_futures::spawn_local(async move { l.start().await });
        }
        lock
    }

    /// The browser work of a new widget: the client configuration and the redirect's return.
    async fn start(&self) {
        let l = self.clone();
        wasm_bindgen_futures::spawn_local(async move { l.load_client().await });
        if self.0.router_owns_location.load(Ordering::SeqCst) {
            // The router glue reads the URL (and says when the state is known): settling here
            // could report "logged out" before it has seen a returning response.
            return;
        }
        if self.config().options.auth.auto_parse_hash {
            if let Some((path, search, hash)) = browser::location() {
                return self
                    .resume_url(&path, &search, &hash, |cleaned, _| {
                        browser::replace_url(cleaned)
                    })
                    .await;
            }
        }
        self.settle();
    }

    async fn load_client(&self) {
        let config = self.config();
        let url = config.client_config_url();
        let loaded = if config.options.strict_csp {
            browser::fetch_client_info(&url).await
        } else {
            browser::load_client_info(&url, &config.client_id).await
        };
        let state = match loaded {
            Ok(info) => match client_offers_sms(&info, &config.options.allowed_connections) {
                Ok(()) => ClientState::Ready,
                Err(e) => ClientState::Failed(e),
            },
            Err(e) => ClientState::Failed(e),
        };
        if self.0.client.get_untracked() != ClientState::Loading {
            return; // the app vouched for the client meanwhile
        }
        if let ClientState::Failed(reason) = &state {
            self.emit(&LockEvent::UnrecoverableError(reason.clone()));
        }
        self.0.client.set(state);
    }

    /// Sets the texts for the configuration in force: English under its `languageDictionary`,
    /// then its language's file (fetched only when chosen, once; English shows until it lands).
    fn load_texts(&self) {
        let config = self.config();
        let overrides = config.dictionary.clone();
        let generation = self.0.texts_generation.fetch_add(1, Ordering::SeqCst) + 1;
        let Some(lang) = config.options.language.clone().filter(|l| l != "en") else {
            return self.0.dictionary.set(overrides);
        };
        let cached = crate::locked(&self.0.language_file)
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
        if !browser::AVAILABLE {
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
            let loaded = browser::fetch_text(&url).await;
            if l.0.texts_generation.load(Ordering::SeqCst) != generation {
                return; // a later show(options) chose other texts
            }
            match loaded.and_then(|json| overrides.with_language(&json).map(|d| (d, json))) {
                Ok((d, json)) => {
                    *crate::locked(&l.0.language_file) = Some((lang, json));
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
    pub fn dictionary(&self) -> ReadSignal<Dictionary> {
        self.0.dictionary.read_only().into()
    }

    /// The client the widget uses: `check_session`, `renew`, `user_info`, …
    pub fn auth(&self) -> &WebAuth {
        &self.0.auth
    }

    /// Whether someone is logged in: `None` until the widget knows (on the server, and in the
    /// browser until the URL has been read after hydration), then `Some(true)` after an
    /// `authenticated` (or with tokens kept by `persistTokens`), `Some(false)` otherwise. Fits
    /// leptos_router's `<ProtectedRoute condition=…>`, which waits while it is `None`.
    pub fn authenticated(&self) -> ReadSignal<Option<bool>> {
        self.0.authenticated.read_only().into()
    }

    /// The last login's tokens (reactive; `None` before a login and after [`Lock::logout`]).
    pub fn tokens(&self) -> ReadSignal<Option<AuthResult>> {
        self.0.result.read_only().into()
    }

    /// The ID token's claims of the last login: `sub`, `phone_number`, … (reactive).
    pub fn profile(&self) -> Signal<Option<Json>> {
        let result = self.0.result.clone();
        Signal::derive(move || result.with(|r| r.as_ref().and_then(|r| r.id_token_payload.clone())))
    }

    /// Forgets the tokens, then ends the tenant session by navigating to `/v2/logout`, which
    /// returns to `return_to` (it must be one of the client's allowed logout URLs).
    pub fn logout(&self, return_to: Option<&str>) {
        self.0.result.set(None);
        self.0.authenticated.set(Some(false));
        self.0.auth.logout(return_to);
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
    pub fn flash(&self) -> ReadSignal<Option<FlashMessage>> {
        self.0.flash.read_only().into()
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
    ) -> Result<ListenerId, InvalidEvent> {
        if !EVENT_NAMES.contains(&event) {
            return Err(InvalidEvent(event.to_string()));
        }
        Ok(self.add_listener(Some(event.to_string()), Arc::new(f)))
    }

    /// Listens to every event.
    pub fn on_any(&self, f: impl Fn(&LockEvent) + Send + Sync + 'static) -> ListenerId {
        self.add_listener(None, Arc::new(f))
    }

    /// Removes a listener; `false` when it was already gone.
    pub fn off(&self, id: ListenerId) -> bool {
        let mut listeners = crate::locked(&self.0.listeners);
        let before = listeners.len();
        listeners.retain(|(l, _, _)| *l != id);
        listeners.len() != before
    }

    fn add_listener(&self, event: Option<String>, f: Listener) -> ListenerId {
        let id = ListenerId(self.0.next_listener.fetch_add(1, Ordering::SeqCst));
        crate::locked(&self.0.listeners).push((id, event, f));
        id
    }

    /// Calls the listeners of `event`; `authenticated` and `authorization_error` also update
    /// [`Lock::authenticated`] and [`Lock::tokens`].
    pub fn emit(&self, event: &LockEvent) {
        match event {
            LockEvent::Authenticated(result) => {
                self.0.result.set(Some(result.clone()));
                self.0.authenticated.set(Some(true));
            }
            LockEvent::AuthorizationError(_) => self.settle(),
            _ => {}
        }
        // Listeners run without the lock held, so they may call `on` or `show`.
        let matching: Vec<Listener> = crate::locked(&self.0.listeners)
            .iter()
            .filter(|(_, name, _)| name.as_deref().is_none_or(|n| n == event.name()))
            .map(|(_, _, f)| f.clone())
            .collect();
        for f in matching {
            f(event);
        }
    }

    /// From "not known" to what the client holds (tokens restored by `persistTokens`, or none).
    pub(crate) fn settle(&self) {
        if self.0.resuming.load(Ordering::SeqCst) {
            return;
        }
        if self.0.authenticated.get_untracked().is_none() {
            let current = self.0.auth.current();
            self.0.authenticated.set(Some(current.is_some()));
            self.0.result.set(current);
        }
    }

    /// The leptos_router glue reads the response from the router's location instead.
    #[cfg_attr(not(feature = "router"), allow(dead_code))]
    pub(crate) fn give_location_to_router(&self) {
        self.0.router_owns_location.store(true, Ordering::SeqCst);
    }

    /// Takes the authorization response in a URL (path, `?query`, `#fragment`) when it answers
    /// a login this tab started: `clean(url_without_it, route_it_started_from)` is called first
    /// (with `hashCleanup`), then it is completed. Anything else in the URL is the app's and is
    /// left alone.
    pub(crate) async fn resume_url(
        &self,
        path: &str,
        search: &str,
        hash: &str,
        clean: impl FnOnce(&str, Option<&str>),
    ) {
        let Some((found, tx)) = crate::url::find_response(path, search, hash)
            .and_then(|r| browser::peek_transaction(&r.state).map(|tx| (r, tx)))
        else {
            return self.settle();
        };
        self.0.resuming.store(true, Ordering::SeqCst);
        if self.config().options.hash_cleanup {
            clean(&found.cleaned, tx.return_to.as_deref());
        }
        self.resume(&found.part).await;
        self.0.resuming.store(false, Ordering::SeqCst);
        self.settle();
    }

    /// Reads the page's URL; when it holds the answer to a login this tab started, removes it
    /// from the URL and history and emits `hash_parsed` then `authenticated` or
    /// `authorization_error`.
    pub async fn resume_from_location(&self) {
        if let Some((path, search, hash)) = browser::location() {
            self.resume_url(&path, &search, &hash, |cleaned, _| {
                browser::replace_url(cleaned)
            })
            .await;
        }
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
        let sms = crate::json::Json::parse(
            r#"{"id": "app", "strategies": [{"name": "sms", "connections": [{"name": "sms"}]}]}"#,
        )
        .unwrap();
        let none = crate::json::Json::parse(r#"{"id": "app", "strategies": []}"#).unwrap();
        let email = crate::json::Json::parse(r#"{"id": "app", "strategies": [{"name": "email"}]}"#)
            .unwrap();
        let allowed = vec!["sms".to_string()];
        assert!(client_offers_sms(&sms, &allowed).is_ok());
        assert!(client_offers_sms(&none, &allowed)
            .unwrap_err()
            .contains("none of the allowed connections"));
        assert!(client_offers_sms(&email, &allowed).is_err());
        assert!(client_offers_sms(&sms, &["email".to_string()]).is_err());
        assert!(client_offers_sms(
            &crate::json::Json::parse(r#"{"id": "app"}"#).unwrap(),
            &allowed
        )
        .is_err());
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
    fn a_lock_outlives_the_owner_that_made_it() {
        let owner = Owner::new();
        let l = owner.with(lock);
        let read_inside = owner.with(|| l.authenticated());
        owner.cleanup();
        drop(owner);
        // A route that made the lock is gone; another component still opens and reads it.
        l.show();
        assert!(l.is_open());
        assert_eq!(
            l.authenticated().get_untracked(),
            None,
            "not known without a browser"
        );
        assert_eq!(
            read_inside.try_get_untracked(),
            None,
            "only the owner's own handle went"
        );
        l.emit(&LockEvent::Authenticated(AuthResult::default()));
        assert_eq!(l.authenticated().get_untracked(), Some(true));
        assert!(l.tokens().get_untracked().is_some());
        l.hide();
        assert!(!l.is_open());
    }

    #[test]
    fn listeners_can_be_removed() {
        let l = lock();
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let id = l.on_any(move |_| {
            c.fetch_add(1, Ordering::SeqCst);
        });
        l.show();
        assert!(l.off(id));
        assert!(!l.off(id), "already gone");
        l.hide();
        assert_eq!(count.load(Ordering::SeqCst), 1);
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
        assert_eq!(p["expiresIn"].as_i64(), Some(7200));
        assert_eq!(p["tokenType"], "Bearer");
        let e = LockEvent::AuthorizationError(AuthError {
            error: "x".into(),
            error_description: "y".into(),
        });
        assert_eq!(e.payload()["errorDescription"], "y");
    }
}
