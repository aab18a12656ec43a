//! What a login ends with: the tokens (`authenticated`) or an error (`authorization_error`), with
//! Lock's payload names.

use crate::json::Json;

/// What `authenticated` carries, with Lock's payload names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthResult {
    /// The access token.
    pub access_token: Option<String>,
    /// The ID token (validated).
    pub id_token: Option<String>,
    /// The ID token's claims.
    pub id_token_payload: Option<Json>,
    /// A refresh token (never from the redirect flow).
    pub refresh_token: Option<String>,
    /// The echoed state.
    pub state: String,
    /// Access token lifetime in seconds.
    pub expires_in: Option<u64>,
    /// `Bearer`.
    pub token_type: Option<String>,
    /// Granted scopes.
    pub scope: Option<String>,
    /// Application state (unused by the redirect flow).
    pub app_state: Option<Json>,
    /// With `responseType: 'code'` and `redeemCode: false`: the code for the app's backend.
    pub code: Option<String>,
    /// The PKCE verifier the backend redeems `code` with.
    pub code_verifier: Option<String>,
    /// The `redirect_uri` the code was issued for.
    pub redirect_uri: Option<String>,
}

/// What `authorization_error` carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    /// The error code (`access_denied`, `invalid_token`, …).
    pub error: String,
    /// Its text.
    pub error_description: String,
}

impl AuthResult {
    /// Lock's `authenticated` payload: `{accessToken, idToken, idTokenPayload, refreshToken,
    /// state, expiresIn, tokenType, scope, appState}` (absent values `null`), plus `code`,
    /// `codeVerifier` and `redirectUri` when there is a code for a backend.
    pub fn to_json(&self) -> Json {
        let mut members = vec![
            ("accessToken", Json::from(self.access_token.clone())),
            ("idToken", Json::from(self.id_token.clone())),
            (
                "idTokenPayload",
                self.id_token_payload.clone().unwrap_or_default(),
            ),
            ("refreshToken", Json::from(self.refresh_token.clone())),
            ("state", Json::from(self.state.clone())),
            ("expiresIn", Json::from(self.expires_in)),
            ("tokenType", Json::from(self.token_type.clone())),
            ("scope", Json::from(self.scope.clone())),
            ("appState", self.app_state.clone().unwrap_or_default()),
        ];
        for (name, value) in [
            ("code", &self.code),
            ("codeVerifier", &self.code_verifier),
            ("redirectUri", &self.redirect_uri),
        ] {
            if let Some(v) = value {
                members.push((name, Json::from(v)));
            }
        }
        Json::object(members)
    }

    /// Reads the form [`AuthResult::to_json`] writes (persisted tokens); `None` for anything
    /// else.
    pub fn from_json(v: &Json) -> Option<Self> {
        let text = |k: &str| v.opt_str(k);
        let value = |k: &str| v.get(k).filter(|x| !x.is_null()).cloned();
        Some(Self {
            access_token: text("accessToken")?,
            id_token: text("idToken")?,
            id_token_payload: value("idTokenPayload"),
            refresh_token: text("refreshToken")?,
            state: v.get("state")?.as_str()?.to_string(),
            expires_in: match v.get("expiresIn") {
                None | Some(Json::Null) => None,
                Some(n) => Some(u64::try_from(n.as_i64()?).ok()?),
            },
            token_type: text("tokenType")?,
            scope: text("scope")?,
            app_state: value("appState"),
            code: text("code")?,
            code_verifier: text("codeVerifier")?,
            redirect_uri: text("redirectUri")?,
        })
    }
}

impl AuthError {
    /// Lock's `authorization_error` payload: `{error, errorDescription}`.
    pub fn to_json(&self) -> Json {
        Json::object([
            ("error", Json::from(&self.error)),
            ("errorDescription", Json::from(&self.error_description)),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_use_locks_names() {
        let r = AuthResult {
            access_token: Some("at".into()),
            state: "s".into(),
            expires_in: Some(7200),
            ..AuthResult::default()
        };
        assert_eq!(
            r.to_json().to_string(),
            r#"{"accessToken":"at","idToken":null,"idTokenPayload":null,"refreshToken":null,"state":"s","expiresIn":7200,"tokenType":null,"scope":null,"appState":null}"#
        );
        let code = AuthResult {
            code: Some("c".into()),
            code_verifier: Some("v".into()),
            ..AuthResult::default()
        };
        assert_eq!(code.to_json()["codeVerifier"], "v");
        let full = AuthResult {
            id_token_payload: Some(Json::parse(r#"{"sub":"sms|1"}"#).unwrap()),
            scope: Some("openid".into()),
            ..r.clone()
        };
        for result in [r.clone(), full, code.clone()] {
            let stored = Json::parse(&result.to_json().to_string()).unwrap();
            assert_eq!(AuthResult::from_json(&stored), Some(result));
        }
        assert_eq!(AuthResult::from_json(&Json::parse("[]").unwrap()), None);
        assert!(code.to_json().get("redirectUri").is_none());
        let e = AuthError {
            error: "access_denied".into(),
            error_description: "no".into(),
        };
        assert_eq!(
            e.to_json().to_string(),
            r#"{"error":"access_denied","errorDescription":"no"}"#
        );
    }
}
