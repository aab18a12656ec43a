//! `GET /authorize`, `POST /oauth/token` and `GET /userinfo`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::body::Strict;
use crate::config::ClientConfig;
use crate::cookies::{cookie, cookie_value, session_cookie, session_from, ticket_cookie_name};
use crate::error::{ApiError, WRONG_CODE};
use crate::keys::{half_hash, sha256};
use crate::passwordless::{too_many_attempts_after, verify_otp, OtpFailure};
use crate::store::{Grant, RefreshOutcome, User};
use crate::{html_escape, rfc3339, ClientIp, Tenant, PASSWORDLESS_OTP_GRANT};

/// Tokens for one login.
struct Tokens {
    access_token: String,
    id_token: String,
    scope: String,
}

/// Signs `claims` on the blocking pool: an RSA signature takes about a millisecond, during
/// which an async worker would serve nothing else.
async fn sign(t: &Arc<Tenant>, claims: Value) -> String {
    let t = t.clone();
    tokio::task::spawn_blocking(move || t.keys.sign(&claims))
        .await
        .expect("RSA signing with a valid key does not panic")
}

/// An access token (opaque, or a JWT for an API audience) and an ID token for `user`, for a
/// `scope` and `audience` already granted ([`crate::config::Config::grant`]).
async fn issue_tokens(
    t: &Arc<Tenant>,
    client: &ClientConfig,
    user: &User,
    scope: &str,
    nonce: Option<&str>,
    audience: Option<&str>,
    auth_time: i64,
) -> Tokens {
    let now = t.clock.now();
    let issuer = t.issuer();
    let sub = format!("sms|{}", user.id);
    let scope = scope.to_string();
    let userinfo_aud = format!("{issuer}userinfo");
    let aud: Vec<&str> = match audience {
        Some(a) if !a.is_empty() => vec![a, &userinfo_aud],
        _ => vec![&userinfo_aud],
    };
    let access_claims = json!({
        "iss": issuer, "sub": sub, "aud": aud, "azp": client.client_id,
        "iat": now, "exp": now + client.access_token_lifetime_secs, "scope": scope,
    });
    // As Auth0: a JWT for an API audience; otherwise an opaque token only /userinfo reads.
    let access_token = match audience {
        Some(a) if !a.is_empty() => sign(t, access_claims).await,
        _ => t.keys.seal(&access_claims),
    };
    let mut claims = profile_claims(user, &scope);
    claims["iss"] = json!(issuer);
    claims["sub"] = json!(sub);
    claims["aud"] = json!(client.client_id);
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + client.id_token_lifetime_secs);
    claims["auth_time"] = json!(auth_time);
    claims["at_hash"] = json!(half_hash(&access_token));
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    Tokens {
        id_token: sign(t, claims).await,
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

/// How `/authorize` answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Fragment,
    Query,
    WebMessage,
}

/// An `/authorize` answer that goes back to the (already validated) redirect URI.
struct Reply<'a> {
    redirect_uri: &'a str,
    mode: Mode,
    state: &'a str,
}

