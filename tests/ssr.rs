//! The widget rendered on the server (`cargo test --features ssr,router --test ssr`): creating a
//! `Lock`, the hook and `<LockPasswordless/>` touch no browser API (any `web_sys` call panics
//! off wasm32), the authentication state is "not known", and the widget renders nothing — open
//! or closed — so the client's first render (also nothing until hydration ends) matches.
//!
//! This crate has no `recursion_limit` attribute: the widget's view types are erased at its
//! own boundaries, so an app embedding it needs none either.

use leptos::prelude::*;
use leptos_passwordless::hook::use_passwordless;
use leptos_passwordless::router::use_router_callback;
use leptos_passwordless::{Lock, LockConfig, LockOptions, LockPasswordless};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::location::RequestUrl;
use leptos_router::path;

fn lock(options: LockOptions) -> Lock {
    Lock::new(LockConfig::new("app", "https://tenant.example", options).unwrap())
}

/// Renders `app` as a server would for a request to `url`.
fn render<V: IntoView + 'static>(url: &str, app: impl FnOnce() -> V) -> String {
    let owner = Owner::new();
    owner.with(|| {
        provide_context(RequestUrl::new(url));
        app().into_view().to_html()
    })
}

#[test]
fn a_closed_widget_renders_nothing_and_touches_no_browser_api() {
    let lock = lock(LockOptions::default());
    let html = render("/", || {
        view! { <div id="page"><LockPasswordless lock=lock.clone()/></div> }
    });
    assert!(html.starts_with("<div id=\"page\">"), "{html}");
    assert!(!html.contains("lpw-"), "no widget markup: {html}");
    assert_eq!(
        lock.authenticated().get_untracked(),
        None,
        "not known on the server"
    );
}

#[test]
fn an_open_or_inline_widget_renders_the_same_stable_nothing() {
    let closed = render("/", || {
        view! { <LockPasswordless lock=lock(LockOptions::default())/> }
    });
    let open = render("/", || {
        let lock = lock(LockOptions::default());
        lock.show();
        view! { <LockPasswordless lock/> }
    });
    let options = LockOptions {
        container: Some("login-box".into()),
        ..LockOptions::default()
    };
    let inline = render("/", || {
        let lock = lock(options);
        lock.show();
        view! { <section id="login-box"><LockPasswordless lock/></section> }
    });
    assert_eq!(open, closed, "the server never draws the modal");
    assert!(!inline.contains("lpw-"), "{inline}");
    assert!(inline.starts_with("<section id=\"login-box\">"), "{inline}");
}

#[test]
fn the_hook_and_typed_callbacks_can_be_set_up_while_rendering() {
    #[component]
    fn OwnUi(lock: Lock) -> impl IntoView {
        let flow = use_passwordless(lock);
        view! {
            <p id="step">{move || format!("{:?}", flow.step.get())}</p>
            <button disabled=flow.pending>"Send"</button>
        }
    }
    let html = render("/", || {
        let l = lock(LockOptions::default());
        view! {
            <OwnUi lock=l.clone()/>
            <LockPasswordless lock=l on_authenticated=|_| {} on_error=|_| {}/>
        }
    });
    assert!(html.contains(">Phone<"), "{html}");
}

#[test]
fn a_routed_page_renders_with_the_router_glue_and_keeps_the_apps_own_query() {
    let lock = lock(LockOptions::default());
    let html = render("/shop?code=PROMO", move || {
        let glue = lock.clone();
        view! {
            <Router>
                {move || use_router_callback(&glue)}
                <Routes fallback=|| "not found">
                    <Route path=path!("/shop") view=move || {
                        let query = leptos_router::hooks::use_query_map();
                        view! { <p id="promo">{move || query.with(|q| q.get("code").unwrap_or_default())}</p> }
                    }/>
                </Routes>
                <LockPasswordless lock=lock.clone()/>
            </Router>
        }
    });
    assert!(
        html.contains("PROMO"),
        "the page and its query are rendered: {html}"
    );
    assert!(!html.contains("lpw-"), "{html}");
}
