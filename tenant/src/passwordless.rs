//! `POST /passwordless/start` and `POST /co/authenticate`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::body::Strict;
use crate::db::CodeUnavailable;
use crate::error::{ApiError, WRONG_CODE};
use crate::keys::{random_hex, random_token};
use crate::sms::{checked_language, first_accept_language, mask_phone, SmsMessage, TemplateData};
use crate::{phone, Tenant, LOGIN_TICKET_SECS, PASSWORDLESS_OTP_GRANT};

/// The body auth0.js and Lock send.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    client_id: Option<String>,
    connection: Option<String>,
    phone_number: Option<String>,
    send: Option<String>,
    #[serde(rename = "authParams")]
    auth_params: Option<Value>,
}

/// The language for the SMS: `X-Request-Language`, else `Accept-Language`, checked.
fn request_language(headers: &HeaderMap) -> String {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    get("x-request-language")
        .and_then(checked_language)
        .or_else(|| get(header::ACCEPT_LANGUAGE.as_str()).and_then(first_accept_language))
        .unwrap_or("")
        .to_string()
}

/// Sends a code by SMS.
pub async fn start(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
    Strict(body): Strict<StartBody>,
) -> Result<Json<Value>, ApiError> {
    let client = t.client(body.client_id.as_deref())?;
    t.sms_connection(client, body.connection.as_deref())?;
    match body.send.as_deref() {
        None | Some("code") => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "send must be \"code\" for the sms connection, got {other:?}"
            )))
        }
    }
    if let Some(params) = &body.auth_params {
        let ok = params
            .as_object()
            .is_some_and(|o| o.values().all(|v| v.is_string()));
        if !ok {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad.authParams",
                "authParams must be an object of strings.",
            ));
        }
    }
    let raw_phone = body.phone_number.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad.phone_number",
            "Missing required property: phone_number",
        )
    })?;
    let phone = phone::normalize(raw_phone)
        .map_err(|d| ApiError::new(StatusCode::BAD_REQUEST, "bad.phone_number", d))?;
    let language = request_language(&headers);

    let code = t.codes.generate(t.config.sms.otp_length);
    let text = t
        .template
        .render(&TemplateData {
            code: &code,
            phone_number: &phone,
            application_name: &client.name,
            request_language: &language,
        })
        .map_err(ApiError::internal)?;
    let message = SmsMessage {
        to: phone.clone(),
        body: text,
        code: code.clone(),
    };
    let now = t.clock.now();
    if let Err(e) = t.provider.send(&message, now).await {
        tracing::warn!(to = %mask_phone(&phone), "SMS provider refused: {e}");
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "sms_provider_error",
            e.to_string(),
        ));
    }
    // Stored only once the provider accepted the message: never a code for an unsent SMS.
    let flow_id = random_token(16);
    let mac = t.keys.code_mac(&flow_id, &phone, &code);
    t.db.put_code(
        &phone,
        &client.client_id,
        &flow_id,
        &mac,
        now + t.config.sms.otp_lifetime_secs,
    )?;
    tracing::info!(to = %mask_phone(&phone), client = %client.client_id, "code sent");
    Ok(Json(json!({
        "_id": random_hex(12),
        "phone_number": phone,
        "request_language": language,
    })))
}

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OtpFailure {
    /// Unknown number, wrong, expired, used or superseded code: all look the same.
    Wrong,
    /// The code had all its tries; a new one is needed.
    TooManyAttempts,
}

/// Checks a code for `client_id` and consumes it; on success returns the (new or existing) user.
pub(crate) fn verify_otp(
    t: &Tenant,
    client_id: &str,
    username: &str,
    otp: &str,
) -> Result<Result<crate::db::User, OtpFailure>, ApiError> {
    let Ok(phone) = phone::normalize(username) else {
        return Ok(Err(OtpFailure::Wrong));
    };
    let now = t.clock.now();
    let stored = match t
        .db
        .begin_code_attempt(&phone, now, t.config.sms.otp_max_attempts)?
    {
        Ok(stored) => stored,
        Err(CodeUnavailable::Missing) => return Ok(Err(OtpFailure::Wrong)),
        Err(CodeUnavailable::Exhausted) => return Ok(Err(OtpFailure::TooManyAttempts)),
    };
    let otp = otp.trim();
    let matches = t
        .keys
        .code_matches(&stored.flow_id, &phone, otp, &stored.mac);
    if !matches || stored.client_id != client_id || !t.db.consume_code(&phone, &stored.flow_id)? {
        tracing::info!(to = %mask_phone(&phone), "wrong code");
        return Ok(Err(OtpFailure::Wrong));
    }
    let user = t.db.find_or_create_user(&phone, &random_hex(12), now)?;
    Ok(Ok(user))
}

/// The cross-origin authentication body: all and only these five properties.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoAuthenticateBody {
    client_id: String,
    credential_type: String,
    username: String,
    otp: String,
    realm: String,
}

/// Verifies a code from a browser and answers a login ticket for `/authorize`.
pub async fn co_authenticate(
    State(t): State<Arc<Tenant>>,
    headers: HeaderMap,
    Strict(body): Strict<CoAuthenticateBody>,
) -> Result<Json<Value>, ApiError> {
    let client = t.client(Some(&body.client_id))?;
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !client.web_origins.iter().any(|o| o == origin) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "access_denied",
            format!(
                "Origin {origin:?} is not an allowed web origin of client {}.",
                client.client_id
            ),
        ));
    }
    if body.credential_type != PASSWORDLESS_OTP_GRANT {
        return Err(ApiError::bad_request(format!(
            "credential_type must be {PASSWORDLESS_OTP_GRANT}"
        )));
    }
    t.sms_connection(client, Some(&body.realm))?;
    let user = match verify_otp(&t, &client.client_id, &body.username, &body.otp)? {
        Ok(user) => user,
        Err(OtpFailure::Wrong) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "access_denied",
                WRONG_CODE,
            ))
        }
        Err(OtpFailure::TooManyAttempts) => return Err(too_many_attempts()),
    };
    let ticket = random_token(24);
    t.db.put_ticket(
        &ticket,
        &client.client_id,
        &user.id,
        t.clock.now() + LOGIN_TICKET_SECS,
    )?;
    Ok(Json(json!({
        "login_ticket": ticket,
        "co_verifier": random_token(24),
        "co_id": random_token(9),
    })))
}

pub(crate) fn too_many_attempts() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        "Too many wrong codes. Request a new code.",
    )
}
