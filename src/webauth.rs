//! `WebAuth`: the auth0.js subset a passwordless app needs, as a typed async Rust client. The
//! widget uses it, and apps with their own UI can too.
//!
//! ```no_run
//! use leptos_passwordless::{LockConfig, LockOptions, webauth::{Completion, WebAuth}};
//! use leptos_passwordless::{otp::OtpCode, phone::PhoneNumber};
//!
//! # async fn run() -> Result<(), leptos_passwordless::LockError> {
//! let mut options = LockOptions::default();
//! options.auth.redirect = false; // finish in a hidden iframe, without leaving the page
//! let auth = WebAuth::new(LockConfig::new("my-client-id", "tenant.eu.auth0.com", options).unwrap());
//! let phone = PhoneNumber::parse("+31 6 12345678", "NL").unwrap();
//! let tx = auth.passwordless_start(&phone, "nl-NL").await?;
//! let code = OtpCode::parse("123 456", 6).unwrap(); // typed by the user
//! if let Completion::Authenticated(result) = auth.passwordless_login(&tx, &phone, &code).await? {
//!     let profile = auth.user_info(result.access_token.as_deref().unwrap_or_default()).await?;
//!     leptos::logging::log!("hello {:?}", profile.phone_number);
//! }
//! # Ok(()) }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::json::{obj, Json};

use crate::error::LockError;
use crate::options::{AuthParams, LockConfig};
use crate::otp::OtpCode;
use crate::outcome::{AuthError, AuthResult};
use crate::phone::PhoneNumber;
use crate::token::{self, Expected, HashResponse, TokenError, Transaction, TRANSACTION_RANDOM};
use crate::{api, browser, locked as lock, PASSWORDLESS_OTP_GRANT};

/// A future that may hold browser values.
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Where the issuer's public keys come from.
pub trait JwksSource: Send + Sync {
    /// The current JWKS document.
    fn fetch(&self) -> LocalBoxFuture<'_, Result<Json, LockError>>;
}

/// The tenant's `/.well-known/jwks.json`.
struct TenantJwks(LockConfig);

impl JwksSource for TenantJwks {
    fn fetch(&self) -> LocalBoxFuture<'_, Result<Json, LockError>> {
        Box::pin(api::jwks(&self.0))
    }
}

/// A fixed key set (pinned keys, tests).
pub struct StaticJwks(pub Json);

impl JwksSource for StaticJwks {
    fn fetch(&self) -> LocalBoxFuture<'_, Result<Json, LockError>> {
        let keys = self.0.clone();
        Box::pin(async move { Ok(keys) })
    }
}

/// The OIDC profile `/userinfo` answers for an SMS user; other claims are kept in `other`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserInfo {
    /// `sms|<id>`.
    pub sub: String,
    /// E.164.
    pub phone_number: Option<String>,
    /// Whether the number was verified (always, after an SMS login).
    pub phone_number_verified: Option<bool>,
    /// Display name.
    pub name: Option<String>,
    /// Nickname.
    pub nickname: Option<String>,
    /// Picture URL.
    pub picture: Option<String>,
    /// RFC 3339.
    pub updated_at: Option<String>,
    /// Any other claims, in the order the tenant sent them.
    pub other: Vec<(String, Json)>,
}

const PROFILE_TEXTS: [&str; 5] = ["phone_number", "name", "nickname", "picture", "updated_at"];

impl UserInfo {
    /// Reads a `/userinfo` answer: `sub` is required, the typed claims must have their types.
    pub fn from_json(v: &Json) -> Result<Self, String> {
        let members = v.as_object().ok_or("the profile is not an object")?;
        let mut info = UserInfo::default();
        let mut sub = None;
        for (k, value) in members {
            let text = || match value {
                Json::String(s) => Ok(Some(s.clone())),
                Json::Null => Ok(None),
                other => Err(format!("{k} is {}, not a string", other.kind())),
            };
            match k.as_str() {
                "sub" => sub = text()?,
                "phone_number" => info.phone_number = text()?,
                "name" => info.name = text()?,
                "nickname" => info.nickname = text()?,
                "picture" => info.picture = text()?,
                "updated_at" => info.updated_at = text()?,
                "phone_number_verified" => {
                    info.phone_number_verified = match value {
                        Json::Bool(b) => Some(*b),
                        Json::Null => None,
                        other => return Err(format!("{k} is {}, not a boolean", other.kind())),
                    }
                }
                _ => info.other.push((k.clone(), value.clone())),
            }
        }
        info.sub = sub.ok_or("the profile has no sub")?;
        Ok(info)
    }

