//! The demo site: a "Log in" button, the widget, the profile from `/userinfo` and an event log.
//!
//! Query parameters, remembered for the tab so they survive the login redirect:
//! `?tenant=URL` (default `http://127.0.0.1:4000`; the end-to-end tests run their own),
//! `?mode=redirect|iframe|token|code` (how the login finishes), `?ui=modal|inline|custom` (the
//! modal, the widget inline in the page, or a page drawn with the headless `use_passwordless`
//! hook), `?lang=` (one of Lock's languages), `?scheme=auto|light|dark` and `?color=` (the theme).

use gloo_storage::{SessionStorage, Storage};
use leptos::prelude::*;
use leptos_passwordless::hook::use_passwordless;
use leptos_passwordless::machine::Step;
use leptos_passwordless::options::AuthOptions;
use leptos_passwordless::otp::OtpCode;
use leptos_passwordless::phone::PhoneNumber;
use leptos_passwordless::webauth::UserInfo;
use leptos_passwordless::{Lock, LockConfig, LockEvent, LockOptions, LockPasswordless};

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
        let _ = SessionStorage::set(&key, &v);
        return v;
    }
    SessionStorage::get(&key).unwrap_or_else(|_| default.to_string())
}

/// Reloads the demo with one setting changed (the others are remembered for the tab).
fn go(name: &str, value: &str) {
    if let Some(w) = web_sys::window() {
        let value = js_sys::encode_uri_component(value);
        let _ = w.location().set_search(&format!("{name}={value}"));
    }
}

fn page_url() -> String {
    let loc = web_sys::window().map(|w| w.location());
    loc.map(|l| {
        format!(
            "{}{}",
            l.origin().unwrap_or_default(),
            l.pathname().unwrap_or_default()
        )
    })
    .unwrap_or_default()
}

