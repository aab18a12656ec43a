//! A passwordless SMS login widget for Leptos that speaks Auth0's Authentication API: Auth0
//! Lock Passwordless, in Rust.
//!
//! Three layers, dependencies pointing one way:
//! - the **core**, with no browser: [`phone`], [`otp`], [`machine`], [`options`], [`token`],
//!   [`outcome`], [`url`], [`i18n`], [`error`], [`json`]; tested natively;
//! - the **client**, Auth0's protocol ([`api`], [`webauth`]) over one browser seam
//!   ([`browser`]), which nothing else calls and which does nothing without a browser;
//! - the **widget**: the controller [`Lock`], the headless hook [`hook::use_passwordless`], the
//!   component [`LockPasswordless`] and, with the `router` feature, the leptos_router glue.
//!
//! Like Leptos, the crate enables no rendering mode: an app turns on exactly one of the `csr`,
//! `hydrate` or `ssr` features (plus `router` for leptos_router). Under `ssr` the widget renders
//! nothing on the server and touches no browser API; in the browser it starts after hydration.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod api;
mod b64;
pub mod browser;
pub mod error;
pub mod hook;
pub mod i18n;
pub mod json;
pub mod lock;
pub mod machine;
pub mod options;
pub mod otp;
pub mod outcome;
pub mod phone;
#[cfg(feature = "router")]
#[cfg_attr(docsrs, doc(cfg(feature = "router")))]
pub mod router;
mod sha256;
pub mod token;
mod ui;
pub mod url;
pub mod webauth;

pub use error::LockError;
pub use lock::{ListenerId, Lock, LockEvent};
pub use options::{LockConfig, LockOptions};
pub use outcome::{AuthError, AuthResult};
#[cfg(feature = "fetched-phone-tables")]
pub use ui::load_phone_tables;
pub use ui::LockPasswordless;

// The README's Rust examples are compiled as doctests (they use the router glue too).
#[cfg(all(doctest, feature = "router"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The passwordless OTP grant (`credential_type` of `/co/authenticate`).
pub const PASSWORDLESS_OTP_GRANT: &str = "http://auth0.com/oauth/grant-type/passwordless/otp";

/// Sorts a short slice in place, stable, by `less` (an insertion sort: the widget sorts a few
/// hundred items at most, and each of the standard library's sort instances costs kilobytes of
/// wasm).
pub(crate) fn sort_small<T>(items: &mut [T], less: impl Fn(&T, &T) -> bool) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && less(&items[j], &items[j - 1]) {
            items.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// A mutex's guard, poisoned or not (nothing here leaves data half-written on a panic).
pub(crate) fn locked<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sort_small_sorts_stably() {
        let mut v = vec![(3, 'a'), (1, 'b'), (2, 'c'), (1, 'd'), (0, 'e'), (3, 'f')];
        super::sort_small(&mut v, |a, b| a.0 < b.0);
        assert_eq!(
            v,
            [(0, 'e'), (1, 'b'), (1, 'd'), (2, 'c'), (3, 'a'), (3, 'f')]
        );
        let mut empty: [u8; 0] = [];
        super::sort_small(&mut empty, |a, b| a < b);
    }
}
