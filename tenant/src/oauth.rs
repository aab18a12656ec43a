//! `GET /authorize`, `POST /oauth/token` and `GET /userinfo`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::body::Strict;
use crate::config::ClientConfig;
use crate::db::User;
use crate::error::{ApiError, WRONG_CODE};
use crate::keys::half_hash;
use crate::passwordless::{too_many_attempts, verify_otp, OtpFailure};
use crate::{
    html_escape, rfc3339, Tenant, ACCESS_TOKEN_SECS, ID_TOKEN_SECS, PASSWORDLESS_OTP_GRANT,
};

/// Tokens for one login.
struct Tokens {
    access_token: String,
    id_token: String,
    scope: String,
}

/// Signs an access token (a JWT `/userinfo` accepts) and an ID token for `user`.
fn issue_tokens(
    t: &Tenant,
    client: &ClientConfig,
    user: &User,
    scope: &str,
    nonce: Option<&str>,
    audience: Option<&str>,
) -> Tokens {
    let now = t.clock.now();
    let issuer = t.issuer();
    let sub = format!("sms|{}", user.id);
    let scope = if scope.split(' ').any(|s| s == "openid") {
        scope.to_string()
    } else {
        format!("openid {scope}").trim().to_string()
    };
    let userinfo_aud = format!("{issuer}userinfo");
    let aud: Vec<&str> = match audience {
        Some(a) if !a.is_empty() => vec![a, &userinfo_aud],
        _ => vec![&userinfo_aud],
    };
    let access_token = t.keys.sign(&json!({
        "iss": issuer, "sub": sub, "aud": aud, "azp": client.client_id,
        "iat": now, "exp": now + ACCESS_TOKEN_SECS, "scope": scope,
    }));
    let mut claims = profile_claims(user, &scope);
    claims["iss"] = json!(issuer);
    claims["sub"] = json!(sub);
    claims["aud"] = json!(client.client_id);
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + ID_TOKEN_SECS);
    claims["auth_time"] = json!(now);
    claims["at_hash"] = json!(half_hash(&access_token));
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    Tokens {
        id_token: t.keys.sign(&claims),
        access_token,
        scope,
    }
}

/// The OIDC profile of an SMS user, filtered by scope as Auth0 does.
fn profile_claims(user: &User, scope: &str) -> Value {
    let mut claims = json!({ "sub": format!("sms|{}", user.id) });
    let scopes: Vec<&str> = scope.split(' ').collect();
    if scopes.contains(&"profile") {
        claims["name"] = json!(user.phone);
        claims["nickname"] = json!(user.phone);
        claims["picture"] = json!(avatar(&user.phone));
        claims["updated_at"] = json!(rfc3339(user.updated_at));
    }
    if scopes.contains(&"phone") || scopes.contains(&"profile") {
        claims["phone_number"] = json!(user.phone);
        claims["phone_number_verified"] = json!(true);
    }
    claims
}

/// A self-contained picture (the tenant is offline, so no Gravatar): the last two digits.
fn avatar(phone: &str) -> String {
    let tail: String = phone
        .chars()
        .rev()
        .take(2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!(
        "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'%3E%3Crect width='64' height='64' rx='32' fill='%23635dff'/%3E%3Ctext x='32' y='41' font-size='24' text-anchor='middle' fill='white' font-family='sans-serif'%3E{tail}%3C/text%3E%3C/svg%3E"
    )
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Login error</title></head>\
         <body><h1>Login error</h1><p>{}</p></body></html>",
        html_escape(message)
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
}

fn redirect_with_fragment(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let fragment = serde_urlencoded::to_string(params).unwrap_or_default();
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, format!("{redirect_uri}#{fragment}")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
    )
        .into_response()
}

/// Completes a login from a login ticket and redirects back with tokens in the fragment.
pub async fn authorize(
    State(t): State<Arc<Tenant>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let Some(client) = get("client_id").and_then(|id| t.config.client(id)) else {
        return error_page(StatusCode::BAD_REQUEST, "Unknown or missing client_id.");
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return error_page(StatusCode::BAD_REQUEST, "Missing redirect_uri.");
    };
    if !client.callbacks.iter().any(|c| c == redirect_uri) {
        return error_page(
            StatusCode::BAD_REQUEST,
            &format!(
                "The redirect_uri {redirect_uri} is not an allowed callback URL of client {}.",
                client.client_id
            ),
        );
    }
    let state = get("state").unwrap_or("");
    let fail = |error: &str, description: &str| {
        let mut params = vec![("error", error), ("error_description", description)];
        if !state.is_empty() {
            params.push(("state", state));
        }
        redirect_with_fragment(redirect_uri, &params)
    };
    let response_type = get("response_type").unwrap_or("");
    let mut parts: Vec<&str> = response_type.split(' ').collect();
    parts.sort_unstable();
    let (want_access, want_id) = match parts.as_slice() {
        ["token"] => (true, false),
        ["id_token"] => (false, true),
        ["id_token", "token"] => (true, true),
        _ => {
            return fail(
                "unsupported_response_type",
                &format!("Unsupported response type: {response_type:?}"),
            )
        }
    };
    match get("response_mode") {
        None | Some("fragment") => {}
        Some(mode) => {
            return fail(
                "unsupported_response_mode",
                &format!("Unsupported response mode: {mode}"),
            )
        }
    }
    let nonce = get("nonce");
    if want_id && nonce.is_none() {
        return fail(
            "invalid_request",
            "The nonce parameter is required for id_token responses.",
        );
    }
    if let Some(realm) = get("realm") {
        if let Err(e) = t.sms_connection(client, Some(realm)) {
            return fail("invalid_request", &e.description);
        }
    }
    let Some(ticket) = get("login_ticket") else {
        return fail("login_required", "Login required.");
    };
    let user = match t.db.take_ticket(ticket, &client.client_id, t.clock.now()) {
        Ok(Some(user_id)) => t.db.user(&user_id),
        Ok(None) => return fail("access_denied", "Invalid or expired login ticket."),
        Err(e) => Err(e),
    };
    let user = match user {
        Ok(Some(user)) => user,
        Ok(None) => return fail("access_denied", "Invalid or expired login ticket."),
        Err(e) => {
            ApiError::internal(e);
            return fail("server_error", "The tenant failed to handle the request.");
        }
    };
    let tokens = issue_tokens(
        &t,
        client,
        &user,
        get("scope").unwrap_or("openid"),
        nonce,
        get("audience"),
    );
    let expires = ACCESS_TOKEN_SECS.to_string();
    let mut params: Vec<(&str, &str)> = Vec::new();
    if want_access {
        params.push(("access_token", &tokens.access_token));
    }
    if want_id {
        params.push(("id_token", &tokens.id_token));
    }
    params.extend([
        ("scope", tokens.scope.as_str()),
        ("expires_in", expires.as_str()),
        ("token_type", "Bearer"),
    ]);
    if !state.is_empty() {
        params.push(("state", state));
    }
    redirect_with_fragment(redirect_uri, &params)
}