impl Reply<'_> {
    fn send(&self, mut params: Vec<(&str, String)>, cookies: Vec<String>) -> Response {
        if !self.state.is_empty() {
            params.push(("state", self.state.to_string()));
        }
        let mut response = match self.mode {
            Mode::WebMessage => web_message(self.redirect_uri, &params),
            Mode::Fragment | Mode::Query => {
                let encoded = serde_urlencoded::to_string(&params).unwrap_or_default();
                let sep = if self.mode == Mode::Fragment {
                    '#'
                } else if self.redirect_uri.contains('?') {
                    '&'
                } else {
                    '?'
                };
                (
                    StatusCode::FOUND,
                    [(
                        header::LOCATION,
                        format!("{}{sep}{encoded}", self.redirect_uri),
                    )],
                )
                    .into_response()
            }
        };
        let h = response.headers_mut();
        h.insert(
            header::CACHE_CONTROL,
            "no-store".parse().expect("static header"),
        );
        for cookie in cookies.into_iter().filter_map(|c| c.parse().ok()) {
            h.append(header::SET_COOKIE, cookie);
        }
        response
    }

    fn error(&self, error: &str, description: &str) -> Response {
        self.send(
            vec![
                ("error", error.to_string()),
                ("error_description", description.to_string()),
            ],
            Vec::new(),
        )
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find(['/', '?', '#']) {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// The page a hidden iframe loads: it posts the response to the redirect URI's origin only.
fn web_message(redirect_uri: &str, params: &[(&str, String)]) -> Response {
    let response: serde_json::Map<String, Value> = params
        .iter()
        .map(|(k, v)| {
            let v = if *k == "expires_in" {
                v.parse::<i64>().map(Value::from).unwrap_or(json!(v))
            } else {
                json!(v)
            };
            (k.to_string(), v)
        })
        .collect();
    let message = json!({"type": "authorization_response", "response": response});
    // JSON inside <script>: escape `<` so no value can close the element.
    let message = message.to_string().replace('<', "\\u003c");
    let target = json!(origin_of(redirect_uri))
        .to_string()
        .replace('<', "\\u003c");
    let nonce = crate::keys::random_token(16);
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Authorization Response</title></head>\
         <body><script nonce=\"{nonce}\">(function () {{ var target = {target}; var message = {message};\
         (window.opener || window.parent).postMessage(message, target); }})();</script></body></html>"
    );
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            format!("default-src 'none'; script-src 'nonce-{nonce}'"),
        )],
        Html(body),
    )
        .into_response()
}

