//! The demo site: a "Log in" button, the widget, the profile from `/userinfo` and an event log.
//!
//! The tenant defaults to `http://127.0.0.1:4000`; `?tenant=URL` picks another one for this tab
//! (the end-to-end tests use that to run their own tenant).

use leptos::prelude::*;
use leptos_passwordless::options::AuthOptions;
use leptos_passwordless::{api, Lock, LockConfig, LockEvent, LockOptions, LockPasswordless};
use serde_json::Value;

const CLIENT_ID: &str = "demo-client";
const DEFAULT_TENANT: &str = "http://127.0.0.1:4000";
const TENANT_KEY: &str = "lpw-demo.tenant";

/// `?tenant=` wins and is remembered for the tab, so it survives the login redirect.
fn tenant_url() -> String {
    use gloo_storage::{SessionStorage, Storage};
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let from_query = search
        .trim_start_matches('?')
        .split('&')
        .find_map(|p| p.strip_prefix("tenant="))
        .and_then(|v| js_sys::decode_uri_component(v).ok())
        .and_then(|v| v.as_string());
    if let Some(t) = from_query {
        let _ = SessionStorage::set(TENANT_KEY, &t);
        return t;
    }
    SessionStorage::get(TENANT_KEY).unwrap_or_else(|_| DEFAULT_TENANT.to_string())
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

#[component]
fn App() -> impl IntoView {
    let tenant = tenant_url();
    let options = LockOptions {
        auth: AuthOptions {
            redirect_url: Some(page_url()),
            ..AuthOptions::default()
        },
        ..LockOptions::default()
    };
    let config = match LockConfig::new(CLIENT_ID, &tenant, options) {
        Ok(c) => c,
        Err(e) => return view! { <p class="demo-error">{e.to_string()}</p> }.into_any(),
    };
    let lock = Lock::new(config.clone());
    let log = RwSignal::new(Vec::<String>::new());
    let profile = RwSignal::new(None::<Value>);
    let profile_error = RwSignal::new(None::<String>);
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
            let config = config.clone();
            let token = result.access_token.clone().unwrap_or_default();
            wasm_bindgen_futures::spawn_local(async move {
                match api::userinfo(&config, &token).await {
                    Ok(p) => profile.set(Some(p)),
                    Err(e) => profile_error.set(Some(e.to_string())),
                }
            });
        }
    });
    let show = lock.clone();
    let field = move |key: &'static str| {
        move || {
            profile.with(|p| {
                p.as_ref()
                    .and_then(|p| p[key].as_str().map(str::to_string))
                    .unwrap_or_default()
            })
        }
    };
    view! {
        <main class="demo">
            <h1>"leptos-passwordless"</h1>
            <p>"Passwordless SMS login for Rust web apps, against "<code>{tenant.clone()}</code>". Codes appear in the tenant's "
               <a href=format!("{tenant}/dev/sms.html") target="_blank">"SMS outbox"</a>"."</p>
            <p><button id="login" class="demo-button" on:click=move |_| show.show()>"Log in"</button>
               " "<a href="lock.html">"The same with the JS bundle (Lock's snippet)"</a></p>
            <Show when=move || profile.with(Option::is_some)>
                <section id="profile" class="demo-card">
                    <img src=field("picture") alt="" width="48" height="48"/>
                    <div>
                        <h2>"Logged in"</h2>
                        <p>"Phone: "<span id="profile-phone">{field("phone_number")}</span></p>
                        <p>"User: "<code id="profile-sub">{field("sub")}</code></p>
                    </div>
                </section>
            </Show>
            {move || profile_error.get().map(|e| view! { <p class="demo-error">{e}</p> })}
            <section class="demo-card">
                <h2>"Events"</h2>
                <ol id="events">{move || log.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ol>
            </section>
        </main>
        <LockPasswordless lock=lock.clone()/>
    }
    .into_any()
}

fn main() {
    leptos::mount::mount_to_body(App);
}
