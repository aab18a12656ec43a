//! The demo site, a CSR app routed by leptos_router: a "Log in" button, the widget, the profile
//! from `/userinfo` and an event log.
//!
//! Routes: `/` (the modal), `/inline` (the widget inline in the page), `/custom` (a page drawn
//! with the headless `use_passwordless` hook), `/account` (a `ProtectedRoute` on
//! `Lock::authenticated`). Every login returns to `/`, and the router glue takes the user back to
//! the route it started on.
//!
//! Settings, as query parameters remembered for the tab so they survive the login redirect:
//! `?tenant=URL` (default `http://127.0.0.1:4000`; the end-to-end tests run their own),
//! `?mode=redirect|iframe|token|code|backend` (how the login finishes), `?lang=` (one of Lock's
//! languages), `?scheme=auto|light|dark` and `?color=` (the theme).

use leptos::prelude::*;
use leptos_passwordless::hook::use_passwordless;
use leptos_passwordless::machine::Step;
use leptos_passwordless::options::AuthOptions;
use leptos_passwordless::otp::OtpCode;
use leptos_passwordless::phone::PhoneNumber;
use leptos_passwordless::router::use_router_callback;
use leptos_passwordless::webauth::UserInfo;
use leptos_passwordless::{Lock, LockConfig, LockEvent, LockOptions, LockPasswordless};
use leptos_router::components::{ProtectedRoute, Route, Router, Routes, A};
use leptos_router::path;

const CLIENT_ID: &str = "demo-client";

/// A query parameter, else the tab's remembered value, else `default`.
fn setting(name: &str, default: &str) -> String {
    let key = format!("lpw-demo.{name}");
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let from_query = search
        .trim_start_matches('?')
        .split('&')
        .find_map(|p| p.strip_prefix(&format!("{name}=")))
        .and_then(|v| js_sys::decode_uri_component(v).ok())
        .and_then(|v| v.as_string());
    if let Some(v) = from_query {
        leptos_passwordless::browser::store("sessionStorage", &key, &v);
        return v;
    }
    leptos_passwordless::browser::stored("sessionStorage", &key)
        .unwrap_or_else(|| default.to_string())
}

/// Reloads the demo with one setting changed (the others are remembered for the tab).
fn go(name: &str, value: &str) {
    if let Some(w) = web_sys::window() {
        let value = js_sys::encode_uri_component(value);
        let _ = w.location().set_search(&format!("{name}={value}"));
    }
}

/// The callback every login returns to (registered with the tenant); the router glue then
/// takes the user back to the route the login started on.
fn home_url() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .map(|origin| format!("{origin}/"))
        .unwrap_or_default()
}

fn options_for(mode: &str) -> LockOptions {
    let mut auth = AuthOptions {
        redirect_url: Some(home_url()),
        ..AuthOptions::default()
    };
    match mode {
        "iframe" => auth.redirect = false,
        "token" => {
            auth.use_token_endpoint = true;
            auth.params.scope = "openid profile email offline_access".into();
        }
        "code" => auth.response_type = "code".into(),
        "backend" => {
            auth.response_type = "code".into();
            auth.redeem_code = false;
        }
        _ => {}
    }
    LockOptions {
        auth,
        autoclose: true,
        ..LockOptions::default()
    }
}

/// What every page of the demo shares: the app's lock, its options, and what events showed.
#[derive(Clone)]
struct Demo {
    lock: Lock,
    options: LockOptions,
    tenant: String,
    shown: Shown,
}

/// The event log, the profile and the last `authenticated` payload, for every lock of the demo.
#[derive(Clone, Copy)]
struct Shown {
    log: RwSignal<Vec<String>>,
    profile: RwSignal<Option<UserInfo>>,
    last: RwSignal<String>,
    refresh: RwSignal<Option<String>>,
    profile_error: RwSignal<Option<String>>,
}

impl Demo {
    /// A lock made by a route, with the app's options as `adjust` changes them; its events go
    /// to the same log.
    fn route_lock(&self, adjust: impl FnOnce(&mut LockOptions)) -> Result<Lock, String> {
        let mut options = self.options.clone();
        adjust(&mut options);
        let config =
            LockConfig::new(CLIENT_ID, &self.tenant, options).map_err(|e| e.to_string())?;
        let lock = Lock::new(config);
        log_events(&lock, self.shown);
        Ok(lock)
    }
}