/// Completes a login: from a login ticket (after `/co/authenticate`) or the session cookie
/// (`prompt=none`, `checkSession`), answering tokens or an authorization code.
pub async fn authorize(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
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
    let response_type = get("response_type").unwrap_or("");
    let mut parts: Vec<&str> = response_type.split(' ').collect();
    parts.sort_unstable();
    let kind = match parts.as_slice() {
        ["token"] => Some((true, false, false)),
        ["id_token"] => Some((false, true, false)),
        ["id_token", "token"] => Some((true, true, false)),
        ["code"] => Some((false, false, true)),
        _ => None,
    };
    let mode = match get("response_mode") {
        None if kind.is_some_and(|k| k.2) => Some(Mode::Query),
        None | Some("fragment") => Some(Mode::Fragment),
        Some("query") => Some(Mode::Query),
        Some("web_message") => Some(Mode::WebMessage),
        Some(_) => None,
    };
    let reply = Reply {
        redirect_uri,
        mode: mode.unwrap_or(Mode::Fragment),
        state: get("state").unwrap_or(""),
    };
    let Some((want_access, want_id, want_code)) = kind else {
        return reply.error(
            "unsupported_response_type",
            &format!("Unsupported response type: {response_type:?}"),
        );
    };
    let Some(mode) = mode else {
        return reply.error(
            "unsupported_response_mode",
            "response_mode must be fragment, query or web_message.",
        );
    };
    if mode == Mode::Query && !want_code {
        return reply.error(
            "invalid_request",
            "Tokens are never sent in the query; use response_mode=fragment.",
        );
    }
    let grant = if want_code {
        "authorization_code"
    } else {
        "implicit"
    };
    if !client.allows(grant) {
        return reply.error(
            "unauthorized_client",
            &format!("Grant type '{grant}' not allowed for the client."),
        );
    }
    let nonce = get("nonce");
    if want_id && nonce.is_none() {
        return reply.error(
            "invalid_request",
            "The nonce parameter is required for id_token responses.",
        );
    }
    let challenge = get("code_challenge");
    if want_code {
        match (challenge, get("code_challenge_method")) {
            (Some(c), Some("S256")) if c.len() >= 43 => {}
            (Some(_), Some("S256")) => {
                return reply.error("invalid_request", "code_challenge is too short for S256.")
            }
            (Some(_), _) => {
                return reply.error(
                    "invalid_request",
                    "Only code_challenge_method=S256 is supported.",
                )
            }
            (None, _) => {
                return reply.error(
                    "invalid_request",
                    "PKCE is required: send code_challenge with code_challenge_method=S256.",
                )
            }
        }
    }
    if let Some(realm) = get("realm") {
        if let Err(e) = t.sms_connection(client, Some(realm)) {
            return reply.error("invalid_request", &e.description);
        }
    }
    let (audience, scope) =
        match t
            .config
            .grant(client, get("audience"), get("scope").unwrap_or("openid"))
        {
            Ok(granted) => granted,
            Err(description) => return reply.error("access_denied", &description),
        };
    let max_age = match get("max_age").map(str::parse::<i64>) {
        None => None,
        Some(Ok(secs)) if secs >= 0 => Some(secs),
        Some(_) => {
            return reply.error(
                "invalid_request",
                "max_age must be a non-negative number of seconds.",
            )
        }
    };
    let prompt_login = get("prompt").is_some_and(|p| p.split(' ').any(|v| v == "login"));
    let now = t.clock.now();
    let mut cookies = Vec::new();
    let (user, auth_time) = if let Some(ticket) = get("login_ticket") {
        // Only in the browser that verified the code (login CSRF: a ticket alone would plant
        // its holder's session in whichever browser is sent to this URL).
        let binding_cookie = ticket_cookie_name(ticket);
        let Some(verifier) = cookie_value(&headers, &binding_cookie) else {
            return reply.error(
                "access_denied",
                "The login ticket is not bound to this browser: the cookie /co/authenticate \
                 set is missing (was the code verified in another browser, or are the tenant's \
                 cookies blocked as third-party cookies?).",
            );
        };
        let session = crate::keys::random_token(32);
        let lifetime = t.config.tenant.session_lifetime_secs;
        let redeemed = t
            .store
            .redeem_ticket(
                ticket,
                &client.client_id,
                &sha256(&verifier),
                now,
                &sha256(&session),
                now + lifetime,
            )
            .await;
        match redeemed {
            Ok(Some(Some(user))) => {
                cookies.push(session_cookie(&t, &session, lifetime));
                cookies.push(cookie(&t, &binding_cookie, "", 0));
                (user, now)
            }
            Ok(Some(None)) => return reply.error("access_denied", "The user no longer exists."),
            Ok(None) => {
                return reply.error(
                    "access_denied",
                    "Invalid or expired login ticket, or one verified in another browser.",
                )
            }
            Err(e) => {
                ApiError::internal(e);
                return reply.error("server_error", "The tenant failed to handle the request.");
            }
        }
    } else {
        // An existing session: not for prompt=login (a new login is asked for), nor when the
        // login is older than max_age.
        let session = match session_from(&headers) {
            Some(s) => t.store.session_user(&sha256(&s), now).await.ok().flatten(),
            None => None,
        };
        match session {
            Some(_) if prompt_login => {
                return reply.error("login_required", "prompt=login asks for a new login.")
            }
            Some((_, at)) if max_age.is_some_and(|m| now - at > m) => {
                return reply.error(
                    "login_required",
                    "The login is older than max_age: log in again.",
                )
            }
            Some(session) => session,
            None => return reply.error("login_required", "Login required."),
        }
    };
    if want_code {
        let code = crate::keys::random_token(32);
        let stored = Grant {
            client_id: client.client_id.clone(),
            user_id: user.id.clone(),
            scope,
            audience: audience.clone(),
            nonce: nonce.map(str::to_string),
            redirect_uri: Some(redirect_uri.to_string()),
            challenge: challenge.map(str::to_string),
            auth_time,
        };
        if let Err(e) = t
            .store
            .put_code_grant(&sha256(&code), &stored, now + AUTH_CODE_SECS)
            .await
        {
            ApiError::internal(e);
            return reply.error("server_error", "The tenant failed to handle the request.");
        }
        return reply.send(vec![("code", code)], cookies);
    }
    let tokens = issue_tokens(
        &t,
        client,
        &user,
        &scope,
        nonce,
        audience.as_deref(),
        auth_time,
    )
    .await;
    let mut params: Vec<(&str, String)> = Vec::new();
    if want_access {
        params.push(("access_token", tokens.access_token));
    }
    if want_id {
        params.push(("id_token", tokens.id_token));
    }
    params.extend([
        ("scope", tokens.scope),
        ("expires_in", client.access_token_lifetime_secs.to_string()),
        ("token_type", "Bearer".to_string()),
    ]);
    reply.send(params, cookies)
}