fn options_for(mode: &str) -> LockOptions {
    let mut auth = AuthOptions {
        redirect_url: Some(page_url()),
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

#[component]
fn App() -> impl IntoView {
    let tenant = setting("tenant", "http://127.0.0.1:4000");
    let mode = setting("mode", "redirect");
    let custom = setting("ui", "modal") == "custom";
    let mut options = if custom {
        options_for("iframe")
    } else {
        options_for(&mode)
    };
    let language = setting("lang", "");
    if !language.is_empty() {
        options.language = Some(language.clone());
    }
    options.theme.color_scheme = setting("scheme", "auto");
    let color = setting("color", "");
    if !color.is_empty() {
        options.theme.primary_color = Some(color);
    }
    let inline = setting("ui", "modal") == "inline";
    if inline {
        options.container = Some("demo-inline".into());
    }
    let config = match LockConfig::new(CLIENT_ID, &tenant, options) {
        Ok(c) => c,
        Err(e) => return view! { <p class="demo-error">{e.to_string()}</p> }.into_any(),
    };
    let lock = Lock::new(config);
    let log = RwSignal::new(Vec::<String>::new());
    let profile = RwSignal::new(None::<UserInfo>);
    let refresh = RwSignal::new(None::<String>);
    let profile_error = RwSignal::new(None::<String>);
    let last = RwSignal::new(String::new());
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
            last.set(serde_json::to_string_pretty(&event.payload()).unwrap_or_default());
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
    let show = lock.clone();
    let check = lock.clone();
    let renew = lock.clone();
    let logout = lock.clone();
    let field = move |pick: fn(&UserInfo) -> Option<String>| {
        move || profile.with(|p| p.as_ref().and_then(pick).unwrap_or_default())
    };
    let login = if custom {
        view! { <CustomLogin lock=lock.clone()/> }.into_any()
    } else if inline {
        lock.show();
        view! {
            <section id="demo-inline" class="demo-inline" aria-label="Log in">
                <LockPasswordless lock=lock.clone()/>
            </section>
        }
        .into_any()
    } else {
        view! {
            <p><button id="login" class="demo-button" on:click=move |_| show.show()>"Log in"</button>
               " mode: "<code id="mode">{mode.clone()}</code></p>
            <LockPasswordless lock=lock.clone()/>
        }
        .into_any()
    };
    view! {
        <main class="demo">
            <h1>"leptos-passwordless"</h1>
            <p>"Passwordless SMS login for Rust web apps, against "<code>{tenant.clone()}</code>". Codes appear in the tenant's "
               <a href=format!("{tenant}/dev/sms.html") target="_blank">"SMS outbox"</a>"."</p>
            <nav class="demo-nav">
                <a href="?ui=modal&mode=redirect">"Redirect"</a>
                <a href="?ui=modal&mode=iframe">"No page leave"</a>
                <a href="?ui=modal&mode=token">"Token endpoint"</a>
                <a href="?ui=modal&mode=code">"Code + PKCE"</a>
                <a href="?ui=modal&mode=backend">"Code for a backend"</a>
                <a href="?ui=inline">"Inline"</a>
                <a href="?ui=custom">"Your own UI (hook)"</a>
                <a href="lock.html">"JS bundle (Lock's snippet)"</a>
                <a href="csp.html">"Strict CSP"</a>
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
                <a id="demo-light" href="?scheme=light">"Light"</a>
                <a id="demo-dark" href="?scheme=dark">"Dark"</a>
                <a id="demo-auto" href="?scheme=auto">"System"</a>
                <a id="demo-green" href="?color=%230a7d32">"Green"</a>
                <a id="demo-default-color" href="?color=">"Default color"</a>
            </nav>
            {login}
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
                    logout.auth().logout(Some(&page_url()));
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
    }
    .into_any()
}

/// A login form drawn by the app itself, on the widget's behaviour (`use_passwordless`): the
/// Rust counterpart of the seed's "use your own UI" example.
#[component]
fn CustomLogin(lock: Lock) -> impl IntoView {
    let flow = use_passwordless(lock);
    let number = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let invalid = RwSignal::new(None::<String>);
    let (send, verify, back, status, err, pending, step) = (
        flow.clone(),
        flow.clone(),
        flow.clone(),
        flow.clone(),
        flow.clone(),
        flow.clone(),
        flow.clone(),
    );
    view! {
        <section class="demo-card" id="custom-login">
            <h2>"Your own UI"</h2>
            <p>"Built with "<code>"use_passwordless"</code>"; finishes in a hidden iframe."</p>
            <form on:submit=move |e| {
                e.prevent_default();
                match PhoneNumber::parse(&number.get_untracked(), "US") {
                    Ok(p) => { invalid.set(None); send.submit_phone(p) }
                    Err(e) => invalid.set(Some(e.to_string())),
                }
            }>
                <label>"Phone (international, or US national) "
                    <input id="custom-phone" type="tel" prop:value=number on:input=move |e| number.set(event_target_value(&e))/>
                </label>
                <button id="custom-send" type="submit" disabled=move || pending.pending()>"Send code"</button>
            </form>
            <Show when=move || matches!(step.step(), Step::Code | Step::Verifying | Step::Resending)>
                <form on:submit={
                    let verify = verify.clone();
                    move |e| {
                        e.prevent_default();
                        match OtpCode::parse(&code.get_untracked(), 6) {
                            Ok(c) => { invalid.set(None); verify.submit_code(c) }
                            Err(e) => invalid.set(Some(e.to_string())),
                        }
                    }
                }>
                    <label>"Code "
                        <input id="custom-code" inputmode="numeric" autocomplete="one-time-code"
                            prop:value=code on:input=move |e| code.set(event_target_value(&e))/>
                    </label>
                    <button id="custom-verify" type="submit">"Log in"</button>
                    <button type="button" on:click={
                        let back = back.clone();
                        move |_| back.back()
                    }>"Back"</button>
                </form>
            </Show>
            <p id="custom-status" role="status">{move || format!("{:?}", status.step())}</p>
            <p class="demo-error" role="alert">
                {move || invalid.get().or_else(|| err.error().map(|e| e.to_string()))}
            </p>
        </section>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
