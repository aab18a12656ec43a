//! Lock's options from JSON, by Lock's names: every member is checked for its type, an unknown
//! one is refused by name, a missing one keeps its default.

use super::show::{FlashKind, FlashMessage, ShowAuth, ShowOptions, ShowTheme};
use super::{AuthOptions, AuthParams, LockOptions, OptionsError, Overrides, Prefill, Theme};
use crate::json::Json;

/// The members of one options object, taken one by one; what is left is unknown.
struct Members<'a> {
    path: &'a str,
    members: Vec<(&'a str, &'a Json)>,
}

type Read<T> = Result<T, String>;

impl<'a> Members<'a> {
    fn of(value: &'a Json, path: &'a str) -> Read<Self> {
        let members = value.as_object().ok_or_else(|| {
            let at = if path.is_empty() { "the options" } else { path };
            format!(
                "invalid type: {} for {at}, expected an object",
                value.kind()
            )
        })?;
        Ok(Self {
            path,
            members: members.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        })
    }

    fn name(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The member `key` (the last, if repeated), taken.
    fn take(&mut self, key: &str) -> Option<&'a Json> {
        let found = self
            .members
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|m| m.1);
        self.members.retain(|(k, _)| *k != key);
        found
    }

    fn wrong(&self, key: &str, found: &Json, expected: &str) -> String {
        format!(
            "invalid type: {} for {}, expected {expected}",
            found.kind(),
            self.name(key)
        )
    }

    fn string(&mut self, key: &str, into: &mut String) -> Read<()> {
        if let Some(v) = self.take(key) {
            *into = v
                .as_str()
                .ok_or_else(|| self.wrong(key, v, "a string"))?
                .to_string();
        }
        Ok(())
    }

    fn opt_string(&mut self, key: &str, into: &mut Option<String>) -> Read<()> {
        match self.take(key) {
            None => {}
            Some(Json::Null) => *into = None,
            Some(Json::String(s)) => *into = Some(s.clone()),
            Some(v) => return Err(self.wrong(key, v, "a string")),
        }
        Ok(())
    }

    fn bool(&mut self, key: &str, into: &mut bool) -> Read<()> {
        if let Some(v) = self.take(key) {
            *into = v.as_bool().ok_or_else(|| self.wrong(key, v, "a boolean"))?;
        }
        Ok(())
    }

    fn opt_bool(&mut self, key: &str, into: &mut Option<bool>) -> Read<()> {
        match self.take(key) {
            None => {}
            Some(Json::Null) => *into = None,
            Some(Json::Bool(b)) => *into = Some(*b),
            Some(v) => return Err(self.wrong(key, v, "a boolean")),
        }
        Ok(())
    }

    fn count<T: TryFrom<i64>>(&mut self, key: &str, into: &mut T) -> Read<()> {
        if let Some(v) = self.take(key) {
            let n = v
                .as_i64()
                .ok_or_else(|| self.wrong(key, v, "a whole number"))?;
            *into = T::try_from(n).map_err(|_| {
                format!(
                    "invalid value: {n} for {}, expected a whole number in range",
                    self.name(key)
                )
            })?;
        }
        Ok(())
    }

    fn strings(&mut self, key: &str) -> Read<Option<Vec<String>>> {
        let Some(v) = self.take(key) else {
            return Ok(None);
        };
        let items = v
            .as_array()
            .ok_or_else(|| self.wrong(key, v, "an array of strings"))?;
        items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| self.wrong(key, i, "a string in the array"))
            })
            .collect::<Read<Vec<String>>>()
            .map(Some)
    }

    /// An unknown member left over is refused by name.
    fn done(self) -> Read<()> {
        match self.members.first() {
            None => Ok(()),
            Some((k, _)) if self.path.is_empty() => Err(format!("unknown field `{k}`")),
            Some((k, _)) => Err(format!("unknown field `{k}` in {}", self.path)),
        }
    }
}

