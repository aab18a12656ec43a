//! What `show(options)` may change for one showing, and its flash message.

use crate::json::Json;

use super::{AuthParams, LockOptions};

/// What `show(options)` may change for one showing, as in Lock: each `show` starts again from
/// the constructor's options and applies only what it carries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShowOptions {
    /// A message banner shown with the phone screen.
    pub flash_message: Option<FlashMessage>,
    /// `allowedConnections` for this showing (it must still offer `sms`).
    pub allowed_connections: Option<Vec<String>>,
    /// `auth.params` for this showing (`scope`, `audience`).
    pub auth: Option<ShowAuth>,
    /// `theme` fields for this showing.
    pub theme: Option<ShowTheme>,
    /// `language` for this showing.
    pub language: Option<String>,
    /// `languageDictionary` for this showing.
    pub language_dictionary: Option<Json>,
}

/// `show({auth})`: only `params` may change per showing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShowAuth {
    /// `auth.params`.
    pub params: Option<AuthParams>,
}

/// `show({theme})`: the fields given replace the constructor's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShowTheme {
    /// `theme.logo`.
    pub logo: Option<String>,
    /// `theme.primaryColor`.
    pub primary_color: Option<String>,
    /// `theme.labeledSubmitButton`.
    pub labeled_submit_button: Option<bool>,
    /// `theme.colorScheme`.
    pub color_scheme: Option<String>,
}

impl ShowOptions {
    /// The options for this showing: `base` with these overrides. [`LockConfig::new`](super::LockConfig::new) then
    /// checks them as it checks the constructor's.
    pub fn apply(&self, base: &LockOptions) -> LockOptions {
        let mut o = base.clone();
        if let Some(c) = &self.allowed_connections {
            o.allowed_connections = c.clone();
        }
        if let Some(params) = self.auth.as_ref().and_then(|a| a.params.clone()) {
            o.auth.params = params;
        }
        if let Some(t) = &self.theme {
            if let Some(logo) = &t.logo {
                o.theme.logo = Some(logo.clone());
            }
            if let Some(color) = &t.primary_color {
                o.theme.primary_color = Some(color.clone());
            }
            if let Some(labeled) = t.labeled_submit_button {
                o.theme.labeled_submit_button = labeled;
            }
            if let Some(scheme) = &t.color_scheme {
                o.theme.color_scheme = scheme.clone();
            }
        }
        if let Some(language) = &self.language {
            o.language = Some(language.clone());
        }
        if let Some(dictionary) = &self.language_dictionary {
            o.language_dictionary = dictionary.clone();
        }
        o
    }
}

/// `flashMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashMessage {
    /// `error`, `success` or `info`.
    pub kind: FlashKind,
    /// The text (shown as text).
    pub text: String,
}

/// The kind of a flash message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashKind {
    /// Red.
    Error,
    /// Green.
    Success,
    /// Neutral.
    Info,
}
