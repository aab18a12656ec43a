//! The tenant's HTTP API, in process, against a temporary database.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use passwordless_tenant::Tenant;
use serde_json::json;

#[tokio::test]
async fn happy_path_logs_in_and_finds_the_same_user_again() {
    let h = harness().await;
    let r = h.start(PHONE).await;
    assert_eq!(r.json()["phone_number"], PHONE);
    let p = h.login(PHONE).await;
    assert_eq!(p["state"], "state-123");
    assert_eq!(p["token_type"], "Bearer");
    assert_eq!(p["expires_in"], "7200");
    let id = claims(&p["id_token"]);
    assert_eq!(id["iss"], "http://tenant.test/");
    assert_eq!(id["aud"], "app");
    assert_eq!(id["nonce"], "nonce-456");
    assert_eq!(id["phone_number"], PHONE);
    let sub = id["sub"].as_str().unwrap().to_string();
    assert!(sub.starts_with("sms|"));

    let info = h
        .get(
            "/userinfo",
            &[("authorization", &format!("Bearer {}", p["access_token"]))],
        )
        .await;
    assert_eq!(info.status, StatusCode::OK);
    let info = info.json();
    assert_eq!(info["sub"], sub.as_str());
    assert_eq!(info["phone_number"], PHONE);
    assert_eq!(info["phone_number_verified"], true);

    let again = h.login(PHONE).await;
    assert_eq!(
        claims(&again["id_token"])["sub"],
        sub.as_str(),
        "a returning number is the same user"
    );
}