fn params(value: &Json, path: &str, p: &mut AuthParams) -> Read<()> {
    let mut m = Members::of(value, path)?;
    m.string("scope", &mut p.scope)?;
    m.opt_string("audience", &mut p.audience)?;
    m.done()
}

fn auth(value: &Json, a: &mut AuthOptions) -> Read<()> {
    let mut m = Members::of(value, "auth")?;
    m.bool("redirect", &mut a.redirect)?;
    m.opt_string("redirectUrl", &mut a.redirect_url)?;
    m.string("responseType", &mut a.response_type)?;
    if let Some(v) = m.take("params") {
        params(v, "auth.params", &mut a.params)?;
    }
    m.bool("autoParseHash", &mut a.auto_parse_hash)?;
    m.bool("useTokenEndpoint", &mut a.use_token_endpoint)?;
    m.bool("redeemCode", &mut a.redeem_code)?;
    m.opt_string("persistTokens", &mut a.persist_tokens)?;
    m.opt_string("audience", &mut a.audience)?;
    m.bool("sso", &mut a.sso)?;
    m.done()
}

fn theme(value: &Json, t: &mut Theme) -> Read<()> {
    let mut m = Members::of(value, "theme")?;
    m.opt_string("logo", &mut t.logo)?;
    m.opt_string("primaryColor", &mut t.primary_color)?;
    m.bool("labeledSubmitButton", &mut t.labeled_submit_button)?;
    m.string("colorScheme", &mut t.color_scheme)?;
    m.done()
}

impl LockOptions {
    /// Lock's options object from JSON text (`null` or nothing: the defaults). Members are
    /// checked for their types and unknown ones refused by name; the values themselves are
    /// checked by [`LockConfig::new`](super::LockConfig::new).
    pub fn from_json(text: &str) -> Result<Self, OptionsError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let value = Json::parse(text).map_err(|e| OptionsError::Malformed(e.to_string()))?;
        if value.is_null() {
            return Ok(Self::default());
        }
        Self::from_value(&value)
    }

    /// Lock's options object, already parsed.
    pub fn from_value(value: &Json) -> Result<Self, OptionsError> {
        Self::read(value).map_err(OptionsError::Malformed)
    }

    fn read(value: &Json) -> Read<Self> {
        let mut o = Self::default();
        let mut m = Members::of(value, "")?;
        if let Some(list) = m.strings("allowedConnections")? {
            o.allowed_connections = list;
        }
        if let Some(v) = m.take("auth") {
            auth(v, &mut o.auth)?;
        }
        m.bool("closable", &mut o.closable)?;
        m.count("leeway", &mut o.leeway)?;
        m.bool("autoclose", &mut o.autoclose)?;
        m.bool("hashCleanup", &mut o.hash_cleanup)?;
        m.opt_string("container", &mut o.container)?;
        m.opt_bool("autofocus", &mut o.autofocus)?;
        if let Some(v) = m.take("theme") {
            theme(v, &mut o.theme)?;
        }
        if let Some(v) = m.take("prefill") {
            let mut p = Members::of(v, "prefill")?;
            let mut prefill = Prefill::default();
            p.opt_string("phoneNumber", &mut prefill.phone_number)?;
            p.done()?;
            o.prefill = prefill;
        }
        m.opt_string("defaultLocation", &mut o.default_location)?;
        m.bool("showTerms", &mut o.show_terms)?;
        m.bool("mustAcceptTerms", &mut o.must_accept_terms)?;
        if let Some(v) = m.take("languageDictionary") {
            o.language_dictionary = v.clone();
        }
        m.count("codeLength", &mut o.code_length)?;
        m.bool("autoSubmitCode", &mut o.auto_submit_code)?;
        m.opt_string("language", &mut o.language)?;
        m.opt_string("languageBaseUrl", &mut o.language_base_url)?;
        m.opt_string("configurationBaseUrl", &mut o.configuration_base_url)?;
        if let Some(v) = m.take("overrides") {
            let mut r = Members::of(v, "overrides")?;
            let mut overrides = Overrides::default();
            r.opt_string("__tenant", &mut overrides.tenant)?;
            r.opt_string("__token_issuer", &mut overrides.token_issuer)?;
            r.opt_string("__jwks_uri", &mut overrides.jwks_uri)?;
            r.done()?;
            o.overrides = overrides;
        }
        m.bool("rememberLastLogin", &mut o.remember_last_login)?;
        m.bool("strictCsp", &mut o.strict_csp)?;
        m.done()?;
        Ok(o)
    }
}