/// Seconds an authorization code may wait for redemption.
const AUTH_CODE_SECS: i64 = 120;

/// The token request, as JSON or a form. Unknown parameters are ignored (RFC 6749 §3.2).
#[derive(Debug, Deserialize)]
pub struct TokenBody {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    username: Option<String>,
    otp: Option<String>,
    realm: Option<String>,
    scope: Option<String>,
    audience: Option<String>,
    code: Option<String>,
    code_verifier: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
}

fn oauth_error(
    status: StatusCode,
    error: &'static str,
    description: impl Into<String>,
) -> ApiError {
    ApiError::new(status, error, description)
}

fn invalid_grant(description: &str) -> ApiError {
    oauth_error(StatusCode::FORBIDDEN, "invalid_grant", description)
}

/// `POST /oauth/token`: the passwordless OTP grant, `authorization_code` (PKCE) and
/// `refresh_token` (rotating).
pub async fn token(
    State(t): State<Arc<Tenant>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
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
    let client = authenticate_client(&t, &headers, &body)?;
    if ![
        PASSWORDLESS_OTP_GRANT,
        "authorization_code",
        "refresh_token",
    ]
    .contains(&grant)
    {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("Unsupported grant type: {grant}"),
        ));
    }
    if !client.allows(grant) {
        return Err(oauth_error(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            format!("Grant type '{grant}' not allowed for the client."),
        ));
    }
    let now = t.clock.now();
    let access_denied = |d: String| oauth_error(StatusCode::FORBIDDEN, "access_denied", d);
    let (user, scope, nonce, audience, auth_time, family) = match grant {
        PASSWORDLESS_OTP_GRANT => {
            // Checked before the code is tried: a refused audience must not spend it.
            let (audience, scope) = t
                .config
                .grant(
                    client,
                    body.audience.as_deref(),
                    body.scope.as_deref().unwrap_or("openid"),
                )
                .map_err(access_denied)?;
            t.sms_connection(client, Some(body.realm.as_deref().unwrap_or("")))
                .map_err(|e| {
                    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", e.description)
                })?;
            let (Some(username), Some(otp)) = (body.username.as_deref(), body.otp.as_deref())
            else {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Missing required parameters: username and otp",
                ));
            };
            let user = match verify_otp(&t, &ip, &client.client_id, username, otp, None).await? {
                Ok(user) => user,
                Err(OtpFailure::Wrong) => return Err(invalid_grant(WRONG_CODE)),
                Err(OtpFailure::TooManyAttempts(wait)) => {
                    return Err(too_many_attempts_after(wait))
                }
            };
            (user, scope, None, audience, now, None)
        }
        "authorization_code" => {
            let (Some(code), Some(verifier)) =
                (body.code.as_deref(), body.code_verifier.as_deref())
            else {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Missing required parameters: code and code_verifier",
                ));
            };
            let stored = t
                .store
                .take_code_grant(&sha256(code), now)
                .await?
                .ok_or_else(|| invalid_grant("Invalid authorization code."))?;
            if stored.client_id != client.client_id
                || stored.redirect_uri.as_deref() != body.redirect_uri.as_deref()
            {
                return Err(invalid_grant(
                    "The code was issued to another client or redirect_uri.",
                ));
            }
            let expected = stored
                .challenge
                .as_deref()
                .ok_or_else(|| invalid_grant("The code has no PKCE challenge."))?;
            if s256_challenge(verifier) != expected {
                return Err(invalid_grant("Failed to verify code verifier."));
            }
            let user = t
                .store
                .user(&stored.user_id)
                .await?
                .ok_or_else(|| invalid_grant("The user no longer exists."))?;
            let (audience, scope) = t
                .config
                .grant(client, stored.audience.as_deref(), &stored.scope)
                .map_err(access_denied)?;
            (user, scope, stored.nonce, audience, stored.auth_time, None)
        }
        _ => {
            let Some(refresh) = body.refresh_token.as_deref() else {
                return Err(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Missing required parameter: refresh_token",
                ));
            };
            let (stored, family) = match t
                .store
                .use_refresh(&sha256(refresh), &client.client_id, now)
                .await?
            {
                RefreshOutcome::Ok(g, family) => (g, family),
                RefreshOutcome::Invalid => {
                    return Err(invalid_grant("Unknown or invalid refresh token."))
                }
                RefreshOutcome::Reused => {
                    tracing::warn!(client = %client.client_id, "refresh token reuse: its family is revoked");
                    return Err(invalid_grant("Unknown or invalid refresh token."));
                }
            };
            if stored.client_id != client.client_id {
                return Err(invalid_grant("Unknown or invalid refresh token."));
            }
            if now >= stored.auth_time + client.refresh_token_absolute_lifetime_secs {
                return Err(invalid_grant(
                    "The refresh token has expired: its absolute lifetime since the login is over.",
                ));
            }
            let user = t
                .store
                .user(&stored.user_id)
                .await?
                .ok_or_else(|| invalid_grant("The user no longer exists."))?;
            // The API or the client's access to it may have been removed since.
            let (audience, scope) = t
                .config
                .grant(client, stored.audience.as_deref(), &stored.scope)
                .map_err(access_denied)?;
            (user, scope, None, audience, stored.auth_time, Some(family))
        }
    };
    let offline = scope.split(' ').any(|s| s == "offline_access")
        && client.refresh_tokens
        && client.allows("refresh_token");
    let tokens = issue_tokens(
        &t,
        client,
        &user,
        &scope,
        nonce.as_deref(),
        audience.as_deref(),
        auth_time,
    )
    .await;
    let mut answer = json!({
        "access_token": tokens.access_token,
        "id_token": tokens.id_token,
        "token_type": "Bearer",
        "expires_in": client.access_token_lifetime_secs,
        "scope": tokens.scope,
    });
    if offline {
        let refresh = crate::keys::random_token(32);
        let family = family.unwrap_or_else(|| crate::keys::random_token(12));
        let stored = Grant::refresh(
            client.client_id.clone(),
            user.id.clone(),
            tokens.scope.clone(),
            audience.clone(),
            auth_time,
        );
        // Unused, a token lasts its lifetime; rotated, never past the family's absolute one.
        let expires_at = (now + client.refresh_token_lifetime_secs)
            .min(auth_time + client.refresh_token_absolute_lifetime_secs);
        let stored = t
            .store
            .put_refresh(&sha256(&refresh), &family, &stored, expires_at)
            .await?;
        if !stored {
            // The token being rotated was reused meanwhile and its family revoked.
            return Err(invalid_grant("Unknown or invalid refresh token."));
        }
        answer["refresh_token"] = json!(refresh);
    }
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(answer),
    )
        .into_response())
}

