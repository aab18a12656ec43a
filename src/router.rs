//! leptos_router glue (the `router` feature): the redirect's return read from the router's
//! location and cleaned with the router's own `navigate`, landing on the route the login
//! started from.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use leptos_router::components::{ProtectedRoute, Route, Router, Routes};
//! use leptos_router::path;
//! use leptos_passwordless::{router::use_router_callback, Lock, LockConfig, LockOptions, LockPasswordless};
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     let lock = Lock::new(LockConfig::new("my-client-id", "tenant.eu.auth0.com", LockOptions::default()).unwrap());
//!     let authenticated = lock.authenticated();
//!     view! {
//!         <Router>
//!             <LoginReturn lock=lock.clone()/>
//!             <Routes fallback=|| "Not found">
//!                 <Route path=path!("/") view=|| "Home"/>
//!                 // Waits while `authenticated` is None (not known yet), so a user coming back
//!                 // from the login redirect is not sent away.
//!                 <ProtectedRoute path=path!("/account") view=|| "Your account"
//!                     condition=move || authenticated.get() redirect_path=|| "/"/>
//!             </Routes>
//!             <LockPasswordless lock/>
//!         </Router>
//!     }
//! }
//!
//! #[component]
//! fn LoginReturn(lock: Lock) -> impl IntoView {
//!     use_router_callback(&lock); // inside <Router>
//! }
//! ```

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;

use crate::lock::Lock;

/// Lets the router deliver the redirect's return to `lock`. Call it once, inside `<Router>`.
///
/// After hydration (effects never run on the server) and on every later navigation, the
/// router's location is checked for an authorization response whose `state` belongs to a login
/// this tab started; anything else (an app's own `?code=PROMO`, an anchor) is left alone. A
/// response is removed with the router's `navigate(…, replace)` — to the page the login started
/// from, carried in the transaction — so `use_location` and `use_query_map` stay true, then
/// completed: `authenticated` or `authorization_error`, and [`Lock::authenticated`] is known.
pub fn use_router_callback(lock: &Lock) {
    let location = use_location();
    let navigate = use_navigate();
    lock.give_location_to_router();
    let lock = lock.clone();
    Effect::new(move |_| {
        let path = location.pathname.get();
        let search = prefixed('?', location.search.get());
        let hash = prefixed('#', location.hash.get());
        if !lock.config().options.auth.auto_parse_hash {
            return lock.settle();
        }
        let lock = lock.clone();
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            lock.resume_url(&path, &search, &hash, |cleaned, return_to| {
                navigate(
                    return_to.unwrap_or(cleaned),
                    NavigateOptions {
                        resolve: false,
                        replace: true,
                        scroll: false,
                        ..NavigateOptions::default()
                    },
                )
            })
            .await;
        });
    });
}

fn prefixed(mark: char, part: String) -> String {
    if part.is_empty() || part.starts_with(mark) {
        part
    } else {
        format!("{mark}{part}")
    }
}
