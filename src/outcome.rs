//! What a login ends with: the tokens (`authenticated`) or an error (`authorization_error`), with
//! Lock's payload names.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What `authenticated` carries, with Lock's payload names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthResult {
    /// The access token.
    pub access_token: Option<String>,
    /// The ID token (validated).
    pub id_token: Option<String>,
    /// The ID token's claims.
    pub id_token_payload: Option<Value>,
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
    pub app_state: Option<Value>,
    /// With `responseType: 'code'` and `redeemCode: false`: the code for the app's backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The PKCE verifier the backend redeems `code` with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_verifier: Option<String>,
    /// The `redirect_uri` the code was issued for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

/// What `authorization_error` carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthError {
    /// The error code (`access_denied`, `invalid_token`, …).
    pub error: String,
    /// Its text.
    pub error_description: String,
}