    /// The profile as JSON (absent claims left out), as `getUserInfo` hands it to JavaScript.
    pub fn to_json(&self) -> Json {
        let mut members = vec![("sub".to_string(), Json::from(&self.sub))];
        let texts = [
            &self.phone_number,
            &self.name,
            &self.nickname,
            &self.picture,
            &self.updated_at,
        ];
        for (name, value) in PROFILE_TEXTS.iter().zip(texts) {
            if let Some(v) = value {
                members.push((name.to_string(), Json::from(v)));
            }
        }
        if let Some(b) = self.phone_number_verified {
            members.push(("phone_number_verified".into(), Json::Bool(b)));
        }
        members.extend(self.other.iter().cloned());
        Json::Object(members)
    }
}

/// How a login ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Completion {
    /// The browser is on its way to `/authorize`; the result arrives on return (`resume`).
    Redirecting,
    /// Done without leaving the page.
    Authenticated(Box<AuthResult>),
}

/// Seconds the hidden iframe may take.
pub const WEB_MESSAGE_TIMEOUT_MS: i32 = 60_000;

const TOKENS_KEY: &str = "lpw.tokens";

/// The client.
pub struct WebAuth {
    /// The configuration in force: the constructor's, or a `show(options)` variant of it.
    config: Mutex<Arc<LockConfig>>,
    jwks: Arc<dyn JwksSource>,
    cache: Mutex<Option<Json>>,
    current: Mutex<Option<AuthResult>>,
}

impl WebAuth {
    /// A client for the tenant in `config`, keys from its JWKS. Restores persisted tokens when
    /// `auth.persistTokens` asks for it.
    pub fn new(config: LockConfig) -> Self {
        let jwks = Arc::new(TenantJwks(config.clone()));
        Self::with_jwks(config, jwks)
    }