impl AuthParams {
    /// Lock's `checkSession(params)`: `scope` and `audience` from JSON text, over `base` (the
    /// configured ones); `null`, `undefined` or nothing keeps `base`. Other members are refused
    /// by name.
    pub fn from_json_over(text: &str, base: &AuthParams) -> Result<Self, String> {
        let text = text.trim();
        let mut p = base.clone();
        if text.is_empty() || text == "undefined" {
            return Ok(p);
        }
        let value = Json::parse(text).map_err(|e| e.to_string())?;
        if !value.is_null() {
            params(&value, "checkSession params", &mut p)?;
        }
        Ok(p)
    }
}

impl ShowOptions {
    /// `show(options)` from JSON text (`null`, `undefined` or nothing: no overrides).
    pub fn from_json(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() || text == "undefined" {
            return Ok(Self::default());
        }
        let value = Json::parse(text).map_err(|e| e.to_string())?;
        if value.is_null() {
            return Ok(Self::default());
        }
        Self::from_value(&value)
    }

    /// `show(options)`, already parsed.
    pub fn from_value(value: &Json) -> Result<Self, String> {
        let mut s = Self::default();
        let mut m = Members::of(value, "")?;
        match m.take("flashMessage") {
            None | Some(Json::Null) => {}
            Some(v) => {
                let mut f = Members::of(v, "flashMessage")?;
                let kind = match f.take("type") {
                    Some(k) if k == "error" => FlashKind::Error,
                    Some(k) if k == "success" => FlashKind::Success,
                    Some(k) if k == "info" => FlashKind::Info,
                    _ => {
                        return Err(
                            "flashMessage.type must be \"error\", \"success\" or \"info\"".into(),
                        )
                    }
                };
                let mut text = None;
                f.opt_string("text", &mut text)?;
                f.done()?;
                s.flash_message = Some(FlashMessage {
                    kind,
                    text: text.ok_or("flashMessage needs a text")?,
                });
            }
        }
        s.allowed_connections = m.strings("allowedConnections")?;
        match m.take("auth") {
            None | Some(Json::Null) => {}
            Some(v) => {
                let mut a = Members::of(v, "auth")?;
                let mut show = ShowAuth::default();
                match a.take("params") {
                    None | Some(Json::Null) => {}
                    Some(p) => {
                        let mut base = AuthParams::default();
                        params(p, "auth.params", &mut base)?;
                        show.params = Some(base);
                    }
                }
                a.done()?;
                s.auth = Some(show);
            }
        }
        match m.take("theme") {
            None | Some(Json::Null) => {}
            Some(v) => {
                let mut t = Members::of(v, "theme")?;
                let mut show = ShowTheme::default();
                t.opt_string("logo", &mut show.logo)?;
                t.opt_string("primaryColor", &mut show.primary_color)?;
                t.opt_bool("labeledSubmitButton", &mut show.labeled_submit_button)?;
                t.opt_string("colorScheme", &mut show.color_scheme)?;
                t.done()?;
                s.theme = Some(show);
            }
        }
        m.opt_string("language", &mut s.language)?;
        s.language_dictionary = m
            .take("languageDictionary")
            .filter(|v| !v.is_null())
            .cloned();
        m.done()?;
        Ok(s)
    }
}