/// The client of a token request (RFC 6749 §2.3): a public client by `client_id` alone; a
/// confidential one (with a secret) by `client_secret` in the body or HTTP Basic, never both.
fn authenticate_client<'t>(
    t: &'t Tenant,
    headers: &HeaderMap,
    body: &TokenBody,
) -> Result<&'t ClientConfig, ApiError> {
    let unauthorized = |d: String| oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", d);
    let basic = match headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        Some(encoded) => Some(
            basic_credentials(encoded.trim())
                .ok_or_else(|| unauthorized("Malformed HTTP Basic client credentials.".into()))?,
        ),
        None => None,
    };
    if basic.is_some() && body.client_secret.is_some() {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Use one client authentication method: HTTP Basic or client_secret, not both.",
        ));
    }
    let (client_id, secret) = match (&basic, body.client_id.as_deref()) {
        (Some((id, _)), Some(other)) if id != other => {
            return Err(unauthorized(
                "client_id differs from the HTTP Basic one.".into(),
            ))
        }
        (Some((id, secret)), _) => (id.as_str(), Some(secret.as_str())),
        (None, id) => (id.unwrap_or(""), body.client_secret.as_deref()),
    };
    let client = t
        .config
        .client(client_id)
        .ok_or_else(|| unauthorized(format!("Unknown client: {client_id}")))?;
    match (client.secret(), secret) {
        (None, None) => Ok(client),
        (None, Some(_)) => Err(unauthorized(
            "This is a public client; do not send a client_secret.".into(),
        )),
        (Some(_), None) => Err(unauthorized(
            "Client authentication required: send client_secret or HTTP Basic.".into(),
        )),
        // Compared as digests: the time taken says nothing about the secret.
        (Some(expected), Some(given)) if sha256(&expected) == sha256(given) => Ok(client),
        (Some(_), Some(_)) => Err(unauthorized("Wrong client credentials.".into())),
    }
}

