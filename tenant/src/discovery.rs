//! `/.well-known/jwks.json` and `/.well-known/openid-configuration`.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::{Tenant, PASSWORDLESS_OTP_GRANT};

/// The public signing keys.
pub async fn jwks(State(t): State<Arc<Tenant>>) -> Json<Value> {
    Json(t.keys.jwks())
}

/// OIDC discovery.
pub async fn openid_configuration(State(t): State<Arc<Tenant>>) -> Json<Value> {
    let root = &t.config.tenant.issuer;
    Json(json!({
        "issuer": t.issuer(),
        "authorization_endpoint": format!("{root}/authorize"),
        "token_endpoint": format!("{root}/oauth/token"),
        "userinfo_endpoint": format!("{root}/userinfo"),
        "jwks_uri": format!("{root}/.well-known/jwks.json"),
        "response_types_supported": ["code", "token", "id_token", "token id_token"],
        "response_modes_supported": ["query", "fragment", "web_message"],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "grant_types_supported": ["implicit", "authorization_code", "refresh_token",
            PASSWORDLESS_OTP_GRANT],
        "end_session_endpoint": format!("{root}/v2/logout"),
        "scopes_supported": ["openid", "profile", "phone", "email", "offline_access"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
            "name", "nickname", "picture", "updated_at", "phone_number", "phone_number_verified"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
    }))
}
