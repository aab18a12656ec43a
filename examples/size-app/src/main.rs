//! A Leptos CSR app with leptos_router and one page: a heading and a "Log in" button. With the
//! `widget` feature the button opens `<LockPasswordless/>` and the router glue takes the login's
//! response (with `fetched` too, the widget fetches its phone tables from the app's server);
//! without it the button only counts clicks. `cargo xtask bench size` builds each
//! (wasm-release, wasm-bindgen, wasm-opt) and reports the difference: what the widget adds to an
//! app that already pays for Leptos and its router.
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

#[cfg(feature = "widget")]
fn login() -> impl IntoView {
    use leptos_passwordless::{Lock, LockConfig, LockOptions, LockPasswordless};
    let options = LockOptions::default().allowed_connections(["sms"]);
    let lock = match LockConfig::new("size-app", "tenant.example", options) {
        Ok(config) => Lock::new(config),
        Err(e) => return view! { <p>{e.to_string()}</p> }.into_any(),
    };
    leptos_passwordless::router::use_router_callback(&lock);
    #[cfg(feature = "fetched")]
    leptos_passwordless::fetch_phone_tables_from(&lock, "/phone-tables");
    let shown = lock.clone();
    view! {
        <button on:click=move |_| shown.show()>"Log in"</button>
        <LockPasswordless lock=lock/>
    }
    .into_any()
}

#[cfg(not(feature = "widget"))]
fn login() -> impl IntoView {
    let clicks = RwSignal::new(0);
    view! {
        <button on:click=move |_| clicks.update(|n| *n += 1)>"Log in"</button>
        <p>{clicks}</p>
    }
    .into_any()
}

#[component]
fn Home() -> impl IntoView {
    view! { <h1>"Shop"</h1> {login()} }
}

fn main() {
    mount_to_body(|| {
        view! {
            <Router>
                <Routes fallback=|| "Not found">
                    <Route path=path!("/") view=Home/>
                </Routes>
            </Router>
        }
    })
}
