//! Strict request bodies: bounded size, the right content type, no unknown properties.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Bodies larger than this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// How the body was encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
}

/// A body parsed strictly from JSON, or from a form where the endpoint allows one. The
/// endpoints that take forms are OAuth's (`/oauth/token`), whose refusals use OAuth's error
/// vocabulary (`invalid_request`, RFC 6749 §5.2) instead of `bad.request`.
pub struct Strict<T, const FORM_OK: bool = false>(pub T);

impl<S, T, const FORM_OK: bool> FromRequest<S> for Strict<T, FORM_OK>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let refuse = |description: String| {
            if FORM_OK {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", description)
            } else {
                ApiError::bad_request(description)
            }
        };
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let encoding = match content_type.as_str() {
            "application/json" => Encoding::Json,
            "application/x-www-form-urlencoded" if FORM_OK => Encoding::Form,
            _ => {
                let expected = if FORM_OK {
                    "application/json or application/x-www-form-urlencoded"
                } else {
                    "application/json"
                };
                return Err(refuse(format!("Content-Type must be {expected}.")));
            }
        };
        let limited = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES);
        let bytes: Bytes = limited.await.map_err(|_| {
            refuse(format!(
                "The request body is larger than {MAX_BODY_BYTES} bytes."
            ))
        })?;
        let _ = state;
        let parsed = match encoding {
            Encoding::Json => serde_json::from_slice(&bytes)
                .map_err(|e| refuse(format!("Invalid request body: {e}"))),
            Encoding::Form => serde_urlencoded::from_bytes(&bytes)
                .map_err(|e| refuse(format!("Invalid request body: {e}"))),
        }?;
        Ok(Strict(parsed))
    }
}
