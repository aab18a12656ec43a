//! The tenant's own cookies: the session (`/authorize` with `prompt=none`, `checkSession`) and
//! the binding of a login ticket to the browser that verified the code.

use axum::http::{header, HeaderMap};

use crate::keys::sha256;
use crate::Tenant;

const SESSION_COOKIE: &str = "lpw_session";

/// A `Set-Cookie` value for the tenant's own cookies. Over https they must reach the tenant
/// from a cross-site page (`/co/authenticate` with credentials, a `checkSession` iframe); over
/// plain http (local development, same site) Lax is enough, and browsers refuse SameSite=None
/// without Secure.
pub(crate) fn cookie(t: &Tenant, name: &str, value: &str, max_age: i64) -> String {
    let attrs = if t.config.tenant.issuer.starts_with("https://") {
        "SameSite=None; Secure"
    } else {
        "SameSite=Lax"
    };
    format!("{name}={value}; Path=/; HttpOnly; {attrs}; Max-Age={max_age}")
}

pub(crate) fn session_cookie(t: &Tenant, value: &str, max_age: i64) -> String {
    cookie(t, SESSION_COOKIE, value, max_age)
}

/// The value of the cookie `name`.
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::to_string)
        })
}

pub(crate) fn session_from(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, SESSION_COOKIE)
}

/// The cookie `/co/authenticate` sets in the browser that verified the code, which `/authorize`
/// requires with the ticket: named after the ticket (so logins in several tabs do not collide),
/// holding the verifier whose hash the ticket keeps.
pub(crate) fn ticket_cookie_name(ticket: &str) -> String {
    let digest = sha256(ticket);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("lpw_co_{hex}")
}
