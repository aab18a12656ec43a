//! The server items of shared/docs/security.md, each shown by a test.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::*;

#[tokio::test]
async fn a_number_waits_between_sends_with_retry_after() {
    let h = harness().await;
    assert_eq!(h.start(PHONE).await.status, StatusCode::OK);
    h.advance(10);
    let r = h.send(start_request(PHONE)).await;
    assert_eq!(
        r.error(),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_requests".into())
    );
    let wait: i64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait), "retry-after {wait}");
    h.advance(wait);
    assert_eq!(h.send(start_request(PHONE)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_ip_gets_fifty_sends_an_hour() {
    let h = harness().await;
    for i in 0..50 {
        let phone = format!("+3161234{:04}", 5000 + i);
        let r = h.send_from("203.0.113.7", start_request(&phone)).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "send {i}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    let r = h
        .send_from("203.0.113.7", start_request("+31612349999"))
        .await;
    assert_eq!(
        r.error(),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_requests".into())
    );
    assert!(r.header("retry-after").is_some());
    let other = h
        .send_from("203.0.113.8", start_request("+31612349999"))
        .await;
    assert_eq!(other.status, StatusCode::OK, "another IP is not limited");
    h.advance(3601);
    let later = h
        .send_from("203.0.113.7", start_request("+31612349998"))
        .await;
    assert_eq!(later.status, StatusCode::OK, "the window slides");
}

#[tokio::test]
async fn a_number_gets_ten_codes_an_hour() {
    let h = harness().await;
    for _ in 0..10 {
        assert_eq!(h.start(PHONE).await.status, StatusCode::OK);
    }
    let r = h.start(PHONE).await;
    assert_eq!(
        r.error(),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_requests".into())
    );
}

#[tokio::test]
async fn fifty_concurrent_wrong_guesses_evaluate_at_most_the_cap() {
    let h = harness().await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let h = Arc::new(h);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let h = h.clone();
            let guess = wrong(&code).to_string();
            tokio::spawn(async move { h.send(co_request(PHONE, &guess)).await.status })
        })
        .collect();
    let mut evaluated = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::FORBIDDEN => evaluated += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(evaluated, 3, "only the first three guesses were compared");
    let r = h.send(co_request(PHONE, &code)).await;
    assert_eq!(
        r.error(),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".into())
    );
}

/// Ten wrong codes for `phone` from `ip`, over four codes (three tries each).
async fn ten_failures_from(h: &Harness, ip: &str, phone: &str) {
    for round in 0..4 {
        h.advance(31);
        h.send_from(ip, start_request(phone)).await.assert_ok();
        let code = h.latest_code(phone).await;
        let tries = if round < 3 { 3 } else { 1 };
        for _ in 0..tries {
            let r = h.send_from(ip, co_request(phone, wrong(&code))).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN);
        }
    }
}

/// A whole login of `phone` from `ip`: a code sent (past the send interval) and verified.
async fn login_from(h: &Harness, ip: &str, phone: &str) {
    h.advance(31);
    h.send_from(ip, start_request(phone)).await.assert_ok();
    let code = h.latest_code(phone).await;
    h.send_from(ip, co_request(phone, &code)).await.assert_ok();
}

/// A send of `phone` from `ip`: the status and `Retry-After`.
async fn send_status(h: &Harness, ip: &str, phone: &str) -> (StatusCode, Option<i64>) {
    h.advance(31);
    let r = h.send_from(ip, start_request(phone)).await;
    let wait = r.header("retry-after").map(|w| w.parse().unwrap());
    (r.status, wait)
}

