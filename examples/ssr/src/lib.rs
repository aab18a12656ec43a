//! A server-rendered, hydrated Leptos app with the passwordless widget: leptos_axum serves the
//! HTML, leptos_router routes it, and the browser hydrates it (`hydrate`). The widget is used
//! the way the README shows: one `Lock` for the app, `use_router_callback` inside `<Router>`, a
//! `ProtectedRoute` on `Lock::authenticated`, and a second lock made by one route.

use leptos::prelude::*;
use leptos_passwordless::router::use_router_callback;
use leptos_passwordless::{Lock, LockConfig, LockOptions, LockPasswordless};
use leptos_router::components::{ProtectedRoute, Route, Router, Routes, A};
use leptos_router::hooks::use_query_map;
use leptos_router::path;

/// The client registered with the tenant.
pub const CLIENT_ID: &str = "demo-client";

/// Where the server serves the widget's phone tables, one calling code's part per file
/// (`/phone-tables/31.txt`).
pub const PHONE_TABLES: &str = "/phone-tables";

/// Where the app finds its tenant, and its own origin (the login callback is `{origin}/`).
/// The server renders them into `<meta>` tags, which the browser reads before hydrating, so
/// both sides build the same widget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The tenant's URL.
    pub tenant: String,
    /// This app's origin.
    pub origin: String,
}

/// The whole document (server only: the browser hydrates `<body>`).
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions, site: Site) -> impl IntoView {
    use leptos::hydration::{AutoReload, HydrationScripts};
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="site-tenant" content=site.tenant.clone()/>
                <meta name="site-origin" content=site.origin.clone()/>
                <title>"leptos-passwordless: server-rendered example"</title>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
            </head>
            <body>
                <App site/>
            </body>
        </html>
    }
}

fn options(site: &Site) -> LockOptions {
    let mut options = LockOptions::default();
    options.auth.redirect_url = Some(format!("{}/", site.origin));
    options
}

/// The app: a header with the login state, routes, and the widget.
#[component]
pub fn App(site: Site) -> impl IntoView {
    let config = LockConfig::new(CLIENT_ID, &site.tenant, options(&site))
        .expect("the example's options are valid");
    let lock = Lock::new(config);
    // The browser fetches the phone tables from this server (see `main.rs`), starting with the
    // part the first screen needs; every lock of the app uses them.
    #[cfg(feature = "hydrate")]
    leptos_passwordless::fetch_phone_tables_from(&lock, PHONE_TABLES);
    provide_context(lock.clone());
    provide_context(site);
    let authenticated = lock.authenticated();
    let profile = lock.profile();
    let opener = lock.clone();
    let leaver = lock.clone();
    view! {
        <Router>
            <LoginReturn lock=lock.clone()/>
            <header>
                <nav>
                    <A href="/">"Home"</A>" "
                    <A href="/shop?code=PROMO">"Shop"</A>" "
                    <A href="/account">"Account"</A>" "
                    <A href="/quick">"Quick login"</A>
                </nav>
                <p id="auth">{move || match authenticated.get() {
                    None => "Checking your login…".to_string(),
                    Some(false) => "Logged out".to_string(),
                    Some(true) => format!("Logged in as {}", profile.get()
                        .and_then(|p| p["phone_number"].as_str().map(str::to_string))
                        .unwrap_or_default()),
                }}</p>
                <button id="login" on:click=move |_| opener.show()>"Log in"</button>
                <button id="logout" on:click=move |_| {
                    let origin = expect_context::<Site>().origin;
                    leaver.logout(Some(&format!("{origin}/")));
                }>"Log out"</button>
            </header>
            <main>
                <Routes fallback=|| view! { <p>"Not found."</p> }>
                    <Route path=path!("/") view=Home/>
                    <Route path=path!("/shop") view=Shop/>
                    <Route path=path!("/quick") view=Quick/>
                    <ProtectedRoute path=path!("/account") view=Account
                        condition=move || authenticated.get()
                        redirect_path=|| "/"
                        fallback=|| view! { <p id="account-pending">"Checking your login…"</p> }/>
                </Routes>
            </main>
            <LockPasswordless lock/>
        </Router>
    }
}

/// Hands the router's location to the lock: must be inside `<Router>`.
#[component]
fn LoginReturn(lock: Lock) -> impl IntoView {
    use_router_callback(&lock);
}

#[component]
fn Home() -> impl IntoView {
    view! { <h1 id="home">"Welcome"</h1><p>"A server-rendered page."</p> }
}

/// A page with the app's own `?code=` (a promotion): the widget leaves it alone.
#[component]
fn Shop() -> impl IntoView {
    let query = use_query_map();
    view! {
        <h1 id="shop">"Shop"</h1>
        <p>"Promotion: "<span id="promo">{move || query.with(|q| q.get("code").unwrap_or_default())}</span></p>
    }
}

/// Only with a login.
#[component]
fn Account() -> impl IntoView {
    let profile = expect_context::<Lock>().profile();
    view! {
        <h1 id="account">"Your account"</h1>
        <p>"Phone: "<span id="account-phone">{move || profile.get()
            .and_then(|p| p["phone_number"].as_str().map(str::to_string))
            .unwrap_or_default()}</span></p>
    }
}

/// A lock made by this route, inline in the page, finishing without leaving it
/// (`auth.redirect: false`); it outlives nothing and stops with the route.
#[component]
fn Quick() -> impl IntoView {
    let site = expect_context::<Site>();
    let app_lock = expect_context::<Lock>();
    let mut options = options(&site);
    options.auth.redirect = false;
    options.auth.auto_parse_hash = false;
    options.container = Some("quick-login".into());
    let lock = Lock::new(
        LockConfig::new(CLIENT_ID, &site.tenant, options).expect("the example's options are valid"),
    );
    lock.show();
    view! {
        <h1 id="quick">"Quick login"</h1>
        <section id="quick-login">
            <LockPasswordless lock on_authenticated=move |result| {
                // The app's lock holds the login state for every page.
                app_lock.emit(&leptos_passwordless::LockEvent::Authenticated(result))
            }/>
        </section>
    }
}

/// The browser's entry point: reads the site from the server's `<meta>` tags and hydrates.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let meta = |name: &str| {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| {
                d.query_selector(&format!("meta[name={name}]"))
                    .ok()
                    .flatten()
            })
            .and_then(|m| m.get_attribute("content"))
            .unwrap_or_default()
    };
    let site = Site {
        tenant: meta("site-tenant"),
        origin: meta("site-origin"),
    };
    leptos::mount::hydrate_body(move || view! { <App site/> });
}
