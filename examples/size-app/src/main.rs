//! A Leptos CSR app with leptos_router and one page: a heading and a "Log in" button. With the
//! `widget` feature the button opens `<LockPasswordless/>` and the router glue takes the login's
//! response (with `fetched` too, the widget fetches its phone tables from the app's server);
//! without it the button only counts clicks. With `headless` the page has no
//! `<LockPasswordless/>` but the smallest UI of an app's own over `use_passwordless` (two inputs
//! and two buttons), so the difference shows what the widget's default UI costs. `cargo xtask
//! bench size` builds each (wasm-release, wasm-bindgen, wasm-opt) and reports the difference:
//! what the widget adds to an app that already pays for Leptos and its router.
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

#[cfg(all(feature = "widget", not(feature = "headless")))]
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

#[cfg(feature = "headless")]
fn login() -> impl IntoView {
    use leptos_passwordless::{hook::use_passwordless, otp::OtpCode, phone::PhoneNumber};
    use leptos_passwordless::{Lock, LockConfig, LockOptions};
    // The same Lock as the widget's page above (its code is kept as it was measured before).
    let options = LockOptions::default().allowed_connections(["sms"]);
    let lock = match LockConfig::new("size-app", "tenant.example", options) {
        Ok(config) => Lock::new(config),
        Err(e) => return view! { <p>{e.to_string()}</p> }.into_any(),
    };
    leptos_passwordless::router::use_router_callback(&lock);
    leptos_passwordless::fetch_phone_tables_from(&lock, "/phone-tables");
    let flow = use_passwordless(lock);
    let number = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    // What was typed and could not be sent.
    let refused = RwSignal::new(None::<String>);
    let send = move |_| match PhoneNumber::parse(&number.get_untracked(), "US") {
        Ok(phone) => flow.submit_phone.run(phone),
        Err(e) => refused.set(Some(e.to_string())),
    };
    let verify = move |_| match OtpCode::parse(&code.get_untracked(), 6) {
        Ok(otp) => flow.submit_code.run(otp),
        Err(e) => refused.set(Some(e.to_string())),
    };
    view! {
        <input type="tel" prop:value=number on:input=move |e| { number.set(event_target_value(&e)); refused.set(None); }/>
        <button disabled=flow.pending on:click=send>"Send a code"</button>
        <input prop:value=code on:input=move |e| { code.set(event_target_value(&e)); refused.set(None); }/>
        <button disabled=flow.pending on:click=verify>"Log in"</button>
        <p>{move || flow.error.get().map(|e| e.to_string()).or_else(|| refused.get())}</p>
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
