//! Auth0's Authentication API as the widget calls it (protocol.md sections 1–3).

use std::time::Duration;

use crate::b64;
use crate::json::{obj, Json};

use crate::browser::{self, HttpRequest, HttpResponse};
use crate::error::LockError;
use crate::options::LockConfig;
use crate::otp::OtpCode;
use crate::phone::PhoneNumber;
use crate::token::Transaction;
use crate::url::encode_component;
use crate::PASSWORDLESS_OTP_GRANT;

/// How long any request may take before the user is told the network failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The `/authorize` URL for a transaction: with a login ticket after `/co/authenticate`, or
/// without one for `checkSession`; answered by redirect, or by `web_message` to a hidden iframe.
pub fn authorize_url(
    config: &LockConfig,
    tx: &Transaction,
    ticket: Option<&str>,
    web_message: bool,
) -> String {
    let auth = &config.options.auth;
    let challenge = tx.challenge();
    let mut params: Vec<(&str, &str)> = vec![
        ("client_id", &config.client_id),
        ("response_type", &auth.response_type),
        ("redirect_uri", &tx.redirect_uri),
        ("scope", &auth.params.scope),
        ("state", &tx.state),
        ("nonce", &tx.nonce),
        ("realm", "sms"),
    ];
    if let Some(ticket) = ticket {
        params.push(("login_ticket", ticket));
    }
    if web_message {
        params.extend([("response_mode", "web_message"), ("prompt", "none")]);
    }
    if let Some(c) = &challenge {
        params.extend([
            ("code_challenge", c.as_str()),
            ("code_challenge_method", "S256"),
        ]);
    }
    if let Some(audience) = &auth.params.audience {
        params.push(("audience", audience));
    }
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect();
    format!("{}/authorize?{}", config.root_url(), query.join("&"))
}

/// The body of `POST /passwordless/start`, as auth0.js sends it.
pub fn start_body(config: &LockConfig, phone: &PhoneNumber, tx: &Transaction) -> Json {
    let auth = &config.options.auth;
    let mut params = obj! {
        "response_type": auth.response_type,
        "redirect_uri": tx.redirect_uri,
        "scope": auth.params.scope,
        "state": tx.state,
        "nonce": tx.nonce,
    };
    if let Some(audience) = &auth.params.audience {
        params.set("audience", Json::from(audience));
    }
    obj! {
        "client_id": config.client_id,
        "connection": "sms",
        "phone_number": phone.e164(),
        "send": "code",
        "authParams": params,
    }
}

fn telemetry() -> String {
    b64::encode(
        obj! {"name": "leptos-passwordless", "version": env!("CARGO_PKG_VERSION")}.to_string(),
    )
}

/// A POST with a JSON body and the telemetry header auth0.js sends.
fn post<'a>(config: &LockConfig, path: &str, body: &'a Json) -> HttpRequest<'a> {
    HttpRequest {
        method: "POST",
        url: format!("{}{path}", config.root_url()),
        headers: vec![("Auth0-Client", telemetry())],
        json: Some(body),
        credentials: false,
    }
}

fn get(url: String) -> HttpRequest<'static> {
    HttpRequest {
        method: "GET",
        url,
        headers: Vec::new(),
        json: None,
        credentials: false,
    }
}

/// Sends with a timeout; network failures and timeouts become [`LockError::Network`].
async fn send(request: HttpRequest<'_>) -> Result<HttpResponse, LockError> {
    browser::http(request, REQUEST_TIMEOUT.as_millis() as i32)
        .await
        .map_err(LockError::Network)
}

fn error_from(response: &HttpResponse) -> LockError {
    let null = Json::Null;
    let body = response.body.as_ref().unwrap_or(&null);
    let pick = |a: &str, b: &str| {
        body[a]
            .as_str()
            .or_else(|| body[b].as_str())
            .unwrap_or_default()
            .to_string()
    };
    LockError::from_server(
        response.status,
        &pick("error", "code"),
        &pick("error_description", "description"),
    )
    .with_retry_after(response.retry_after)
}

/// A successful answer's JSON, or the error it carries.
fn json_or_error(response: HttpResponse) -> Result<Json, LockError> {
    if !response.ok() {
        return Err(error_from(&response));
    }
    response.body.map_err(LockError::Network)
}

