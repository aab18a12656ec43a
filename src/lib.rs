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

// The build script's stylesheet minifier, here so that `cargo test` runs its tests.
#[cfg(test)]
#[path = "../style/minify.rs"]
mod minify;

pub use error::LockError;
pub use lock::{ListenerId, Lock, LockEvent};
pub use options::{LockConfig, LockOptions};
pub use outcome::{AuthError, AuthResult};
#[cfg(feature = "fetched-phone-tables")]
pub use ui::fetch_phone_tables_from;
pub use ui::LockPasswordless;

// The README's Rust examples are compiled as doctests (they use the router glue too).
#[cfg(all(doctest, feature = "router"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The passwordless OTP grant (`credential_type` of `/co/authenticate`).
pub const PASSWORDLESS_OTP_GRANT: &str = "http://auth0.com/oauth/grant-type/passwordless/otp";

/// `s` in double quotes, as `{:?}` writes a string for an error message (`"`, `\` and control
/// characters escaped), without `core`'s Unicode printability tables, which `{:?}` links in.
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Sorts a slice in place, stable, by `less`: a merge sort of indices, so there are few
/// comparisons (the country list compares through the browser's collator) and one small
/// instance of code (each of the standard library's sorts costs kilobytes of wasm).
pub(crate) fn sort_small<T>(items: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let n = items.len();
    let mut order: Vec<usize> = (0..n).collect();
    let mut merged = vec![0; n];
    let mut width = 1;
    while width < n {
        for start in (0..n).step_by(2 * width) {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j) = (start, mid);
            for slot in &mut merged[start..end] {
                // Take from the right run only when strictly less: stable.
                let right = j < end && (i >= mid || less(&items[order[j]], &items[order[i]]));
                *slot = if right { order[j] } else { order[i] };
                if right {
                    j += 1;
                } else {
                    i += 1;
                }
            }
        }
        std::mem::swap(&mut order, &mut merged);
        width *= 2;
    }
    // Put each item where the order says, following the permutation's cycles.
    for start in 0..n {
        let mut at = start;
        while order[at] != start {
            let from = order[at];
            items.swap(at, from);
            order[at] = at;
            at = from;
        }
        order[at] = at;
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
        // Against the standard library's stable sort, on many lengths and orders.
        let mut x = 88172645463325252u64;
        for n in 0..70 {
            let mut v: Vec<(u8, usize)> = (0..n)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    ((x % 7) as u8, i)
                })
                .collect();
            let mut want = v.clone();
            want.sort_by_key(|p| p.0);
            super::sort_small(&mut v, |a, b| a.0 < b.0);
            assert_eq!(v, want, "{n} items");
        }
    }

    /// `quoted` writes what `{:?}` writes for a string.
    #[test]
    fn quoted_writes_what_debug_writes() {
        for t in [
            "plain",
            "",
            "say \"hi\"",
            "back\\slash",
            "line\nfeed\ttab\r",
            "bell\u{7}",
            "é ü 漢",
        ] {
            assert_eq!(super::quoted(t), format!("{t:?}"), "{t:?}");
        }
    }
}