/// Writes `lock`'s events to the log; an `authenticated` also loads the profile.
fn log_events(lock: &Lock, shown: Shown) {
    let Shown {
        log,
        profile,
        last,
        refresh,
        profile_error,
    } = shown;
    let on_event = lock.clone();
    lock.on_any(move |event| {
        let detail = match event {
            LockEvent::Authenticated(a) => format!(
                " (sub {})",
                a.id_token_payload
                    .as_ref()
                    .map(|p| p["sub"].to_string())
                    .unwrap_or_default()
            ),
            LockEvent::AuthorizationError(e) => format!(" ({}: {})", e.error, e.error_description),
            LockEvent::UnrecoverableError(m) => format!(" ({m})"),
            _ => String::new(),
        };
        log.update(|l| l.push(format!("{}{detail}", event.name())));
        if let LockEvent::Authenticated(result) = event {
            last.set(event.payload().to_string());
            refresh.set(result.refresh_token.clone());
            if result.access_token.is_none() {
                // The code went to "the backend": nothing to show a profile with.
                return;
            }
            let lock = on_event.clone();
            let token = result.access_token.clone().unwrap_or_default();
            wasm_bindgen_futures::spawn_local(async move {
                match lock.auth().user_info(&token).await {
                    Ok(p) => profile.set(Some(p)),
                    Err(e) => profile_error.set(Some(e.to_string())),
                }
            });
        }
    });
}