/// `POST /passwordless/start`: sends the SMS, in `language`.
pub async fn passwordless_start(
    config: &LockConfig,
    phone: &PhoneNumber,
    tx: &Transaction,
    language: &str,
) -> Result<(), LockError> {
    let body = start_body(config, phone, tx);
    let mut request = post(config, "/passwordless/start", &body);
    request
        .headers
        .push(("X-Request-Language", language.to_string()));
    let response = send(request).await?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_from(&response))
    }
}

/// `POST /co/authenticate`: checks the code and returns a login ticket.
pub async fn co_authenticate(
    config: &LockConfig,
    phone: &PhoneNumber,
    code: &OtpCode,
) -> Result<String, LockError> {
    let body = obj! {
        "client_id": config.client_id,
        "credential_type": PASSWORDLESS_OTP_GRANT,
        "username": phone.e164(),
        "otp": code.as_str(),
        "realm": "sms",
    };
    let mut request = post(config, "/co/authenticate", &body);
    // The tenant's session cookie comes back with the ticket.
    request.credentials = true;
    let body = json_or_error(send(request).await?)?;
    body["login_ticket"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| LockError::Server {
            error: "invalid_response".into(),
            description: "the tenant answered without a login_ticket".into(),
        })
}

/// `POST /oauth/token` with a JSON body; the answer's JSON.
pub async fn oauth_token(config: &LockConfig, body: &Json) -> Result<Json, LockError> {
    json_or_error(send(post(config, "/oauth/token", body)).await?)
}

/// `GET /.well-known/jwks.json`.
pub async fn jwks(config: &LockConfig) -> Result<Json, LockError> {
    json_or_error(send(get(config.jwks_url())).await?)
}

/// `GET /user/geoloc/country`: the country the tenant places the caller in (Lock's default
/// country lookup), `None` when it cannot say.
pub async fn geoloc_country(config: &LockConfig) -> Option<String> {
    let url = format!("{}/user/geoloc/country", config.root_url());
    let body = json_or_error(send(get(url)).await.ok()?).ok()?;
    body["country_code"].as_str().map(str::to_ascii_uppercase)
}

/// `GET /userinfo` with the access token: the user's profile.
pub async fn userinfo(config: &LockConfig, access_token: &str) -> Result<Json, LockError> {
    let mut request = get(format!("{}/userinfo", config.root_url()));
    request
        .headers
        .push(("Authorization", format!("Bearer {access_token}")));
    json_or_error(send(request).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::LockOptions;

    fn config() -> LockConfig {
        LockConfig::new("app", "http://127.0.0.1:4000", LockOptions::default()).unwrap()
    }

    #[test]
    fn authorize_url_carries_the_transaction_and_ticket() {
        let tx = Transaction {
            state: "s+1".into(),
            nonce: "n".into(),
            client_id: "app".into(),
            redirect_uri: "http://127.0.0.1:8080/".into(),
            verifier: None,
            created_at: 0,
            return_to: None,
        };
        let url = authorize_url(&config(), &tx, Some("T/1"), false);
        assert_eq!(
            url,
            "http://127.0.0.1:4000/authorize?client_id=app&response_type=token%20id_token&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2F&scope=openid%20profile%20email&state=s%2B1&nonce=n&realm=sms&login_ticket=T%2F1"
        );
        let pkce = Transaction {
            verifier: Some("dBjftJeZ4CVP-mJ92ZFu7pxUlVAqk0MiAg3c4fKGq9Y".into()),
            ..tx
        };
        let silent = authorize_url(&config(), &pkce, None, true);
        assert!(!silent.contains("login_ticket"));
        assert!(silent.contains("&response_mode=web_message&prompt=none"));
        assert!(silent.contains("&code_challenge=UM311zcfDD969_vnnHKFpjSHp1x0pdgFHdGDB4AQ9fU&code_challenge_method=S256"));
    }

    #[test]
    fn start_body_is_what_auth0_js_sends() {
        let tx = Transaction {
            state: "s".into(),
            nonce: "n".into(),
            client_id: "app".into(),
            redirect_uri: "http://cb/".into(),
            verifier: None,
            created_at: 0,
            return_to: None,
        };
        let phone = PhoneNumber::parse("+12015550123", "US").unwrap();
        let body = start_body(&config(), &phone, &tx);
        assert_eq!(body["phone_number"], "+12015550123");
        assert_eq!(body["connection"], "sms");
        assert_eq!(body["send"], "code");
        assert_eq!(body["authParams"]["nonce"], "n");
        assert_eq!(body["authParams"]["redirect_uri"], "http://cb/");
        assert_eq!(body.as_object().unwrap().len(), 5);
    }
}