/// `base64(urlencode(id) ":" urlencode(secret))`, as RFC 6749 §2.3.1 has it.
fn basic_credentials(encoded: &str) -> Option<(String, String)> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
            .ok()?
            .pop()
            .map(|(_, v)| v)
    };
    Some((decode(id)?, decode(secret)?))
}

/// base64url(SHA-256(verifier)): the S256 code challenge.
fn s256_challenge(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256(verifier))
}

/// `GET /v2/logout`: ends the session; redirects only to a registered `returnTo`.
pub async fn logout(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let return_to = q.get("returnTo").filter(|v| !v.is_empty());
    let client = q.get("client_id").and_then(|id| t.config.client(id));
    if let Some(url) = return_to {
        let allowed = client.is_some_and(|c| c.allowed_logout_urls.iter().any(|u| u == url));
        if !allowed {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("returnTo {url} is not an allowed logout URL of the client."),
            );
        }
    }
    if let Some(session) = session_from(&headers) {
        if let Err(e) = t.store.delete_session(&sha256(&session)).await {
            ApiError::internal(e);
        }
    }
    let clear = session_cookie(&t, "", 0);
    match return_to {
        Some(url) => (
            StatusCode::FOUND,
            [(header::LOCATION, url.clone()), (header::SET_COOKIE, clear)],
        )
            .into_response(),
        None => (
            [(header::SET_COOKIE, clear)],
            Html("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Logged out</title></head><body><p>You are logged out.</p></body></html>".to_string()),
        )
            .into_response(),
    }
}

/// `GET /client/{client_id}.js`: the `Auth0.setClient({...})` script Lock loads to learn the
/// client's connections.
pub async fn client_script(State(t): State<Arc<Tenant>>, Path(file): Path<String>) -> Response {
    let Some(client) = file.strip_suffix(".js").and_then(|id| t.config.client(id)) else {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "Unknown client.")
            .into_response();
    };
    let sms = t.sms_connection(client, Some("sms")).is_ok();
    let strategies = if sms {
        json!([{"name": "sms", "connections": [{"name": "sms"}]}])
    } else {
        json!([])
    };
    let root = &t.config.tenant.issuer;
    let info = json!({
        "id": client.client_id,
        "tenant": t.config.tenant.name,
        "authorize": format!("{root}/authorize"),
        "callback": client.callbacks.first().cloned().unwrap_or_default(),
        "hasAllowedOrigins": client.has_allowed_origins(),
        "strategies": strategies,
    });
    (
        [(
            header::CONTENT_TYPE,
            "application/javascript; charset=utf-8",
        )],
        format!(
            "Auth0.setClient({});",
            info.to_string().replace('<', "\\u003c")
        ),
    )
        .into_response()
}

/// `GET /user/geoloc/country`: the configured default (loopback has no geography).
pub async fn geoloc(State(t): State<Arc<Tenant>>) -> Json<Value> {
    Json(json!({"country_code": t.config.tenant.default_country}))
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
    let token = token.trim();
    let claims = if token.split('.').count() == 5 {
        t.keys.open(token)
    } else {
        t.keys.verify(token)
    }
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
    let user = t
        .store
        .user(id)
        .await
        .map_err(|e| ApiError::internal(e).into_response())?
        .ok_or_else(|| unauthorized("Unknown user."))?;
    Ok(Json(profile_claims(
        &user,
        claims["scope"].as_str().unwrap_or("openid"),
    )))
}