#[tokio::test]
async fn ten_consecutive_failures_block_the_number_from_that_address_only() {
    let h = harness().await;
    let (attacker, owner) = ("198.51.100.7", "203.0.113.9");
    ten_failures_from(&h, attacker, PHONE).await;
    // 10 failures: this address is blocked for this number, for sending and for verifying…
    let r = h.send_from(attacker, start_request(PHONE)).await;
    assert_eq!(
        r.error(),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".into())
    );
    let wait: i64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((800..=900).contains(&wait), "retry-after {wait}");
    let r = h.send_from(attacker, co_request(PHONE, "123456")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // …but the owner, elsewhere, still gets a code and logs in.
    login_from(&h, owner, PHONE).await;
    // The block ends.
    h.advance(901);
    assert_eq!(send_status(&h, attacker, PHONE).await.0, StatusCode::OK);
}

#[tokio::test]
async fn repeated_blocks_last_twice_as_long_each_time_up_to_the_maximum() {
    let h = harness_with(|c| {
        c.limits.max_block_secs = 3000;
        c.limits.start_per_phone_per_hour = 1000; // the sends are not what is tested
    })
    .await;
    let ip = "198.51.100.8";
    for expected in [900, 1800, 3000, 3000] {
        ten_failures_from(&h, ip, PHONE).await;
        let (status, wait) = send_status(&h, ip, PHONE).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        let wait = wait.unwrap();
        assert!(
            (expected - 100..=expected).contains(&wait),
            "block {wait}s, expected about {expected}s"
        );
        h.advance(wait);
    }
    // A day after the last block ended, the strikes are forgotten: back to the first length.
    h.advance(86_401);
    ten_failures_from(&h, ip, PHONE).await;
    let wait = send_status(&h, ip, PHONE).await.1.unwrap();
    assert!(
        (800..=900).contains(&wait),
        "block {wait}s after a quiet day"
    );
}

#[tokio::test]
async fn guesses_from_many_addresses_block_the_number_but_not_where_its_owner_logs_in() {
    let h = harness_with(|c| c.limits.start_per_phone_per_hour = 1000).await;
    let home = "203.0.113.20";
    // The owner logged in from home once.
    login_from(&h, home, PHONE).await;
    // Twenty wrong codes from twenty addresses: no pair reaches its ceiling of ten, the
    // number reaches its own ceiling of twenty.
    for i in 0..20 {
        let ip = format!("198.51.100.{}", 100 + i);
        h.advance(31);
        h.send_from(&ip, start_request(PHONE)).await.assert_ok();
        let code = h.latest_code(PHONE).await;
        let r = h.send_from(&ip, co_request(PHONE, wrong(&code))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    // A new address gets nothing…
    let (status, wait) = send_status(&h, "198.51.100.200", PHONE).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(wait.is_some_and(|w| w > 800), "retry-after {wait:?}");
    // …the owner at home still logs in.
    login_from(&h, home, PHONE).await;
}

#[tokio::test]
async fn a_success_resets_the_consecutive_failures() {
    let h = harness().await;
    for _ in 0..3 {
        h.start(PHONE).await;
        let code = h.latest_code(PHONE).await;
        h.send(co_request(PHONE, wrong(&code))).await;
        h.send(co_request(PHONE, wrong(&code))).await;
        assert_eq!(
            h.send(co_request(PHONE, &code)).await.status,
            StatusCode::OK
        );
    }
    // Six failures so far, none consecutive past a success. Four more would make ten in a row
    // without the reset.
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    for _ in 0..3 {
        h.send(co_request(PHONE, wrong(&code))).await;
    }
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    h.send(co_request(PHONE, wrong(&code))).await;
    assert_eq!(
        h.send(co_request(PHONE, &code)).await.status,
        StatusCode::OK,
        "not blocked"
    );
}

#[tokio::test]
async fn an_ip_guessing_across_numbers_is_blocked() {
    let h = harness_with(|c| c.limits.failures_per_ip_per_hour = 5).await;
    for i in 0..5 {
        let r = h
            .send_from(
                "198.51.100.1",
                co_request(&format!("+3161234{:04}", 7000 + i), "123456"),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let r = h
        .send_from("198.51.100.1", co_request("+31612347100", "123456"))
        .await;
    assert_eq!(
        r.error(),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".into())
    );
    let r = h
        .send_from("198.51.100.2", co_request("+31612347100", "123456"))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "another IP still gets answers"
    );
}

#[tokio::test]
async fn spellings_of_one_number_are_one_user() {
    let h = harness().await;
    let r = h.send(start_request("＋１ (201) 555\u{200b}-0123")).await;
    assert_eq!(r.json()["phone_number"], PHONE);
    let outbox = h.get("/dev/sms", &[]).await.json();
    assert_eq!(outbox[0]["to"], PHONE);
    let code = outbox[0]["code"].as_str().unwrap().to_string();
    let r = h
        .send(co_request("\u{202a}+1 201-555-0123\u{202c}", &code))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let first = h.login(PHONE).await;
    let again = h.login(PHONE).await;
    assert_eq!(
        claims(&first["id_token"])["sub"],
        claims(&again["id_token"])["sub"]
    );
}

#[tokio::test]
async fn known_and_unknown_numbers_get_identical_answers() {
    let h = harness().await;
    h.login(PHONE).await;
    let unknown = "+12015550188";
    h.start(unknown).await;
    h.advance(31);
    let known = h.send(co_request(PHONE, "123456")).await;
    let stranger = h.send(co_request("+12015550177", "123456")).await;
    assert_eq!(known.status, stranger.status);
    assert_eq!(known.body, stranger.body);
}

/// Codes that are always the same (to show a decoy's code never logs in, even guessed).
struct Fixed(&'static str);
impl passwordless_tenant::keys::CodeGenerator for Fixed {
    fn generate(&self, _len: usize) -> String {
        self.0.to_string()
    }
}

/// What four wrong codes and then `last` answer for `phone`: (status, body without ids).
async fn tries(h: &Harness, phone: &str, last: &str) -> Vec<(StatusCode, String)> {
    let mut seen = Vec::new();
    h.advance(31);
    let r = h.send(start_request(phone)).await;
    let mut body = r.json();
    body["_id"] = serde_json::Value::Null;
    body["phone_number"] = serde_json::Value::Null;
    seen.push((r.status, body.to_string()));
    for otp in ["000001", "000002", "000003", "000004", last] {
        let r = h.send(co_request(phone, otp)).await;
        seen.push((r.status, String::from_utf8_lossy(&r.body).into_owned()));
    }
    seen
}

#[tokio::test]
async fn with_sign_ups_disabled_unknown_numbers_get_a_decoy_that_answers_as_a_registered_one() {
    let registered = "+12015550168";
    let unknown = "+12015550166";
    let fixed = || Arc::new(Fixed("123456"));
    let open = harness_of(|_| {}, |t| t.with_codes(fixed())).await;
    open.start(registered).await.assert_ok();
    open.send(co_request(registered, "123456"))
        .await
        .assert_ok();
    // Then sign-ups are turned off.
    let h = another_instance(
        &open,
        |c| c.sms.disable_signup = true,
        |t| t.with_codes(fixed()),
    )
    .await;
    // The registered number's code is known to be 123456; so is the decoy's, as the fixed
    // generator makes every code. Both: the same answer, then 403, 403, 403, 429, 429.
    let known = tries(&h, registered, "999999").await;
    let decoy = tries(&h, unknown, "123456").await;
    assert_eq!(known, decoy);
    assert_eq!(
        decoy.iter().map(|(s, _)| s.as_u16()).collect::<Vec<_>>(),
        [200, 403, 403, 403, 429, 429]
    );
    // No SMS was sent for the unknown number (the outbox has only the registered one's)…
    let outbox = h.get("/dev/sms", &[]).await.json();
    assert!(
        outbox
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["to"] != unknown),
        "{outbox}"
    );
    // …and its decoy code, right as it is, never signs anyone up.
    h.advance(31);
    h.send(start_request(unknown)).await.assert_ok();
    let r = h.send(co_request(unknown, "123456")).await;
    assert_eq!(r.error(), (StatusCode::FORBIDDEN, "access_denied".into()));
}

/// `HMAC-SHA256(key, parts…)`, written out here from the documented scheme.
fn hmac_sha256(key: &[u8], parts: &[&str]) -> Vec<u8> {
    assert!(!parts.is_empty());
    use hmac::Mac;
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    for part in parts {
        m.update(part.as_bytes());
    }
    m.finalize().into_bytes().to_vec()
}

/// The secret codes are MACed with.
async fn code_secret(h: &Harness) -> Vec<u8> {
    h.tenant
        .store
        .meta("code_hmac_secret")
        .await
        .unwrap()
        .unwrap()
}

/// Replaces PHONE's code by `code` as an earlier version stored it:
/// `HMAC-SHA256(secret, flow ‖ 0 ‖ phone ‖ 0 ‖ code)`.
async fn store_unsealed(h: &Harness, secret: &[u8], flow: &str, code: &str) {
    let mac = hmac_sha256(secret, &[flow, "\0", PHONE, "\0", code]);
    let now = h.tenant.clock.now();
    h.tenant
        .store
        .put_code(PHONE, "app", flow, &mac, now + 300)
        .await
        .unwrap();
}

#[tokio::test]
async fn codes_are_stored_as_sealed_macs_not_digits() {
    let h = harness().await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let (mac, flow) = stored_bytes_and_text(
        &h.database,
        "SELECT mac, flow_id FROM codes WHERE phone = ?1",
        "SELECT mac, flow_id FROM codes WHERE phone = $1",
        PHONE,
    )
    .await;
    assert!(!String::from_utf8_lossy(&mac).contains(&code));
    assert!(!flow.contains(&code));
    // 1 ‖ HMAC-SHA256(HMAC-SHA256(secret, "code" ‖ 0 ‖ phone ‖ 0 ‖ code), flow): testing a
    // code takes the secret.
    let secret = code_secret(&h).await;
    let candidate = hmac_sha256(&secret, &["code", "\0", PHONE, "\0", &code]);
    let mut sealed = vec![1u8];
    sealed.extend(hmac_sha256(&candidate, &[&flow]));
    assert_eq!(mac, sealed);
}

/// A code an earlier version stored (`HMAC-SHA256(secret, flow ‖ 0 ‖ phone ‖ 0 ‖ code)`, before
/// codes were sealed) still logs in after the upgrade, once, and wrong tries still count on it.
#[tokio::test]
async fn a_code_stored_before_sealing_still_logs_in_once() {
    let h = harness().await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let secret = code_secret(&h).await;
    let flow = "flow-of-the-previous-version";
    store_unsealed(&h, &secret, flow, &code).await;
    let r = h.otp_grant(PHONE, wrong(&code), "openid").await;
    assert_eq!(r.error(), (StatusCode::FORBIDDEN, "invalid_grant".into()));
    let r = h.otp_grant(PHONE, &code, "openid").await;
    r.assert_ok();
    assert!(r.json()["id_token"].is_string());
    let r = h.otp_grant(PHONE, &code, "openid").await;
    assert_eq!(r.error(), (StatusCode::FORBIDDEN, "invalid_grant".into()));
    // Its wrong tries were counted: with otp_max_attempts tries spent, the right code is refused.
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    store_unsealed(&h, &secret, flow, &code).await;
    for _ in 0..h.tenant.config.sms.otp_max_attempts {
        h.otp_grant(PHONE, wrong(&code), "openid").await;
    }
    let r = h.otp_grant(PHONE, &code, "openid").await;
    assert_eq!(
        r.error(),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".into())
    );
}

/// A login's try is counted against its address's hourly failure ceiling before the code is
/// compared, and given back when the code was right: an office behind one address logs in all
/// day. Both ways a code is compared: sealed (in the store) and stored before sealing (by the
/// tenant, then `Store::finish_verification`).
#[tokio::test]
async fn logins_give_back_the_try_they_counted_against_the_addresss_failure_ceiling() {
    let h = harness_with(|c| c.limits.failures_per_ip_per_hour = 2).await;
    let secret = code_secret(&h).await;
    for round in 0..3 {
        h.advance(31);
        h.start(PHONE).await.assert_ok();
        let code = h.latest_code(PHONE).await;
        h.send(co_request(PHONE, &code)).await.assert_ok();
        h.advance(31);
        h.start(PHONE).await.assert_ok();
        let code = h.latest_code(PHONE).await;
        store_unsealed(&h, &secret, &format!("flow-before-sealing-{round}"), &code).await;
        h.otp_grant(PHONE, &code, "openid").await.assert_ok();
    }
    // Six logins later the address still has both of its failures.
    for (i, expected) in [StatusCode::FORBIDDEN, StatusCode::FORBIDDEN]
        .into_iter()
        .enumerate()
    {
        let r = h
            .send(co_request(&format!("+3161234{:04}", 7200 + i), "123456"))
            .await;
        assert_eq!(r.status, expected, "wrong guess {i}");
    }
    let r = h.send(co_request("+31612347300", "123456")).await;
    assert_eq!(
        r.error(),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".into())
    );
}

#[tokio::test]
async fn logs_mask_numbers_and_never_hold_codes_or_tokens() {
    let captured = captured_logs();
    let h = harness().await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    h.send(co_request(PHONE, wrong(&code))).await;
    let p = h.login(PHONE).await;
    h.get(
        "/userinfo",
        &[("authorization", &format!("Bearer {}", p["access_token"]))],
    )
    .await;

    let logs = String::from_utf8(captured.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("+1201*****23"),
        "masked numbers are logged: {logs}"
    );
    assert!(!logs.contains(PHONE), "a full number leaked: {logs}");
    assert!(!logs.contains(&code), "a code leaked: {logs}");
    for secret in [&p["access_token"], &p["id_token"]] {
        let signature = secret.rsplit('.').next().unwrap();
        assert!(!logs.contains(signature), "a token leaked");
    }
}

/// The OTP grant for client `app` with an `audience` and `scope`.
async fn otp_grant_for(h: &Harness, phone: &str, otp: &str, audience: &str, scope: &str) -> Reply {
    h.post(
        "/oauth/token",
        serde_json::json!({"grant_type": OTP_GRANT, "client_id": "app", "username": phone,
                           "otp": otp, "realm": "sms", "scope": scope, "audience": audience}),
        &[],
    )
    .await
}

#[tokio::test]
async fn an_audience_no_api_is_registered_for_is_refused_and_spends_no_code() {
    let h = harness_with(|c| {
        // An API that exists, but not for client `app`.
        c.apis.push(
            toml::from_str(
                r#"identifier = "https://admin.test"
                              clients = ["other"]"#,
            )
            .unwrap(),
        );
    })
    .await;
    h.start(PHONE).await.assert_ok();
    let code = h.latest_code(PHONE).await;
    let r = otp_grant_for(&h, PHONE, &code, "https://unknown.test", "openid").await;
    assert_eq!(r.error(), (StatusCode::FORBIDDEN, "access_denied".into()));
    assert_eq!(
        r.json()["error_description"],
        "Service not found: https://unknown.test"
    );
    let r = otp_grant_for(&h, PHONE, &code, "https://admin.test", "openid").await;
    assert_eq!(r.error(), (StatusCode::FORBIDDEN, "access_denied".into()));
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("not authorized to access"),
        "{}",
        r.json()
    );
    // Neither refusal tried the code: it still logs in, for the API the client may use.
    let r = otp_grant_for(&h, PHONE, &code, API, "openid").await;
    r.assert_ok();
    assert_eq!(
        claims(r.json()["access_token"].as_str().unwrap())["aud"][0],
        API
    );

    // /authorize refuses the same way, before the ticket is spent.
    h.start("+12015550161").await.assert_ok();
    let code = h.latest_code("+12015550161").await;
    let ticket = h.co_authenticate("+12015550161", &code).await.json()["login_ticket"]
        .as_str()
        .unwrap()
        .to_string();
    let authorize = |audience: &'static str| {
        let q = serde_urlencoded::to_string([
            ("client_id", "app"),
            ("response_type", "token id_token"),
            ("redirect_uri", CALLBACK),
            ("state", "s"),
            ("nonce", "n"),
            ("audience", audience),
            ("login_ticket", ticket.as_str()),
        ])
        .unwrap();
        h.get_owned(format!("/authorize?{q}"))
    };
    let r = authorize("https://unknown.test").await;
    let location = r.header("location").unwrap().to_string();
    assert!(location.starts_with(&format!("{CALLBACK}#")), "{location}");
    assert!(location.contains("error=access_denied"), "{location}");
    assert!(location.contains("Service+not+found"), "{location}");
    let r = authorize(API).await;
    let location = r.header("location").unwrap();
    assert!(location.contains("access_token="), "{location}");
}

#[tokio::test]
async fn granted_scopes_are_oidc_ones_and_the_apis_own() {
    let h = harness().await;
    let asked = "openid profile read:orders delete:everything offline_access";
    // With the API: its scope is granted, an undefined one dropped.
    h.start(PHONE).await.assert_ok();
    let code = h.latest_code(PHONE).await;
    let r = otp_grant_for(&h, PHONE, &code, API, asked).await;
    r.assert_ok();
    let body = r.json();
    assert_eq!(body["scope"], "openid profile read:orders offline_access");
    let at = claims(body["access_token"].as_str().unwrap());
    assert_eq!(at["scope"], "openid profile read:orders offline_access");
    // Without an audience: OIDC's scopes only, whatever is asked.
    h.start(PHONE).await.assert_ok();
    let code = h.latest_code(PHONE).await;
    let r = h
        .otp_grant(PHONE, &code, "read:orders profile profile")
        .await;
    r.assert_ok();
    assert_eq!(r.json()["scope"], "openid profile");
}

#[tokio::test]
async fn api_registrations_are_checked_when_the_config_loads() {
    let dir = tempfile::tempdir().unwrap();
    let base = config(dir.path()).await;
    let with = |api: &str| {
        let mut c = base.clone();
        c.apis = vec![toml::from_str(api).unwrap()];
        c.validate().map_err(|e| e.to_string())
    };
    assert!(with(
        r#"identifier = "https://a.test"
                    clients = ["app"]"#
    )
    .is_ok());
    for (api, says) in [
        (
            r#"identifier = "https://a.test"
               clients = ["nobody"]"#,
            "unknown client \"nobody\"",
        ),
        (
            r#"identifier = " https://a.test"
               clients = []"#,
            "without surrounding spaces",
        ),
        (
            r#"identifier = "https://a.test"
               scopes = ["read orders"]
               clients = []"#,
            "not a scope",
        ),
    ] {
        let e = with(api).unwrap_err();
        assert!(e.contains(says), "{api}: {e}");
    }
    let mut twice = base.clone();
    let api: passwordless_tenant::config::ApiConfig = toml::from_str(
        r#"identifier = "https://a.test"
                          clients = []"#,
    )
    .unwrap();
    twice.apis = vec![api.clone(), api];
    assert!(twice
        .validate()
        .unwrap_err()
        .to_string()
        .contains("registered twice"));
}

/// The fragment's error, or "" when the answer carries tokens.
fn authorize_error(r: &Reply) -> String {
    let location = r.header("location").unwrap_or_default();
    let fragment = location.split_once('#').map_or("", |(_, f)| f);
    let p: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(fragment).unwrap();
    assert!(
        p.contains_key("error") || p.contains_key("id_token"),
        "{location}"
    );
    p.get("error").cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_login_ticket_is_redeemed_only_in_the_browser_that_verified_the_code() {
    let h = harness().await;
    h.start(PHONE).await.assert_ok();
    let code = h.latest_code(PHONE).await;
    let r = h.co_authenticate(PHONE, &code).await;
    r.assert_ok();
    let ticket = r.json()["login_ticket"].as_str().unwrap().to_string();
    let set = r
        .header("set-cookie")
        .expect("a binding cookie")
        .to_string();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=120"] {
        assert!(set.contains(attr), "{attr}: {set}");
    }
    assert!(set.starts_with("lpw_co_"), "{set}");
    let bound = h.jar.lock().unwrap().clone();
    assert_eq!(bound.len(), 1);

    // Login CSRF: the ticket sent to another browser (no cookie, or that browser's own).
    h.jar.lock().unwrap().clear();
    assert_eq!(
        authorize_error(&h.authorize(&ticket, CALLBACK).await),
        "access_denied"
    );
    let name = bound[0].split('=').next().unwrap();
    *h.jar.lock().unwrap() = vec![format!("{name}=someone-elses-verifier")];
    assert_eq!(
        authorize_error(&h.authorize(&ticket, CALLBACK).await),
        "access_denied"
    );
    // Neither spent it: in its own browser it logs in, once, and the cookie is cleared.
    *h.jar.lock().unwrap() = bound.clone();
    let r = h.authorize(&ticket, CALLBACK).await;
    assert_eq!(authorize_error(&r), "");
    assert!(
        r.headers.get_all("set-cookie").iter().any(|c| c
            .to_str()
            .unwrap()
            .starts_with(&format!("{name}=;"))
            && c.to_str().unwrap().contains("Max-Age=0")),
        "the binding cookie is cleared"
    );
    *h.jar.lock().unwrap() = bound;
    assert_eq!(
        authorize_error(&h.authorize(&ticket, CALLBACK).await),
        "access_denied"
    );
}

#[tokio::test]
async fn over_https_the_binding_cookie_reaches_the_tenant_from_a_cross_site_page() {
    let h = harness_with(|c| c.tenant.issuer = "https://tenant.test".into()).await;
    h.start(PHONE).await.assert_ok();
    let code = h.latest_code(PHONE).await;
    let r = h.co_authenticate(PHONE, &code).await;
    let set = r.header("set-cookie").unwrap();
    assert!(
        set.contains("SameSite=None") && set.contains("Secure"),
        "{set}"
    );
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
}
