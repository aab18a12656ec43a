//! `POST /passwordless/start` and `POST /co/authenticate`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::body::Strict;
use crate::error::{ApiError, WRONG_CODE};
use crate::keys::{random_hex, random_token};
use crate::sms::{
    checked_language, first_accept_language, mask_phone, ProviderError, SmsMessage, TemplateData,
};
use crate::store::{seal_code, Asking, CodeTry, Limit, Lockout, NewTicket, Refusal, Tried, User};
use crate::{phone, ClientIp, Tenant, LOGIN_TICKET_SECS, PASSWORDLESS_OTP_GRANT};

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
    /// The answer to a `/passwordless/challenge` captcha; this tenant asks for none.
    #[allow(dead_code)]
    captcha: Option<Value>,
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
    ClientIp(ip): ClientIp,
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
    // Values of any JSON type, as Auth0 takes them (auth0.js passes `authParams` through).
    if let Some(params) = &body.auth_params {
        if !params.is_object() {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad.authParams",
                "authParams must be an object.",
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
    let now = t.clock.now();
    let limits = &t.config.limits;
    // Counted before sending, so provider errors cannot be used to pump messages.
    let window = [
        Limit {
            key: format!("start-ip:{ip}"),
            max: limits.start_per_ip_per_hour,
            window: 3600,
        },
        Limit {
            key: format!("start-phone:{phone}"),
            max: 1,
            window: limits.start_phone_interval_secs,
        },
        Limit {
            key: format!("start-phone-hour:{phone}"),
            max: limits.start_per_phone_per_hour,
            window: 3600,
        },
    ];
    let asking = Asking::new(&phone, &ip);
    let (number, taken) = t.store.admit(Some(&asking), &window, now).await?;
    match taken {
        Ok(()) => {}
        Err(Refusal::Blocked(wait)) => return Err(too_many_attempts().retry_after(wait)),
        Err(Refusal::Limited(wait)) => {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                format!("Too many requests. Try again in {wait} seconds."),
            )
            .retry_after(wait))
        }
    }
    let answer = Json(json!({
        "_id": random_hex(12),
        "phone_number": phone,
        "request_language": language,
    }));
    // Sign-ups off and no user: a decoy. Its code is made, rendered and stored like a real one
    // but never sent, and the answer waits as long as a real send takes, so the answer, its
    // time and every later try (403, 403, 403, then 429) are a registered number's.
    let decoy = t.config.sms.disable_signup && !number.registered;
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
    let sending = std::time::Instant::now();
    let sent = if decoy {
        tokio::time::sleep(t.send_times.sample()).await;
        Ok(())
    } else {
        t.provider.send(&message, now).await
    };
    if let Err(e) = sent {
        tracing::warn!(to = %mask_phone(&phone), "SMS not sent: {e}");
        return Err(match e {
            ProviderError::Rejected { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "sms_provider_error", e.to_string())
            }
            ProviderError::Operator { .. } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "sms_provider_error",
                "The SMS could not be sent. Please try again later.",
            ),
            ProviderError::Unavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "sms_provider_error",
                "The SMS provider is unavailable. Please try again later.",
            ),
        });
    }
    if !decoy {
        t.send_times.record(sending.elapsed());
    }
    // Stored only once the provider accepted the message: never a code for an unsent SMS.
    let flow_id = random_token(16);
    let mac = seal_code(&t.keys.code_candidate(&phone, &code), &flow_id);
    t.store
        .put_code(
            &phone,
            &client.client_id,
            &flow_id,
            &mac,
            now + t.config.sms.otp_lifetime_secs,
        )
        .await?;
    if decoy {
        tracing::info!(to = %mask_phone(&phone), "sign-ups are disabled: a decoy code, not sent, for an unknown number");
    } else {
        tracing::info!(to = %mask_phone(&phone), client = %client.client_id, "code sent");
    }
    Ok(answer)
}

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OtpFailure {
    /// Unknown number, wrong, expired, used or superseded code: all look the same.
    Wrong,
    /// The code had all its tries, or the number or IP is blocked after too many failures.
    TooManyAttempts(Option<i64>),
}

