//! Every way to finish a login: fragment, query, web_message, code + PKCE, sessions
//! (`prompt=none`), refresh token rotation, logout; and the client script and geo lookup.

mod common;

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::Engine;
use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const VERIFIER: &str = "dBjftJeZ4CVP-mJ92ZFu7pxUlVAqk0MiAg3c4fKGq9Yxxxxxxxxx";

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn ticket(h: &Harness) -> String {
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    h.co_authenticate(PHONE, &code).await.json()["login_ticket"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn authorize(h: &Harness, params: &[(&str, &str)], cookie: Option<&str>) -> Reply {
    let mut all: Vec<(&str, &str)> = vec![("client_id", "app"), ("redirect_uri", CALLBACK)];
    if !params.iter().any(|(k, _)| *k == "state") {
        all.push(("state", "st"));
    }
    all.extend_from_slice(params);
    let q = serde_urlencoded::to_string(&all).unwrap();
    let mut req = Request::get(format!("/authorize?{q}"));
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    h.send(req.body(Body::empty()).unwrap()).await
}

fn location_params(r: &Reply, sep: char) -> HashMap<String, String> {
    let location = r.header("location").expect("a redirect");
    let (base, rest) = location
        .split_once(sep)
        .unwrap_or_else(|| panic!("no {sep} in {location}"));
    assert_eq!(base, CALLBACK);
    serde_urlencoded::from_str(rest).unwrap()
}

fn session_cookie(r: &Reply) -> String {
    let set = r.header("set-cookie").expect("a session cookie");
    assert!(set.contains("HttpOnly"), "{set}");
    set.split(';').next().unwrap().to_string()
}

async fn token(h: &Harness, body: Value) -> Reply {
    h.post("/oauth/token", body, &[]).await
}

#[tokio::test]
async fn code_with_pkce_is_redeemed_once_with_its_verifier() {
    let h = harness().await;
    let t = ticket(&h).await;
    let c = challenge(VERIFIER);
    let r = authorize(
        &h,
        &[
            ("response_type", "code"),
            ("login_ticket", &t),
            ("scope", "openid profile"),
            ("code_challenge", &c),
            ("code_challenge_method", "S256"),
            ("nonce", "nn"),
        ],
        None,
    )
    .await;
    let p = location_params(&r, '?');
    assert_eq!(p["state"], "st");
    let code = p["code"].clone();
    let redeem = |verifier: &str| {
        json!({"grant_type": "authorization_code", "client_id": "app", "code": code,
        "code_verifier": verifier, "redirect_uri": CALLBACK})
    };
    let ok = token(&h, redeem(VERIFIER)).await;
    assert_eq!(
        ok.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&ok.body)
    );
    assert_eq!(ok.header("cache-control"), Some("no-store"));
    let id = claims(ok.json()["id_token"].as_str().unwrap());
    assert_eq!(id["nonce"], "nn");
    assert_eq!(id["phone_number"], PHONE);
    let again = token(&h, redeem(VERIFIER)).await;
    assert_eq!(
        again.error(),
        (StatusCode::FORBIDDEN, "invalid_grant".into()),
        "codes are single-use"
    );
}

#[tokio::test]
async fn pkce_cannot_be_downgraded_or_guessed() {
    let h = harness().await;
    let t = ticket(&h).await;
    let r = authorize(&h, &[("response_type", "code"), ("login_ticket", &t)], None).await;
    assert_eq!(
        location_params(&r, '?')["error"],
        "invalid_request",
        "code without PKCE"
    );
    let r = authorize(
        &h,
        &[
            ("response_type", "code"),
            ("login_ticket", &t),
            ("code_challenge", VERIFIER),
            ("code_challenge_method", "plain"),
        ],
        None,
    )
    .await;
    assert_eq!(
        location_params(&r, '?')["error"],
        "invalid_request",
        "plain is refused"
    );

    let c = challenge(VERIFIER);
    let r = authorize(
        &h,
        &[
            ("response_type", "code"),
            ("login_ticket", &t),
            ("code_challenge", &c),
            ("code_challenge_method", "S256"),
        ],
        None,
    )
    .await;
    let code = location_params(&r, '?')["code"].clone();
    let no_verifier = token(
        &h,
        json!({"grant_type": "authorization_code", "client_id": "app", "code": code,
        "redirect_uri": CALLBACK}),
    )
    .await;
    assert_eq!(no_verifier.error().1, "invalid_request");
    let wrong = token(
        &h,
        json!({"grant_type": "authorization_code", "client_id": "app", "code": code,
        "code_verifier": "x".repeat(43), "redirect_uri": CALLBACK}),
    )
    .await;
    assert_eq!(
        wrong.error(),
        (StatusCode::FORBIDDEN, "invalid_grant".into())
    );
}

#[tokio::test]
async fn tokens_never_go_in_the_query() {
    let h = harness().await;
    let t = ticket(&h).await;
    let r = authorize(
        &h,
        &[
            ("response_type", "token id_token"),
            ("response_mode", "query"),
            ("nonce", "n"),
            ("login_ticket", &t),
        ],
        None,
    )
    .await;
    let location = r.header("location").unwrap();
    assert!(!location.contains("access_token"), "{location}");
    assert!(location.contains("error=invalid_request"), "{location}");
}

#[tokio::test]
async fn web_message_posts_to_the_callback_origin_only() {
    let h = harness().await;
    let t = ticket(&h).await;
    let r = authorize(
        &h,
        &[
            ("response_type", "token id_token"),
            ("response_mode", "web_message"),
            ("prompt", "none"),
            ("nonce", "n"),
            ("state", "</script><b>x"),
            ("login_ticket", &t),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&r.body).to_string();
    assert!(
        html.contains(r#"var target = "http://app.test";"#),
        "{html}"
    );
    assert!(html.contains(r#""type":"authorization_response""#));
    assert!(
        html.contains(r#""state":"\u003c/script>\u003cb>x""#),
        "{html}"
    );
    assert!(html.contains(r#""access_token":""#));
    assert!(
        !html.contains("</script><b>"),
        "no value can close the script"
    );
    let csp = r.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
}

#[tokio::test]
async fn the_session_answers_prompt_none_until_logout() {
    let h =
        harness_with(|c| c.clients[0].allowed_logout_urls = vec!["http://app.test/".into()]).await;
    let t = ticket(&h).await;
    let first = authorize(
        &h,
        &[
            ("response_type", "token id_token"),
            ("nonce", "n"),
            ("login_ticket", &t),
        ],
        None,
    )
    .await;
    let cookie = session_cookie(&first);
    let silent = [
        ("response_type", "token id_token"),
        ("nonce", "n2"),
        ("prompt", "none"),
        ("response_mode", "web_message"),
    ];
    let none = authorize(&h, &silent, None).await;
    assert!(String::from_utf8_lossy(&none.body).contains(r#""error":"login_required""#));
    let with = authorize(&h, &silent, Some(&cookie)).await;
    let html = String::from_utf8_lossy(&with.body).to_string();
    assert!(html.contains(r#""id_token":""#), "{html}");

    let bad = h
        .get(
            "/v2/logout?client_id=app&returnTo=http%3A%2F%2Fevil.test%2F",
            &[("cookie", &cookie)],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.header("location").is_none());
    let out = h
        .get(
            "/v2/logout?client_id=app&returnTo=http%3A%2F%2Fapp.test%2F",
            &[("cookie", &cookie)],
        )
        .await;
    assert_eq!(out.status, StatusCode::FOUND);
    assert_eq!(out.header("location"), Some("http://app.test/"));
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = authorize(&h, &silent, Some(&cookie)).await;
    assert!(
        String::from_utf8_lossy(&after.body).contains(r#""error":"login_required""#),
        "the session is gone server-side"
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let h = harness_with(|c| c.clients[0].refresh_tokens = true).await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let r = token(&h, json!({"grant_type": "http://auth0.com/oauth/grant-type/passwordless/otp", "client_id": "app",
        "username": PHONE, "otp": code, "realm": "sms", "scope": "openid offline_access"})).await;
    let first = r.json()["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_string();
    let refresh =
        |rt: &str| json!({"grant_type": "refresh_token", "client_id": "app", "refresh_token": rt});
    let r = token(&h, refresh(&first)).await;
    assert_eq!(r.status, StatusCode::OK);
    let second = r.json()["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert!(r.json()["id_token"].is_string());
    let reuse = token(&h, refresh(&first)).await;
    assert_eq!(
        reuse.error(),
        (StatusCode::FORBIDDEN, "invalid_grant".into())
    );
    let revoked = token(&h, refresh(&second)).await;
    assert_eq!(
        revoked.error(),
        (StatusCode::FORBIDDEN, "invalid_grant".into()),
        "the whole family is revoked"
    );
}

#[tokio::test]
async fn refresh_tokens_only_for_clients_that_allow_them() {
    let h = harness().await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let r = token(&h, json!({"grant_type": "http://auth0.com/oauth/grant-type/passwordless/otp", "client_id": "app",
        "username": PHONE, "otp": code, "realm": "sms", "scope": "openid offline_access"})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json().get("refresh_token").is_none());
}

#[tokio::test]
async fn grants_are_per_client() {
    let h = harness_with(|c| c.clients[0].grant_types = vec!["implicit".into()]).await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let r = token(&h, json!({"grant_type": "http://auth0.com/oauth/grant-type/passwordless/otp", "client_id": "app",
        "username": PHONE, "otp": code, "realm": "sms"})).await;
    assert_eq!(
        r.error(),
        (StatusCode::FORBIDDEN, "unauthorized_client".into())
    );
}

#[tokio::test]
async fn token_lifetimes_are_per_client() {
    let h = harness_with(|c| {
        c.clients[0].access_token_lifetime_secs = 600;
        c.clients[0].id_token_lifetime_secs = 900;
    })
    .await;
    let p = h.login(PHONE).await;
    assert_eq!(p["expires_in"], "600");
    let id = claims(&p["id_token"]);
    assert_eq!(
        id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(),
        900
    );
}

#[tokio::test]
async fn login_tickets_expire() {
    let h = harness().await;
    let t = ticket(&h).await;
    h.advance(121);
    let r = authorize(
        &h,
        &[
            ("response_type", "token id_token"),
            ("nonce", "n"),
            ("login_ticket", &t),
        ],
        None,
    )
    .await;
    assert_eq!(location_params(&r, '#')["error"], "access_denied");
}

#[tokio::test]
async fn client_script_and_geo_lookup() {
    let h = harness().await;
    let r = h.get("/client/app.js", &[]).await;
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/javascript"));
    let body = String::from_utf8(r.body).unwrap();
    let json = body
        .strip_prefix("Auth0.setClient(")
        .and_then(|b| b.strip_suffix(");"))
        .expect(&body);
    let info: Value = serde_json::from_str(json).unwrap();
    assert_eq!(info["id"], "app");
    assert_eq!(info["strategies"][0]["name"], "sms");
    assert_eq!(info["authorize"], "http://tenant.test/authorize");
    let other: Value = {
        let b = String::from_utf8(h.get("/client/other.js", &[]).await.body).unwrap();
        serde_json::from_str(
            b.strip_prefix("Auth0.setClient(")
                .unwrap()
                .strip_suffix(");")
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(
        other["strategies"],
        json!([]),
        "sms is not enabled for this client"
    );
    assert_eq!(
        h.get("/client/nope.js", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    // Readable by fetch from a registered web origin (a widget under a strict CSP), and only
    // from one.
    let cors = h.get("/client/app.js", &[("origin", common::ORIGIN)]).await;
    assert_eq!(
        cors.header("access-control-allow-origin"),
        Some(common::ORIGIN)
    );
    let stranger = h
        .get("/client/app.js", &[("origin", "https://evil.test")])
        .await;
    assert_eq!(stranger.header("access-control-allow-origin"), None);
    assert_eq!(
        h.get("/user/geoloc/country", &[]).await.json(),
        json!({"country_code": "US"})
    );
}

#[tokio::test]
async fn another_client_cannot_spend_or_revoke_a_refresh_token() {
    let h = harness_with(|c| {
        c.clients[0].refresh_tokens = true;
        c.clients[1].refresh_tokens = true;
    })
    .await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let r = h.otp_grant(PHONE, &code, "openid offline_access").await;
    let rt = r.json()["refresh_token"].as_str().unwrap().to_string();
    let refresh = |client: &str, rt: &str| json!({"grant_type": "refresh_token", "client_id": client, "refresh_token": rt});
    for _ in 0..2 {
        let stolen = token(&h, refresh("other", &rt)).await;
        assert_eq!(
            stolen.error(),
            (StatusCode::FORBIDDEN, "invalid_grant".into())
        );
    }
    // Neither spent nor counted as a reuse: its own client still refreshes, and rotates on.
    let r = token(&h, refresh("app", &rt)).await;
    r.assert_ok();
    let next = r.json()["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(
        token(&h, refresh("app", &next)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_confidential_client_authenticates_by_post_or_basic_and_only_one_way() {
    use base64::Engine;
    const SECRET: &str = "s3cret:with+chars";
    let h = harness_with(|c| c.clients[0].client_secret = Some(SECRET.into())).await;
    let basic = |id: &str, secret: &str| {
        let encode = |s: &str| {
            serde_urlencoded::to_string([("", s)])
                .unwrap()
                .trim_start_matches('=')
                .to_string()
        };
        let pair = format!("{}:{}", encode(id), encode(secret));
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    };
    // The OTP grant with `code`, `body_secret` in the body, `header` as Authorization.
    let grant = |code: &str, client_id: bool, body_secret: Option<&str>, header: Option<String>| {
        let mut body = json!({"grant_type": "http://auth0.com/oauth/grant-type/passwordless/otp",
            "username": PHONE, "otp": code, "realm": "sms"});
        if client_id {
            body["client_id"] = json!("app");
        }
        if let Some(secret) = body_secret {
            body["client_secret"] = json!(secret);
        }
        let h = &h;
        async move {
            let headers: Vec<(&str, &str)> = header
                .as_deref()
                .map(|v| vec![("authorization", v)])
                .unwrap_or_default();
            h.post("/oauth/token", body, &headers).await
        }
    };
    // Without, or with a wrong secret: refused, and the code is not spent.
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    for r in [
        grant(&code, true, None, None).await,
        grant(&code, true, Some("wrong"), None).await,
        grant(&code, true, None, Some(basic("app", "nope"))).await,
    ] {
        assert_eq!(
            r.error(),
            (StatusCode::UNAUTHORIZED, "invalid_client".into())
        );
    }
    // Both methods at once: invalid_request.
    let r = grant(&code, true, Some(SECRET), Some(basic("app", SECRET))).await;
    assert_eq!(
        r.error(),
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );
    // client_secret_post.
    grant(&code, true, Some(SECRET), None).await.assert_ok();
    // client_secret_basic, the client_id only in the header.
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    grant(&code, false, None, Some(basic("app", SECRET)))
        .await
        .assert_ok();
    // A public client still may not send one.
    let h = harness().await;
    let r = h
        .post(
            "/oauth/token",
            json!({"grant_type": "refresh_token", "client_id": "app", "refresh_token": "x",
                   "client_secret": "anything"}),
            &[],
        )
        .await;
    assert_eq!(
        r.error(),
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
}

/// The ID token of a fragment answer, or the error the answer carries.
fn id_token_claims(r: &Reply) -> Result<Value, String> {
    let p = location_params(r, '#');
    match p.get("id_token") {
        Some(t) => Ok(claims(t)),
        None => Err(p.get("error").cloned().unwrap_or_default()),
    }
}

#[tokio::test]
async fn a_session_keeps_its_login_time_and_honours_max_age_and_prompt_login() {
    let h = harness().await;
    let logged_in = h.clock.0.load(std::sync::atomic::Ordering::SeqCst) + 31; // ticket() advances
    let t = ticket(&h).await;
    let login = [("response_type", "id_token"), ("nonce", "n")];
    let first = authorize(&h, &[login[0], login[1], ("login_ticket", &t)], None).await;
    let at = id_token_claims(&first).unwrap();
    assert_eq!(at["auth_time"], logged_in);
    let cookie = session_cookie(&first);
    h.advance(600);
    // Silently, ten minutes later: a new ID token, the same auth_time.
    let silent = |extra: &'static [(&'static str, &'static str)]| {
        let mut params = vec![login[0], login[1], ("prompt", "none")];
        params.extend_from_slice(extra);
        let cookie = cookie.clone();
        let h = &h;
        async move { authorize(h, &params, Some(&cookie)).await }
    };
    let again = id_token_claims(&silent(&[]).await).unwrap();
    assert_eq!(
        again["auth_time"], logged_in,
        "the login's time, not the issuance's"
    );
    assert_eq!(again["iat"], logged_in + 600);
    // max_age: a login older than asked needs a new one; a younger one does not.
    assert_eq!(
        id_token_claims(&silent(&[("max_age", "300")]).await),
        Err("login_required".into())
    );
    assert!(id_token_claims(&silent(&[("max_age", "3600")]).await).is_ok());
    assert_eq!(
        id_token_claims(&silent(&[("max_age", "soon")]).await),
        Err("invalid_request".into())
    );
    // prompt=login never takes the session, but a fresh ticket logs in.
    let with_session = authorize(
        &h,
        &[login[0], login[1], ("prompt", "login")],
        Some(&cookie),
    )
    .await;
    assert_eq!(id_token_claims(&with_session), Err("login_required".into()));
    let t = ticket(&h).await;
    let fresh = authorize(
        &h,
        &[
            login[0],
            login[1],
            ("prompt", "login"),
            ("login_ticket", &t),
        ],
        Some(&cookie),
    )
    .await;
    let fresh = id_token_claims(&fresh).unwrap();
    assert_eq!(fresh["auth_time"], fresh["iat"]);
}

#[tokio::test]
async fn an_authorization_code_keeps_the_login_time() {
    let h = harness().await;
    let t = ticket(&h).await;
    let logged_in = h.clock.0.load(std::sync::atomic::Ordering::SeqCst);
    let r = authorize(
        &h,
        &[
            ("response_type", "code"),
            ("code_challenge", &challenge(VERIFIER)),
            ("code_challenge_method", "S256"),
            ("login_ticket", &t),
        ],
        None,
    )
    .await;
    let code = location_params(&r, '?')["code"].clone();
    h.advance(60);
    let r = token(
        &h,
        json!({"grant_type": "authorization_code", "client_id": "app", "code": code,
        "code_verifier": VERIFIER, "redirect_uri": CALLBACK}),
    )
    .await;
    r.assert_ok();
    let id = claims(r.json()["id_token"].as_str().unwrap());
    assert_eq!(id["auth_time"], logged_in);
    assert_eq!(id["iat"], logged_in + 60);
}

#[tokio::test]
async fn refresh_tokens_end_at_their_absolute_lifetime_whatever_the_rotations() {
    let h = harness_with(|c| {
        c.clients[0].refresh_tokens = true;
        c.clients[0].refresh_token_lifetime_secs = 600;
        c.clients[0].refresh_token_absolute_lifetime_secs = 1000;
    })
    .await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let logged_in = h.clock.0.load(std::sync::atomic::Ordering::SeqCst);
    let r = h.otp_grant(PHONE, &code, "openid offline_access").await;
    r.assert_ok();
    let mut rt = r.json()["refresh_token"].as_str().unwrap().to_string();
    let refresh =
        |rt: &str| json!({"grant_type": "refresh_token", "client_id": "app", "refresh_token": rt});
    // Rotated every 500 s: each token is young, but the chain ends 1000 s after the login.
    h.advance(500);
    let r = token(&h, refresh(&rt)).await;
    r.assert_ok();
    let id = claims(r.json()["id_token"].as_str().unwrap());
    assert_eq!(id["auth_time"], logged_in, "a refresh is not a login");
    rt = r.json()["refresh_token"].as_str().unwrap().to_string();
    h.advance(499);
    let r = token(&h, refresh(&rt)).await;
    r.assert_ok();
    rt = r.json()["refresh_token"].as_str().unwrap().to_string();
    h.advance(1);
    let r = token(&h, refresh(&rt)).await;
    assert_eq!(r.error(), (StatusCode::FORBIDDEN, "invalid_grant".into()));
}