#[tokio::test]
async fn wrong_code_is_access_denied() {
    let h = harness().await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = h.co_authenticate(PHONE, wrong).await;
    assert_eq!(r.error(), (StatusCode::FORBIDDEN, "access_denied".into()));
    assert_eq!(
        r.json()["error_description"],
        "Wrong phone number or verification code."
    );
    // The right code still works after one wrong try.
    assert_eq!(h.co_authenticate(PHONE, &code).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_number_answers_like_a_wrong_code() {
    let h = harness().await;
    let r = h.co_authenticate("+12015550199", "123456").await;
    assert_eq!(r.error(), (StatusCode::FORBIDDEN, "access_denied".into()));
    assert_eq!(
        r.json()["error_description"],
        "Wrong phone number or verification code."
    );
}

#[tokio::test]
async fn expired_code_is_refused() {
    let h = harness().await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    h.clock.0.fetch_add(181, Ordering::SeqCst);
    let r = h.co_authenticate(PHONE, &code).await;
    assert_eq!(r.error(), (StatusCode::FORBIDDEN, "access_denied".into()));
}

#[tokio::test]
async fn reused_code_is_refused() {
    let h = harness().await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    assert_eq!(h.co_authenticate(PHONE, &code).await.status, StatusCode::OK);
    let r = h.co_authenticate(PHONE, &code).await;
    assert_eq!(r.error(), (StatusCode::FORBIDDEN, "access_denied".into()));
}

#[tokio::test]
async fn only_the_latest_code_is_valid() {
    let h = harness().await;
    h.start(PHONE).await;
    let first = h.latest_code(PHONE).await;
    h.start(PHONE).await;
    let second = h.latest_code(PHONE).await;
    if first != second {
        let r = h.co_authenticate(PHONE, &first).await;
        assert_eq!(r.error(), (StatusCode::FORBIDDEN, "access_denied".into()));
    }
    assert_eq!(
        h.co_authenticate(PHONE, &second).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn three_wrong_tries_kill_the_code() {
    let h = harness().await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..3 {
        assert_eq!(
            h.co_authenticate(PHONE, wrong).await.status,
            StatusCode::FORBIDDEN
        );
    }
    let r = h.co_authenticate(PHONE, &code).await;
    assert_eq!(
        r.error(),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".into())
    );
    // A new code works.
    h.start(PHONE).await;
    let fresh = h.latest_code(PHONE).await;
    assert_eq!(
        h.co_authenticate(PHONE, &fresh).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn concurrent_submissions_of_one_code_succeed_once() {
    let h = harness().await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let h = Arc::new(h);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let h = h.clone();
            let code = code.clone();
            tokio::spawn(async move { h.co_authenticate(PHONE, &code).await.status })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap() == StatusCode::OK {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn unknown_client_is_bad_client_id() {
    let h = harness().await;
    let r = h
        .post(
            "/passwordless/start",
            json!({"client_id": "nope", "connection": "sms", "phone_number": PHONE}),
            &[],
        )
        .await;
    assert_eq!(r.error(), (StatusCode::BAD_REQUEST, "bad.client_id".into()));
    assert!(r.json()["error_description"]
        .as_str()
        .unwrap()
        .contains("nope"));
}

#[tokio::test]
async fn connection_must_be_enabled_for_the_client() {
    let h = harness().await;
    let r = h
        .post(
            "/passwordless/start",
            json!({"client_id": "other", "connection": "sms", "phone_number": PHONE}),
            &[],
        )
        .await;
    assert_eq!(
        r.error(),
        (StatusCode::BAD_REQUEST, "bad.connection".into())
    );
    let r = h
        .post(
            "/passwordless/start",
            json!({"client_id": "app", "connection": "email", "phone_number": PHONE}),
            &[],
        )
        .await;
    assert_eq!(
        r.error(),
        (StatusCode::BAD_REQUEST, "bad.connection".into())
    );
}

#[tokio::test]
async fn malformed_bodies_are_bad_request() {
    let h = harness().await;
    let send_raw = |body: &'static str, ct: &'static str| {
        Request::post("/passwordless/start")
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap()
    };
    for (body, ct) in [
        ("{not json", "application/json"),
        (r#"{"client_id": 5}"#, "application/json"),
        (
            r#"{"client_id":"app","connection":"sms","phone_number":"+12015550123","extra":1}"#,
            "application/json",
        ),
        (r#"{"client_id":"app"}"#, "text/plain"),
    ] {
        let r = h.send(send_raw(body, ct)).await;
        assert_eq!(
            r.error(),
            (StatusCode::BAD_REQUEST, "bad.request".into()),
            "{body} as {ct}"
        );
        assert!(!r.json()["error_description"].as_str().unwrap().is_empty());
    }
    let big = format!(r#"{{"client_id":"{}"}}"#, "a".repeat(20_000));
    let r = h
        .send(
            Request::post("/passwordless/start")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(big))
                .unwrap(),
        )
        .await;
    assert_eq!(r.error(), (StatusCode::BAD_REQUEST, "bad.request".into()));
    let r = h
        .post(
            "/passwordless/start",
            json!({"client_id":"app","connection":"sms","phone_number":PHONE,"authParams":"x"}),
            &[],
        )
        .await;
    assert_eq!(
        r.error(),
        (StatusCode::BAD_REQUEST, "bad.authParams".into()),
        "authParams must still be an object"
    );
}

#[tokio::test]
async fn phone_must_be_e164_and_valid() {
    let h = harness().await;
    for phone in [
        json!("2015550123"),
        json!("+1 201 555 012a"),
        json!("tel:+12015550123"),
        json!(""),
        json!("+1555"),
    ] {
        let r = h
            .post(
                "/passwordless/start",
                json!({"client_id": "app", "connection": "sms", "phone_number": phone}),
                &[],
            )
            .await;
        assert_eq!(
            r.error(),
            (StatusCode::BAD_REQUEST, "bad.phone_number".into()),
            "{phone}"
        );
    }
    let r = h
        .post(
            "/passwordless/start",
            json!({"client_id": "app", "connection": "sms"}),
            &[],
        )
        .await;
    assert_eq!(
        r.error(),
        (StatusCode::BAD_REQUEST, "bad.phone_number".into())
    );
}

#[tokio::test]
async fn sms_language_follows_the_request() {
    let h = harness().await;
    for (headers, prefix) in [
        (vec![("x-request-language", "nl-NL")], "Uw code: "),
        (vec![("accept-language", "fr-FR")], "Code Test App : "),
        (
            vec![("x-request-language", "{{ password }}")],
            "Your code is ",
        ),
    ] {
        h.advance(31);
        let body = json!({"client_id": "app", "connection": "sms", "phone_number": PHONE});
        assert_eq!(
            h.post("/passwordless/start", body, &headers).await.status,
            StatusCode::OK
        );
        let outbox = h.get("/dev/sms", &[]).await.json();
        let text = outbox[0]["body"].as_str().unwrap();
        assert!(text.starts_with(prefix), "{headers:?}: {text}");
    }
    let h = harness().await;
    h.post(
        "/passwordless/start",
        json!({"client_id": "app", "connection": "sms", "phone_number": PHONE}),
        &[
            ("x-request-language", "fr-FR"),
            ("accept-language", "nl-NL"),
        ],
    )
    .await;
    let outbox = h.get("/dev/sms", &[]).await.json();
    assert!(
        outbox[0]["body"]
            .as_str()
            .unwrap()
            .starts_with("Code Test App : "),
        "{outbox}"
    );
    h.clock.0.fetch_add(31, Ordering::SeqCst);
    h.post(
        "/passwordless/start",
        json!({"client_id": "app", "connection": "sms", "phone_number": PHONE}),
        &[("accept-language", "nl-NL,nl;q=0.9")],
    )
    .await;
    let outbox = h.get("/dev/sms", &[]).await.json();
    assert!(
        outbox[0]["body"].as_str().unwrap().starts_with("Uw code: "),
        "{outbox}"
    );
    assert_eq!(
        outbox.as_array().unwrap().len(),
        2,
        "newest first, both kept"
    );
}

#[tokio::test]
async fn outbox_filters_by_recipient() {
    let h = harness().await;
    h.start(PHONE).await;
    h.start("+31612345678").await;
    let all = h.get("/dev/sms", &[]).await.json();
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["to"], "+31612345678");
    let mine = h.get("/dev/sms?to=%2B12015550123", &[]).await.json();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["to"], PHONE);
    let html = h.get("/dev/sms.html", &[]).await;
    assert!(String::from_utf8_lossy(&html.body).contains("+31612345678"));
}

#[tokio::test]
async fn cors_only_for_registered_origins() {
    let h = harness().await;
    let r = h.start(PHONE).await;
    assert!(r.header("access-control-allow-origin").is_none());
    let r = h
        .post(
            "/passwordless/start",
            json!({"client_id": "app", "connection": "sms", "phone_number": PHONE}),
            &[("origin", ORIGIN)],
        )
        .await;
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("retry-after")
    );
    let r = h
        .post(
            "/passwordless/start",
            json!({"client_id": "app", "connection": "sms", "phone_number": PHONE}),
            &[("origin", "http://evil.test")],
        )
        .await;
    assert!(r.header("access-control-allow-origin").is_none());
    let pre = |origin: &'static str| {
        Request::options("/co/authenticate")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .body(Body::empty())
            .unwrap()
    };
    let r = h.send(pre(ORIGIN)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    let r = h
        .get(
            "/authorize?client_id=app&redirect_uri=http%3A%2F%2Fapp.test%2Fcallback",
            &[("origin", ORIGIN)],
        )
        .await;
    assert!(
        r.header("access-control-allow-origin").is_none(),
        "no CORS on /authorize"
    );
    let r = h.send(pre("http://evil.test")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn co_authenticate_needs_a_registered_origin() {
    let h = harness().await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let r = h
        .post(
            "/co/authenticate",
            json!({"client_id": "app", "credential_type": "http://auth0.com/oauth/grant-type/passwordless/otp",
                   "username": PHONE, "otp": code, "realm": "sms"}),
            &[("origin", "http://evil.test")],
        )
        .await;
    assert_eq!(r.error(), (StatusCode::FORBIDDEN, "access_denied".into()));
    assert_eq!(
        h.co_authenticate(PHONE, &code).await.status,
        StatusCode::OK,
        "the code was not spent"
    );
}

#[tokio::test]
async fn authorize_refuses_unregistered_redirects_and_reused_tickets() {
    let h = harness().await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let ticket = h.co_authenticate(PHONE, &code).await.json()["login_ticket"]
        .as_str()
        .unwrap()
        .to_string();
    let r = h.authorize(&ticket, "http://evil.test/callback").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.header("location").is_none());
    assert!(String::from_utf8_lossy(&r.body).contains("not an allowed callback"));

    assert_eq!(
        h.authorize(&ticket, CALLBACK).await.status,
        StatusCode::FOUND
    );
    let r = h.authorize(&ticket, CALLBACK).await;
    let location = r.header("location").unwrap();
    assert!(location.contains("error=access_denied"), "{location}");
    assert!(location.contains("state=state-123"), "{location}");
}

#[tokio::test]
async fn token_endpoint_grants_with_a_code() {
    let h = harness().await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let grant = |otp: &str| {
        json!({"grant_type": "http://auth0.com/oauth/grant-type/passwordless/otp", "client_id": "app",
               "username": PHONE, "otp": otp, "realm": "sms", "scope": "openid profile"})
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = h.post("/oauth/token", grant(wrong), &[]).await;
    assert_eq!(r.error(), (StatusCode::FORBIDDEN, "invalid_grant".into()));
    let r = h.post("/oauth/token", grant(&code), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        claims(body["id_token"].as_str().unwrap())["phone_number"],
        PHONE
    );

    let form = "grant_type=password&client_id=app";
    let r = h
        .send(
            Request::post("/oauth/token")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await;
    assert_eq!(
        r.error(),
        (StatusCode::BAD_REQUEST, "unsupported_grant_type".into())
    );
}

#[tokio::test]
async fn userinfo_refuses_bad_tokens() {
    let h = harness().await;
    assert_eq!(
        h.get("/userinfo", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = h
        .get("/userinfo", &[("authorization", "Bearer a.b.c")])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn access_tokens_are_opaque_without_an_audience_and_jwts_for_an_api() {
    let h = harness().await;
    // No audience, as Auth0: an opaque token (a `dir` JWE), read by /userinfo and by no one else.
    let p = h.login(PHONE).await;
    let opaque = &p["access_token"];
    assert_eq!(opaque.split('.').count(), 5, "{opaque}");
    assert!(
        claims(&p["id_token"])["at_hash"].is_string(),
        "at_hash covers it"
    );
    let bearer = |t: &str| format!("Bearer {t}");
    let info = h
        .get("/userinfo", &[("authorization", &bearer(opaque))])
        .await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(info.json()["phone_number"], PHONE);
    // Altered, expired: refused.
    let mut altered = opaque.clone().into_bytes();
    let i = altered.len() - 30;
    altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let r = h
        .get("/userinfo", &[("authorization", &bearer(&altered))])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    h.advance(7201);
    let r = h
        .get("/userinfo", &[("authorization", &bearer(opaque))])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "expired");

    // For an API audience: an RS256 JWT for that API and /userinfo.
    h.start("+12015550149").await;
    let code = h.latest_code("+12015550149").await;
    let ticket = h.co_authenticate("+12015550149", &code).await.json()["login_ticket"]
        .as_str()
        .unwrap()
        .to_string();
    let q = serde_urlencoded::to_string([
        ("client_id", "app"),
        ("response_type", "token id_token"),
        ("redirect_uri", CALLBACK),
        ("scope", "openid"),
        ("state", "s"),
        ("nonce", "n"),
        ("audience", "https://api.example.test"),
        ("login_ticket", ticket.as_str()),
    ])
    .unwrap();
    let r = h.get(&format!("/authorize?{q}"), &[]).await;
    let location = r.header("location").unwrap();
    let p: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(location.split_once('#').unwrap().1).unwrap();
    let at = claims(&p["access_token"]);
    assert_eq!(
        at["aud"],
        json!(["https://api.example.test", "http://tenant.test/userinfo"])
    );
    let r = h
        .get(
            "/userinfo",
            &[("authorization", &bearer(&p["access_token"]))],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn discovery_documents_describe_the_tenant() {
    let h = harness().await;
    let jwks = h.get("/.well-known/jwks.json", &[]).await.json();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert!(key["kid"].is_string() && key["n"].is_string());
    assert!(key.get("d").is_none(), "public parts only");
    let oidc = h.get("/.well-known/openid-configuration", &[]).await.json();
    assert_eq!(oidc["issuer"], "http://tenant.test/");
    assert_eq!(oidc["jwks_uri"], "http://tenant.test/.well-known/jwks.json");
}

#[tokio::test]
async fn keys_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let kid = |t: Tenant| t.keys.jwks()["keys"][0]["kid"].clone();
    let first = kid(Tenant::new(config(dir.path()).await).await.unwrap());
    let second = kid(Tenant::new(config(dir.path()).await).await.unwrap());
    assert_eq!(first, second);
}

#[tokio::test]
async fn an_invalid_template_stops_startup_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path()).await;
    c.sms.template = "Hello\n{% if %}".into();
    let err = Tenant::new(c)
        .await
        .err()
        .expect("must not start")
        .to_string();
    assert!(err.contains("invalid SMS template"), "{err}");
}

#[tokio::test]
async fn the_outbox_can_be_turned_off() {
    let h = harness_with(|c| c.sms.dev_outbox = Some(false)).await;
    assert_eq!(
        h.start(PHONE).await.status,
        StatusCode::OK,
        "messages still go to the log provider"
    );
    assert_eq!(h.get("/dev/sms", &[]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        h.get("/dev/sms.html", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    let index = String::from_utf8(h.get("/", &[]).await.body).unwrap();
    assert!(!index.contains("/dev/sms"), "{index}");
}

#[test]
fn a_log_provider_listens_beyond_loopback_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut c = rt.block_on(config(dir.path()));
    let any: std::net::SocketAddr = "0.0.0.0:4000".parse().unwrap();
    let lan: std::net::SocketAddr = "192.168.1.10:4000".parse().unwrap();
    for loopback in ["127.0.0.1:4000", "[::1]:4000"] {
        assert!(
            c.check_listen(loopback.parse().unwrap()).is_ok(),
            "{loopback}"
        );
    }
    assert!(c.check_listen(any).is_err());
    assert!(c.check_listen(lan).is_err());
    c.sms.dev_outbox = Some(true);
    assert!(c.check_listen(any).is_ok(), "asked for");
    c.sms.dev_outbox = Some(false);
    assert!(c.check_listen(lan).is_ok(), "not served at all");
    c.sms.dev_outbox = None;
    c.sms.provider = passwordless_tenant::config::ProviderKind::Twilio;
    assert!(c.check_listen(lan).is_ok(), "no outbox with Twilio");
}

#[tokio::test]
async fn what_auth0_js_sends_is_accepted() {
    let h = harness().await;
    // auth0.js asks whether a captcha is needed before a start: it is not.
    let r = h
        .post(
            "/passwordless/challenge",
            json!({"client_id": "app", "connection": "sms"}),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!({"required": false}));
    let cors = h
        .post("/passwordless/challenge", json!({}), &[("origin", ORIGIN)])
        .await;
    assert_eq!(cors.header("access-control-allow-origin"), Some(ORIGIN));
    // A top-level captcha and authParams values of any type.
    let r = h
        .post(
            "/passwordless/start",
            json!({"client_id": "app", "connection": "sms", "phone_number": PHONE, "send": "code",
                   "captcha": "", "authParams": {"scope": "openid", "max_age": 3600,
                   "prompt": null, "ui_locales": ["fr"], "nested": {"a": true}}}),
            &[],
        )
        .await;
    r.assert_ok();
}

#[tokio::test]
async fn the_token_endpoint_ignores_parameters_it_does_not_know() {
    let h = harness().await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let r = h
        .post(
            "/oauth/token",
            json!({"grant_type": OTP_GRANT, "client_id": "app", "username": PHONE, "otp": code,
                   "realm": "sms", "scope": "openid", "auth0Client": "eyJuYW1lIjoiYXV0aDAuanMifQ",
                   "device": "phone", "state": "ignored"}),
            &[],
        )
        .await;
    r.assert_ok();
    assert!(r.json()["id_token"].is_string());
}

#[tokio::test]
async fn the_token_endpoint_refuses_in_oauths_vocabulary() {
    let h = harness().await;
    let token = |content_type: &'static str, body: String| {
        Request::post("/oauth/token")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    for (content_type, body, error) in [
        (
            "application/json",
            "{not json".to_string(),
            "invalid_request",
        ),
        ("text/plain", "grant_type=x".to_string(), "invalid_request"),
        (
            "application/json",
            json!({"grant_type": 5}).to_string(),
            "invalid_request",
        ),
        ("application/json", "x".repeat(17 * 1024), "invalid_request"),
        (
            "application/json",
            json!({"client_id": "app"}).to_string(),
            "invalid_request",
        ),
        (
            "application/json",
            json!({"grant_type": "password", "client_id": "app"}).to_string(),
            "unsupported_grant_type",
        ),
        (
            "application/json",
            json!({"grant_type": OTP_GRANT, "client_id": "nobody"}).to_string(),
            "invalid_client",
        ),
        (
            "application/x-www-form-urlencoded",
            "grant_type=refresh_token&client_id=app&refresh_token=forged".to_string(),
            "invalid_grant",
        ),
    ] {
        let r = h.send(token(content_type, body.clone())).await;
        assert_eq!(
            r.json()["error"],
            error,
            "{content_type} {}",
            &body[..body.len().min(60)]
        );
        assert!(r.status.is_client_error(), "{}", r.status);
    }
}

#[tokio::test]
async fn discovery_lists_what_the_tenant_supports_and_lock_sees_no_free_tier() {
    let h = harness().await;
    let oidc = h.get("/.well-known/openid-configuration", &[]).await.json();
    let has = |field: &str, value: &str| {
        oidc[field]
            .as_array()
            .is_some_and(|a| a.iter().any(|v| v == value))
    };
    for (field, value) in [
        ("response_types_supported", "code"),
        ("response_types_supported", "token id_token"),
        ("response_modes_supported", "query"),
        ("response_modes_supported", "fragment"),
        ("response_modes_supported", "web_message"),
        ("grant_types_supported", "authorization_code"),
        ("grant_types_supported", "refresh_token"),
        ("grant_types_supported", OTP_GRANT),
        ("code_challenge_methods_supported", "S256"),
        ("scopes_supported", "offline_access"),
    ] {
        assert!(has(field, value), "{field} lacks {value}: {oidc}");
    }
    assert_eq!(oidc["end_session_endpoint"], "http://tenant.test/v2/logout");
    // Lock shows Auth0's "free plan" badge for a "free" or "dev" subscription.
    let script = String::from_utf8(h.get("/client/app.js", &[]).await.body).unwrap();
    assert!(
        !script.contains("\"free\"") && !script.contains("\"dev\""),
        "{script}"
    );
}

#[tokio::test]
async fn the_origin_of_an_allowed_callback_is_an_allowed_origin() {
    let h = harness_with(|c| {
        c.clients[0].web_origins.clear();
        c.clients[0].callbacks = vec!["https://Cb.Example:443/login/callback?x=1".into()];
    })
    .await;
    let origin = "https://cb.example";
    let preflight = h
        .send(
            Request::builder()
                .method("OPTIONS")
                .uri("/passwordless/start")
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some(origin)
    );
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let body = json!({"client_id": "app", "credential_type": OTP_GRANT, "username": PHONE,
                      "otp": code, "realm": "sms"});
    let r = h
        .post("/co/authenticate", body.clone(), &[("origin", origin)])
        .await;
    r.assert_ok();
    assert_eq!(r.header("access-control-allow-origin"), Some(origin));
    // Another port, another scheme or the callback's whole URL are not its origin.
    for other in [
        "https://cb.example:8443",
        "http://cb.example",
        "https://cb.example/login/callback",
    ] {
        let r = h
            .post("/co/authenticate", body.clone(), &[("origin", other)])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{other}");
        assert_eq!(r.header("access-control-allow-origin"), None, "{other}");
    }
}

#[test]
fn url_origins_are_what_browsers_send() {
    use passwordless_tenant::config::url_origin;
    for (url, origin) in [
        ("https://app.example/cb", Some("https://app.example")),
        ("HTTPS://App.Example:443/", Some("https://app.example")),
        ("http://127.0.0.1:8080/", Some("http://127.0.0.1:8080")),
        ("http://a.test:80?x", Some("http://a.test")),
        ("http://[::1]:3000/x", Some("http://[::1]:3000")),
        ("myapp://callback", None),
        ("https://user@evil.test/", None),
        ("not a url", None),
    ] {
        assert_eq!(url_origin(url).as_deref(), origin, "{url}");
    }
}