#[component]
fn App() -> impl IntoView {
    let tenant = setting("tenant", "http://127.0.0.1:4000");
    let mode = setting("mode", "redirect");
    let mut options = options_for(&mode);
    let language = setting("lang", "");
    if !language.is_empty() {
        options.language = Some(language.clone());
    }
    options.theme.color_scheme = setting("scheme", "auto");
    let color = setting("color", "");
    if !color.is_empty() {
        options.theme.primary_color = Some(color);
    }
    let config = match LockConfig::new(CLIENT_ID, &tenant, options.clone()) {
        Ok(c) => c,
        Err(e) => return view! { <p class="demo-error">{e.to_string()}</p> }.into_any(),
    };
    // One lock for the whole app, above the router: it outlives every route, and it takes the
    // redirect's return for all of them.
    let lock = Lock::new(config);
    let shown = Shown {
        log: RwSignal::new(Vec::new()),
        profile: RwSignal::new(None),
        last: RwSignal::new(String::new()),
        refresh: RwSignal::new(None),
        profile_error: RwSignal::new(None),
    };
    let Shown {
        log,
        profile,
        last,
        refresh,
        profile_error,
    } = shown;
    log_events(&lock, shown);
    provide_context(Demo {
        lock: lock.clone(),
        options,
        tenant: tenant.clone(),
        shown,
    });
    let check = lock.clone();
    let renew = lock.clone();
    let logout = lock.clone();
    let authenticated = lock.authenticated();
    let field = move |pick: fn(&UserInfo) -> Option<String>| {
        move || profile.with(|p| p.as_ref().and_then(pick).unwrap_or_default())
    };
    view! {
        <Router>
        <RouterCallback lock=lock.clone()/>
        <main class="demo">
            <h1>"leptos-passwordless"</h1>
            <p>"Passwordless SMS login for Rust web apps, against "<code>{tenant.clone()}</code>". Codes appear in the tenant's "
               <a href=format!("{tenant}/dev/sms.html") target="_blank">"SMS outbox"</a>"."</p>
            <nav class="demo-nav" aria-label="Pages">
                <A href="/">"Modal"</A>
                <A href="/inline">"Inline"</A>
                <A href="/custom">"Your own UI (hook)"</A>
                <A href="/account">"Account (protected)"</A>
                <a href="/lock.html" rel="external">"JS bundle (Lock's snippet)"</a>
                <a href="/csp.html" rel="external">"Strict CSP"</a>
            </nav>
            <nav class="demo-nav" aria-label="How the login finishes">
                <a href="?mode=redirect" rel="external">"Redirect"</a>
                <a href="?mode=iframe" rel="external">"No page leave"</a>
                <a href="?mode=token" rel="external">"Token endpoint"</a>
                <a href="?mode=code" rel="external">"Code + PKCE"</a>
                <a href="?mode=backend" rel="external">"Code for a backend"</a>
                " mode: "<code id="mode">{mode.clone()}</code>
            </nav>
            <nav class="demo-nav demo-settings" aria-label="Look and language">
                <label>"Language "
                    <select id="demo-lang" on:change=move |e| go("lang", &event_target_value(&e))>
                        <option value="" selected=language.is_empty()>"en (built in)"</option>
                        {leptos_passwordless::i18n::LANGUAGES.iter().filter(|l| **l != "en").map(|l| {
                            view! { <option value=*l selected=*l == language>{*l}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <a id="demo-light" href="?scheme=light" rel="external">"Light"</a>
                <a id="demo-dark" href="?scheme=dark" rel="external">"Dark"</a>
                <a id="demo-auto" href="?scheme=auto" rel="external">"System"</a>
                <a id="demo-green" href="?color=%230a7d32" rel="external">"Green"</a>
                <a id="demo-default-color" href="?color=" rel="external">"Default color"</a>
            </nav>
            <p id="auth-state">{move || match authenticated.get() {
                None => "Checking…",
                Some(true) => "Logged in",
                Some(false) => "Logged out",
            }}</p>
            <Routes fallback=|| view! { <p>"Not found."</p> }>
                <Route path=path!("/") view=ModalPage/>
                <Route path=path!("/inline") view=InlinePage/>
                <Route path=path!("/custom") view=CustomPage/>
                <ProtectedRoute path=path!("/account") view=AccountPage
                    condition=move || authenticated.get() redirect_path=|| "/"
                    fallback=|| view! { <p id="account-pending">"Checking your login…"</p> }/>
            </Routes>
            <p>
                <button id="check-session" class="demo-button demo-secondary" on:click=move |_| {
                    let lock = check.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        match lock.auth().check_session().await {
                            Ok(result) => lock.emit(&LockEvent::Authenticated(result)),
                            Err(e) => lock.emit(&LockEvent::AuthorizationError(e)),
                        }
                    });
                }>"Check session"</button>
                <Show when=move || refresh.with(Option::is_some)>
                    <button id="renew" class="demo-button demo-secondary" on:click={
                        let renew = renew.clone();
                        move |_| {
                            let lock = renew.clone();
                            wasm_bindgen_futures::spawn_local(async move {
                                match lock.auth().renew().await {
                                    Ok(result) => lock.emit(&LockEvent::Authenticated(result)),
                                    Err(e) => log.update(|l| l.push(format!("renew failed: {e}"))),
                                }
                            });
                        }
                    }>"Renew tokens"</button>
                </Show>
                <button id="logout" class="demo-button demo-secondary" on:click=move |_| {
                    logout.logout(Some(&home_url()));
                }>"Log out"</button>
            </p>
            <Show when=move || profile.with(Option::is_some)>
                <section id="profile" class="demo-card">
                    <img src=field(|p| p.picture.clone()) alt="" width="48" height="48"/>
                    <div>
                        <h2>"Logged in"</h2>
                        <p>"Phone: "<span id="profile-phone">{field(|p| p.phone_number.clone())}</span></p>
                        <p>"User: "<code id="profile-sub">{field(|p| Some(p.sub.clone()))}</code></p>
                    </div>
                </section>
            </Show>
            {move || profile_error.get().map(|e| view! { <p class="demo-error">{e}</p> })}
            <details class="demo-card">
                <summary>"Last authenticated payload"</summary>
                <pre id="last-auth">{move || last.get()}</pre>
            </details>
            <section class="demo-card">
                <h2>"Events"</h2>
                <ol id="events">{move || log.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ol>
            </section>
        </main>
        </Router>
    }
    .into_any()
}

/// Hands the router's location to the lock (inside `<Router>`).
#[component]
fn RouterCallback(lock: Lock) -> impl IntoView {
    use_router_callback(&lock);
}

fn demo() -> Demo {
    expect_context::<Demo>()
}

/// `/`: the modal, opened by a button.
#[component]
fn ModalPage() -> impl IntoView {
    let lock = demo().lock;
    let show = lock.clone();
    view! {
        <p><button id="login" class="demo-button" on:click=move |_| show.show()>"Log in"</button></p>
        <LockPasswordless lock/>
    }
}

/// `/inline`: a second lock made by this route, inline in the page (Lock's `container`). Its
/// redirect returns to `/`, where the app's lock completes it and the router brings the user
/// back here.
#[component]
fn InlinePage() -> impl IntoView {
    let made = demo().route_lock(|options| {
        options.container = Some("demo-inline".into());
        options.auth.auto_parse_hash = false;
    });
    match made {
        Ok(lock) => {
            lock.show();
            view! {
                <section id="demo-inline" class="demo-inline" aria-label="Log in">
                    <LockPasswordless lock/>
                </section>
            }
            .into_any()
        }
        Err(e) => view! { <p class="demo-error">{e}</p> }.into_any(),
    }
}

/// `/custom`: the app's own form on the hook, finishing in a hidden iframe.
#[component]
fn CustomPage() -> impl IntoView {
    let made = demo().route_lock(|options| {
        options.auth.redirect = false;
        options.auth.use_token_endpoint = false;
        options.auth.response_type = "token id_token".into();
    });
    match made {
        Ok(lock) => view! { <CustomLogin lock/> }.into_any(),
        Err(e) => view! { <p class="demo-error">{e}</p> }.into_any(),
    }
}

/// `/account`: only with a login (`ProtectedRoute` on `Lock::authenticated`).
#[component]
fn AccountPage() -> impl IntoView {
    let profile = demo().lock.profile();
    view! {
        <section id="account" class="demo-card">
            <h2>"Your account"</h2>
            <p>"Signed in as "<span id="account-phone">{move || profile.get().and_then(|p| p["phone_number"].as_str().map(str::to_string)).unwrap_or_default()}</span></p>
        </section>
    }
}

/// A login form drawn by the app itself, on the widget's behaviour (`use_passwordless`): the
/// Rust counterpart of the seed's "use your own UI" example.
#[component]
fn CustomLogin(lock: Lock) -> impl IntoView {
    let flow = use_passwordless(lock);
    let number = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let invalid = RwSignal::new(None::<String>);
    view! {
        <section class="demo-card" id="custom-login">
            <h2>"Your own UI"</h2>
            <p>"Built with "<code>"use_passwordless"</code>"; finishes in a hidden iframe."</p>
            <form on:submit=move |e| {
                e.prevent_default();
                match PhoneNumber::parse(&number.get_untracked(), "US") {
                    Ok(p) => { invalid.set(None); flow.submit_phone.run(p) }
                    Err(e) => invalid.set(Some(e.to_string())),
                }
            }>
                <label>"Phone (international, or US national) "
                    <input id="custom-phone" type="tel" prop:value=number on:input=move |e| number.set(event_target_value(&e))/>
                </label>
                <button id="custom-send" type="submit" disabled=flow.pending>"Send code"</button>
            </form>
            <Show when=move || matches!(flow.step.get(), Step::Code | Step::Verifying | Step::Resending)>
                <form on:submit=move |e| {
                    e.prevent_default();
                    match OtpCode::parse(&code.get_untracked(), 6) {
                        Ok(c) => { invalid.set(None); flow.submit_code.run(c) }
                        Err(e) => invalid.set(Some(e.to_string())),
                    }
                }>
                    <label>"Code "
                        <input id="custom-code" inputmode="numeric" autocomplete="one-time-code"
                            prop:value=code on:input=move |e| code.set(event_target_value(&e))/>
                    </label>
                    <button id="custom-verify" type="submit">"Log in"</button>
                    <button type="button" on:click=move |_| flow.back.run(())>"Back"</button>
                </form>
            </Show>
            <p id="custom-status" role="status">{move || format!("{:?}", flow.step.get())}</p>
            <p class="demo-error" role="alert">
                {move || invalid.get().or_else(|| flow.error.get().map(|e| e.to_string()))}
            </p>
        </section>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