/// The token request, as JSON or a form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    username: Option<String>,
    otp: Option<String>,
    realm: Option<String>,
    scope: Option<String>,
    audience: Option<String>,
}

fn oauth_error(
    status: StatusCode,
    error: &'static str,
    description: impl Into<String>,
) -> ApiError {
    ApiError::new(status, error, description)
}

/// The passwordless OTP grant.
pub async fn token(
    State(t): State<Arc<Tenant>>,
    Strict(body): Strict<TokenBody, true>,
) -> Result<Response, ApiError> {
    let grant = body.grant_type.as_deref().unwrap_or("");
    if grant.is_empty() {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: grant_type",
        ));
    }
    if grant != PASSWORDLESS_OTP_GRANT {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("Unsupported grant type: {grant}"),
        ));
    }
    let client_id = body.client_id.as_deref().unwrap_or("");
    let Some(client) = t.config.client(client_id) else {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            format!("Unknown client: {client_id}"),
        ));
    };
    if body.client_secret.is_some() {
        return Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "This tenant has public clients only; do not send a client_secret.",
        ));
    }
    if !client.grant_types.iter().any(|g| g == grant) {
        return Err(oauth_error(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            format!("Grant type '{grant}' not allowed for the client."),
        ));
    }
    t.sms_connection(client, Some(body.realm.as_deref().unwrap_or("")))
        .map_err(|e| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", e.description))?;
    let (Some(username), Some(otp)) = (body.username.as_deref(), body.otp.as_deref()) else {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameters: username and otp",
        ));
    };
    let user = match verify_otp(&t, &client.client_id, username, otp)? {
        Ok(user) => user,
        Err(OtpFailure::Wrong) => {
            return Err(oauth_error(
                StatusCode::FORBIDDEN,
                "invalid_grant",
                WRONG_CODE,
            ))
        }
        Err(OtpFailure::TooManyAttempts) => return Err(too_many_attempts()),
    };
    let tokens = issue_tokens(
        &t,
        client,
        &user,
        body.scope.as_deref().unwrap_or("openid"),
        None,
        body.audience.as_deref(),
    );
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(json!({
            "access_token": tokens.access_token,
            "id_token": tokens.id_token,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECS,
            "scope": tokens.scope,
        })),
    )
        .into_response())
}

/// The OIDC claims of the access token's user.
pub async fn userinfo(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
) -> Result<Json<Value>, Response> {
    let unauthorized = |d: &str| {
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                format!("Bearer error=\"invalid_token\", error_description=\"{d}\""),
            )],
            Json(json!({"error": "invalid_token", "error_description": d})),
        )
            .into_response()
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("Missing bearer token."))?;
    let claims = t
        .keys
        .verify(token.trim())
        .map_err(|_| unauthorized("Invalid token."))?;
    let userinfo_aud = format!("{}userinfo", t.issuer());
    let aud_ok = claims["aud"]
        .as_array()
        .is_some_and(|a| a.iter().any(|v| v == userinfo_aud.as_str()));
    if claims["iss"] != t.issuer().as_str() || !aud_ok {
        return Err(unauthorized("Invalid token."));
    }
    if claims["exp"]
        .as_i64()
        .is_none_or(|exp| exp <= t.clock.now())
    {
        return Err(unauthorized("The token has expired."));
    }
    let id = claims["sub"]
        .as_str()
        .and_then(|s| s.strip_prefix("sms|"))
        .unwrap_or("");
    let user =
        t.db.user(id)
            .map_err(|e| ApiError::internal(e).into_response())?
            .ok_or_else(|| unauthorized("Unknown user."))?;
    Ok(Json(profile_claims(
        &user,
        claims["scope"].as_str().unwrap_or("openid"),
    )))
}