/// Checks a code for `client_id` and consumes it; on success returns the (new or existing) user,
/// and stores `ticket` for it in the same transaction.
///
/// The try is counted against the address's hourly ceiling *before* anything is compared, in one
/// atomic take, and given back on success: concurrent guesses cannot overshoot the ceiling.
pub(crate) async fn verify_otp(
    t: &Tenant,
    ip: &str,
    client_id: &str,
    username: &str,
    otp: &str,
    ticket: Option<&NewTicket>,
) -> Result<Result<User, OtpFailure>, ApiError> {
    let now = t.clock.now();
    let limits = &t.config.limits;
    let ip_key = format!("fail-ip:{ip}");
    let ip_limit = Limit {
        key: ip_key.clone(),
        max: limits.failures_per_ip_per_hour,
        window: 3600,
    };
    // The try counts against this address's ceiling, and against the code, before anything is
    // compared; an unparsable number is still a try from this address.
    let max_attempts = t.config.sms.otp_max_attempts;
    let ip_limit = std::slice::from_ref(&ip_limit);
    let Some(failures) = phone::normalize(username).ok().map(|p| Asking::new(&p, ip)) else {
        return Ok(match t.store.admit(None, ip_limit, now).await?.1 {
            Err(Refusal::Limited(wait) | Refusal::Blocked(wait)) => {
                Err(OtpFailure::TooManyAttempts(Some(wait)))
            }
            Ok(()) => Err(OtpFailure::Wrong),
        });
    };
    let phone = &failures.phone;
    let otp = otp.trim();
    let code = CodeTry {
        max_attempts,
        candidate: t.keys.code_candidate(phone, otp),
        client_id: client_id.to_string(),
        sign_ups: !t.config.sms.disable_signup,
        refund_key: ip_key,
        new_id: random_hex(12),
        ticket: ticket.cloned(),
    };
    let (number, tried) = t.store.try_code(&failures, ip_limit, now, &code).await?;
    let outcome = match tried {
        Err(Refusal::Limited(wait) | Refusal::Blocked(wait)) => {
            return Ok(Err(OtpFailure::TooManyAttempts(Some(wait))))
        }
        Ok(Tried::LoggedIn(user)) => Ok(user),
        Ok(Tried::Wrong) => Err(OtpFailure::Wrong),
        Ok(Tried::Exhausted) => Err(OtpFailure::TooManyAttempts(None)),
        // Sent before an upgrade sealed codes: compared here, finished in a second call.
        Ok(Tried::Unsealed(stored)) => {
            let matches = t
                .keys
                .unsealed_code_matches(&stored.flow_id, phone, otp, &stored.mac);
            if matches && code.may_log_in(&stored, &number) {
                t.store
                    .finish_verification(
                        &failures,
                        &stored.flow_id,
                        &code.refund_key,
                        now,
                        &code.new_id,
                        code.ticket.as_ref(),
                    )
                    .await?
                    .ok_or(OtpFailure::Wrong)
            } else {
                Err(OtpFailure::Wrong)
            }
        }
    };
    match outcome {
        Ok(user) => Ok(Ok(user)),
        Err(failure) => {
            let lockout = |threshold| Lockout {
                threshold,
                base_secs: limits.block_secs,
                max_secs: limits.max_block_secs,
            };
            t.store
                .record_failure(
                    &failures.pair_key,
                    lockout(limits.failures_per_phone_and_ip),
                    now,
                )
                .await?;
            t.store
                .record_failure(&failures.phone_key, lockout(limits.failures_per_phone), now)
                .await?;
            tracing::info!(to = %mask_phone(phone), "code refused");
            Ok(Err(failure))
        }
    }
}

/// `POST /passwordless/challenge`: whether a captcha must be solved before
/// `/passwordless/start` (auth0.js asks first). This tenant has no bot detection: never.
pub async fn challenge() -> Json<Value> {
    Json(json!({"required": false}))
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
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Strict(body): Strict<CoAuthenticateBody>,
) -> Result<axum::response::Response, ApiError> {
    let client = t.client(Some(&body.client_id))?;
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !client.allows_origin(origin) {
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
    // The ticket is bound to this browser: /authorize takes it only with this cookie (sent back
    // because the widget, auth0.js and Lock call this endpoint with credentials). It is stored
    // with the verification, in the same round trip.
    let verifier = random_token(24);
    let ticket = NewTicket {
        id: random_token(24),
        client_id: client.client_id.clone(),
        expires_at: t.clock.now() + LOGIN_TICKET_SECS,
        binding: crate::keys::sha256(&verifier),
    };
    match verify_otp(
        &t,
        &ip,
        &client.client_id,
        &body.username,
        &body.otp,
        Some(&ticket),
    )
    .await?
    {
        Ok(_) => {}
        Err(OtpFailure::Wrong) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "access_denied",
                WRONG_CODE,
            ))
        }
        Err(OtpFailure::TooManyAttempts(wait)) => return Err(too_many_attempts_after(wait)),
    };
    let bind = crate::cookies::cookie(
        &t,
        &crate::cookies::ticket_cookie_name(&ticket.id),
        &verifier,
        LOGIN_TICKET_SECS,
    );
    Ok((
        [(header::SET_COOKIE, bind)],
        Json(json!({
            "login_ticket": ticket.id,
            "co_verifier": verifier,
            "co_id": random_token(9),
        })),
    )
        .into_response())
}

pub(crate) fn too_many_attempts_after(wait: Option<i64>) -> ApiError {
    match wait {
        Some(w) => too_many_attempts().retry_after(w),
        None => too_many_attempts(),
    }
}

pub(crate) fn too_many_attempts() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        "Too many wrong codes. Request a new code.",
    )
}