    /// A client with its own key source.
    pub fn with_jwks(config: LockConfig, jwks: Arc<dyn JwksSource>) -> Self {
        let restored = config
            .options
            .auth
            .persist_tokens
            .as_deref()
            .and_then(|kind| browser::stored(kind, TOKENS_KEY))
            .and_then(|json| AuthResult::from_json(&Json::parse(&json).ok()?));
        Self {
            config: Mutex::new(Arc::new(config)),
            jwks,
            cache: Mutex::new(None),
            current: Mutex::new(restored),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<LockConfig> {
        lock(&self.config).clone()
    }

    /// Replaces the configuration in force (`show(options)` overrides); the key cache and the
    /// current tokens stay.
    pub fn set_config(&self, config: LockConfig) {
        *lock(&self.config) = Arc::new(config);
    }

    /// The last successful result (memory, or the storage the app chose).
    pub fn current(&self) -> Option<AuthResult> {
        lock(&self.current).clone()
    }

    fn remember(&self, result: &AuthResult) {
        *lock(&self.current) = Some(result.clone());
        if let Some(kind) = self.config().options.auth.persist_tokens.as_deref() {
            browser::store(kind, TOKENS_KEY, &result.to_json().to_string());
        }
    }

    /// Forgets tokens and pending transactions this widget stored.
    pub fn clear(&self) {
        *lock(&self.current) = None;
        for kind in ["localStorage", "sessionStorage"] {
            browser::unstore(kind, TOKENS_KEY);
        }
        browser::clear_transactions();
    }

    /// `redirectUrl`, or the current page without query and fragment.
    pub fn redirect_uri(&self) -> String {
        self.config()
            .options
            .auth
            .redirect_url
            .clone()
            .unwrap_or_else(browser::page_url)
    }

    /// A fresh transaction (state, nonce, PKCE verifier), kept for this tab.
    pub fn new_transaction(&self) -> Result<Transaction, LockError> {
        let random = browser::random_bytes::<TRANSACTION_RANDOM>().map_err(LockError::Network)?;
        let mut tx = Transaction::new(
            random,
            &self.config().client_id,
            &self.redirect_uri(),
            self.config().wants_code(),
            browser::now(),
        );
        tx.return_to =
            browser::location().map(|(path, search, hash)| format!("{path}{search}{hash}"));
        browser::save_transaction(&tx).map_err(LockError::Network)?;
        Ok(tx)
    }

    /// `POST /passwordless/start`: sends the code by SMS in `language`.
    pub async fn passwordless_start(
        &self,
        phone: &PhoneNumber,
        language: &str,
    ) -> Result<Transaction, LockError> {
        let tx = self.new_transaction()?;
        if let Err(e) = api::passwordless_start(&self.config(), phone, &tx, language).await {
            // No code, no login to finish: nothing of it stays in this tab.
            browser::take_transaction(&tx.state);
            return Err(e);
        }
        Ok(tx)
    }

    /// Checks the code and finishes the login the way the options say: redirect, hidden iframe,
    /// or the token endpoint.
    pub async fn passwordless_login(
        &self,
        tx: &Transaction,
        phone: &PhoneNumber,
        code: &OtpCode,
    ) -> Result<Completion, LockError> {
        let auth = &self.config().options.auth;
        if auth.use_token_endpoint {
            let mut body = obj! {
                "grant_type": PASSWORDLESS_OTP_GRANT,
                "client_id": self.config().client_id,
                "username": phone.e164(),
                "otp": code.as_str(),
                "realm": "sms",
                "scope": auth.params.scope,
            };
            if let Some(audience) = &auth.params.audience {
                body.set("audience", Json::from(audience));
            }
            let answer = api::oauth_token(&self.config(), &body).await?;
            let result = self.accept_token_response(&answer, None, &tx.state).await?;
            browser::take_transaction(&tx.state);
            return Ok(Completion::Authenticated(Box::new(result)));
        }
        let ticket = api::co_authenticate(&self.config(), phone, code).await?;
        if auth.redirect {
            let url = api::authorize_url(&self.config(), tx, Some(&ticket), false);
            browser::navigate(&url).map_err(LockError::Network)?;
            return Ok(Completion::Redirecting);
        }
        let params = self
            .web_message(
                &api::authorize_url(&self.config(), tx, Some(&ticket), true),
                &tx.state,
            )
            .await?;
        let tx = browser::take_transaction(&tx.state).unwrap_or_else(|| tx.clone());
        self.complete(params, &tx)
            .await
            .map(|r| Completion::Authenticated(Box::new(r)))
    }

    /// Reads a redirect's answer (`#access_token=…`, `#error=…`, or `?code=…`). `None` when
    /// `url_part` is not an authorization response.
    pub async fn resume(&self, url_part: &str) -> Option<Result<AuthResult, AuthError>> {
        let response = token::parse_hash(url_part)?;
        Some(self.resume_response(response).await.map_err(|e| AuthError {
            error: e.code().to_string(),
            error_description: e.description(),
        }))
    }

    /// auth0.js's name for [`WebAuth::resume`] with a fragment.
    pub async fn parse_hash(&self, hash: &str) -> Option<Result<AuthResult, AuthError>> {
        self.resume(hash).await
    }

    async fn resume_response(&self, response: HashResponse) -> Result<AuthResult, LockError> {
        let params = match response {
            HashResponse::Error {
                error,
                description,
                state,
            } => {
                if let Some(s) = state {
                    browser::take_transaction(&s);
                }
                return Err(LockError::Server { error, description });
            }
            HashResponse::Tokens(p) => p,
        };
        let state = params.get("state").cloned().unwrap_or_default();
        let tx = browser::take_transaction(&state).ok_or_else(|| {
            LockError::InvalidToken("`state` does not match any login started in this tab.".into())
        })?;
        self.complete(params, &tx).await
    }

    /// Validates an authorization response against its transaction.
    async fn complete(
        &self,
        params: token::Params,
        tx: &Transaction,
    ) -> Result<AuthResult, LockError> {
        if let Some(error) = params.get("error") {
            return Err(LockError::Server {
                error: error.clone(),
                description: params.get("error_description").cloned().unwrap_or_default(),
            });
        }
        let state = params.get("state").cloned().unwrap_or_default();
        if state != tx.state {
            return Err(LockError::InvalidToken(
                "`state` does not match the transaction.".into(),
            ));
        }
        if tx.is_expired(browser::now()) || tx.client_id != self.config().client_id {
            return Err(LockError::InvalidToken(
                "The login transaction has expired.".into(),
            ));
        }
        if let Some(code) = params.get("code") {
            let verifier = tx
                .verifier
                .clone()
                .ok_or_else(|| LockError::InvalidToken("No PKCE verifier for this code.".into()))?;
            if !self.config().options.auth.redeem_code {
                // The app's backend redeems it (with the verifier): nothing to validate here.
                return Ok(AuthResult {
                    state,
                    code: Some(code.clone()),
                    code_verifier: Some(verifier),
                    redirect_uri: Some(tx.redirect_uri.clone()),
                    ..AuthResult::default()
                });
            }
            let body = obj! {
                "grant_type": "authorization_code",
                "client_id": self.config().client_id,
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": tx.redirect_uri,
            };
            let answer = api::oauth_token(&self.config(), &body).await?;
            return self
                .accept_token_response(&answer, Some(&tx.nonce), &state)
                .await;
        }
        let access_token = params.get("access_token").cloned();
        let id_token = params.get("id_token").cloned();
        let payload = match &id_token {
            // Beside an access token from /authorize, the ID token must carry its at_hash.
            Some(t) => Some(
                self.validate_id_token_for(t, Some(&tx.nonce), access_token.as_deref(), true)
                    .await
                    .map_err(|e| LockError::InvalidToken(e.to_string()))?,
            ),
            None if self.config().wants_id_token() => {
                return Err(LockError::InvalidToken(
                    "The response has no id_token.".into(),
                ))
            }
            None => None,
        };
        let result = AuthResult {
            access_token,
            id_token,
            id_token_payload: payload,
            state,
            expires_in: params.get("expires_in").and_then(|s| s.parse().ok()),
            token_type: params.get("token_type").cloned(),
            scope: params.get("scope").cloned(),
            ..AuthResult::default()
        };
        self.remember(&result);
        Ok(result)
    }

    async fn accept_token_response(
        &self,
        answer: &Json,
        nonce: Option<&str>,
        state: &str,
    ) -> Result<AuthResult, LockError> {
        let result = self.token_response(answer, nonce, state).await?;
        self.remember(&result);
        Ok(result)
    }

    /// A token endpoint's answer, its ID token validated.
    async fn token_response(
        &self,
        answer: &Json,
        nonce: Option<&str>,
        state: &str,
    ) -> Result<AuthResult, LockError> {
        let text = |k: &str| answer[k].as_str().map(str::to_string);
        let access_token = text("access_token");
        let id_token = text("id_token")
            .ok_or_else(|| LockError::InvalidToken("The token response has no id_token.".into()))?;
        let payload = self
            .validate_id_token(&id_token, nonce, access_token.as_deref())
            .await
            .map_err(|e| LockError::InvalidToken(e.to_string()))?;
        let result = AuthResult {
            access_token,
            id_token: Some(id_token),
            id_token_payload: Some(payload),
            refresh_token: text("refresh_token"),
            state: state.to_string(),
            expires_in: answer["expires_in"]
                .as_i64()
                .and_then(|n| u64::try_from(n).ok()),
            token_type: text("token_type"),
            scope: text("scope"),
            ..AuthResult::default()
        };
        Ok(result)
    }

    /// Validates an ID token: RS256 only, the key by `kid` from the issuer's JWKS (fetched
    /// once more on an unknown `kid`), the signature through WebCrypto, then the claims.
    pub async fn validate_id_token(
        &self,
        id_token: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> Result<Json, TokenError> {
        self.validate_id_token_for(id_token, nonce, access_token, false)
            .await
    }

    /// [`WebAuth::validate_id_token`], with `at_hash` required beside an access token when
    /// `at_hash_required` (an `/authorize` answer).
    async fn validate_id_token_for(
        &self,
        id_token: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
        at_hash_required: bool,
    ) -> Result<Json, TokenError> {
        let jwt = token::decode(id_token)?;
        let kid = jwt.header["kid"].as_str().unwrap_or_default().to_string();
        let key = self.key_for(&kid).await?;
        browser::verify_rs256(&key, &jwt).await?;
        let issuer = self.config().issuer();
        token::validate_claims(
            &jwt.claims,
            &Expected {
                issuer: &issuer,
                client_id: &self.config().client_id,
                nonce,
                access_token,
                at_hash_required,
                now: browser::now(),
                leeway: i64::from(self.config().options.leeway),
            },
        )?;
        Ok(jwt.claims)
    }

    async fn key_for(&self, kid: &str) -> Result<Json, TokenError> {
        let cached = lock(&self.cache).clone();
        if let Some(key) = cached
            .as_ref()
            .and_then(|jwks| browser::find_key(jwks, kid))
        {
            return Ok(key.clone());
        }
        // Unknown kid (or nothing cached yet): keys rotate, so fetch once more.
        let fresh = self
            .jwks
            .fetch()
            .await
            .map_err(|e| TokenError::Claim(format!("JWKS unavailable: {e}")))?;
        let key = browser::find_key(&fresh, kid).cloned();
        *lock(&self.cache) = Some(fresh);
        key.ok_or_else(|| TokenError::UnknownKey(kid.to_string()))
    }

    /// Silent authentication from the tenant's session (`prompt=none` in a hidden iframe):
    /// `login_required` when there is none.
    pub async fn check_session(&self) -> Result<AuthResult, AuthError> {
        self.check_session_with(&self.config().options.auth.params)
            .await
    }

    /// [`WebAuth::check_session`] asking for these `scope` and `audience` (Lock's
    /// `checkSession(params)`) instead of the configured ones. Its transaction is removed from
    /// this tab whatever the outcome.
    pub async fn check_session_with(&self, asked: &AuthParams) -> Result<AuthResult, AuthError> {
        let run = async {
            let tx = self.new_transaction()?;
            let mut config = (*self.config()).clone();
            config.options.auth.params = asked.clone();
            let params = self
                .web_message(&api::authorize_url(&config, &tx, None, true), &tx.state)
                .await;
            let tx = browser::take_transaction(&tx.state).unwrap_or(tx);
            self.complete(params?, &tx).await
        };
        run.await.map_err(|e| AuthError {
            error: e.code().to_string(),
            error_description: e.description(),
        })
    }

    /// Exchanges the current refresh token for new tokens. A rotating tenant answers a new
    /// refresh token (the old one stops working); one that does not rotate answers none, and
    /// the current one is kept. The new ID token must be the same user's.
    pub async fn renew(&self) -> Result<AuthResult, LockError> {
        let current = self.current();
        let refresh = current
            .as_ref()
            .and_then(|c| c.refresh_token.clone())
            .ok_or_else(|| LockError::Server {
                error: "login_required".into(),
                description: "There is no refresh token; log in with offline_access first.".into(),
            })?;
        let body = obj! {"grant_type": "refresh_token", "client_id": self.config().client_id, "refresh_token": refresh.clone()};
        let answer = api::oauth_token(&self.config(), &body).await?;
        let mut result = self.token_response(&answer, None, "").await?;
        let subject = |r: &AuthResult| {
            r.id_token_payload
                .as_ref()
                .and_then(|p| p["sub"].as_str().map(str::to_string))
        };
        let before = current.as_ref().and_then(subject);
        if before.is_some() && subject(&result) != before {
            return Err(LockError::InvalidToken(
                "The renewed ID token is another user's (sub changed).".into(),
            ));
        }
        result.refresh_token.get_or_insert(refresh);
        self.remember(&result);
        Ok(result)
    }

    /// `GET /userinfo`: the user's profile.
    pub async fn user_info(&self, access_token: &str) -> Result<UserInfo, LockError> {
        let value = api::userinfo(&self.config(), access_token).await?;
        UserInfo::from_json(&value).map_err(|e| LockError::Server {
            error: "invalid_response".into(),
            description: format!("/userinfo answered an unexpected profile: {e}"),
        })
    }

    /// The `/authorize` URL for `tx`: with a login ticket from `/co/authenticate`, or without
    /// one for a session check; answered by redirect, or by `web_message` to an iframe.
    pub fn authorize_url(
        &self,
        tx: &Transaction,
        ticket: Option<&str>,
        web_message: bool,
    ) -> String {
        api::authorize_url(&self.config(), tx, ticket, web_message)
    }

    /// `GET /v2/logout` for this client, returning to `return_to` (must be registered).
    pub fn logout_url(&self, return_to: Option<&str>) -> String {
        self.logout_url_with(return_to, false)
    }

    /// [`WebAuth::logout_url`], with `federated` (Lock's `logout({federated: true})`: also log
    /// out of the upstream identity provider, where there is one).
    pub fn logout_url_with(&self, return_to: Option<&str>, federated: bool) -> String {
        let mut url = format!(
            "{}/v2/logout?client_id={}",
            self.config().root_url(),
            crate::url::encode_component(&self.config().client_id)
        );
        if let Some(r) = return_to {
            url.push_str("&returnTo=");
            url.push_str(&crate::url::encode_component(r));
        }
        if federated {
            url.push_str("&federated");
        }
        url
    }

    /// Forgets everything stored and ends the tenant session by navigating to `/v2/logout`.
    pub fn logout(&self, return_to: Option<&str>) {
        self.logout_with(return_to, false);
    }

    /// [`WebAuth::logout`], `federated` as in [`WebAuth::logout_url_with`].
    pub fn logout_with(&self, return_to: Option<&str>, federated: bool) {
        self.clear();
        let _ = browser::navigate(&self.logout_url_with(return_to, federated));
    }

    /// Loads `url` in a hidden iframe and waits for its `authorization_response` message, taken
    /// only from the tenant's origin and only with this `state`.
    async fn web_message(&self, url: &str, state: &str) -> Result<token::Params, LockError> {
        let expected_origin = crate::url::origin_of(&self.config().root_url()).to_string();
        let outcome = browser::web_message(url, &expected_origin, state, WEB_MESSAGE_TIMEOUT_MS)
            .await
            .map_err(LockError::Network)?;
        let json = outcome.ok_or_else(|| {
            LockError::Timeout("the tenant did not answer within 60 seconds".into())
        })?;
        let response = match Json::parse(&json) {
            Ok(Json::Object(members)) => members,
            _ => Vec::new(),
        };
        Ok(response
            .into_iter()
            .map(|(k, v)| {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                (k, text)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::UserInfo;
    use crate::json::Json;

    #[test]
    fn user_info_is_typed_and_keeps_other_claims() {
        let info = UserInfo::from_json(
            &Json::parse(
                r#"{"sub": "sms|1", "phone_number": "+31612345678", "phone_number_verified": true,
                    "name": "+31612345678", "updated_at": "2026-11-25T20:00:00Z", "https://app/roles": ["a"]}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(info.phone_number.as_deref(), Some("+31612345678"));
        assert_eq!(info.phone_number_verified, Some(true));
        assert_eq!(info.other[0].0, "https://app/roles");
        let back = info.to_json();
        assert_eq!(back["https://app/roles"].to_string(), r#"["a"]"#);
        assert_eq!(back["sub"], "sms|1");
        assert!(back.get("picture").is_none());
        for bad in [
            r#"{"phone_number": "+1"}"#,
            r#"{"sub": 5}"#,
            r#"{"sub": "s", "phone_number_verified": "yes"}"#,
            "[]",
        ] {
            assert!(
                UserInfo::from_json(&Json::parse(bad).unwrap()).is_err(),
                "{bad}"
            );
        }
    }
}
