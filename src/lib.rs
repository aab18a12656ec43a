//! A passwordless SMS login widget for Leptos that speaks Auth0's Authentication API: Auth0
//! Lock Passwordless, in Rust.
//!
//! The pure core ([`phone`], [`otp`], [`machine`], [`options`], [`token`], [`i18n`], [`error`])
//! has no DOM and is tested natively; [`api`] and [`browser`] perform the effects; [`Lock`] and
//! [`LockPasswordless`] are the public widget.
#![deny(missing_docs)]

pub mod api;
pub mod browser;
pub mod error;
pub mod hook;
pub mod i18n;
pub mod lock;
pub mod machine;
pub mod options;
pub mod otp;
pub mod phone;
pub mod token;
mod ui;
pub mod webauth;

pub use error::LockError;
pub use lock::{AuthError, AuthResult, Lock, LockEvent};
pub use options::{LockConfig, LockOptions};
pub use ui::LockPasswordless;

// The README's Rust examples are compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The passwordless OTP grant (`credential_type` of `/co/authenticate`).
pub const PASSWORDLESS_OTP_GRANT: &str = "http://auth0.com/oauth/grant-type/passwordless/otp";
