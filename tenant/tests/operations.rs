//! Running a tenant: retention deletes what can no longer be used, on its schedule, and nothing
//! else; behind a load balancer the client's own address is what limits count.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use passwordless_tenant::store::RowCounts;

async fn counts(h: &Harness) -> RowCounts {
    h.tenant.store.row_counts().await.unwrap()
}

/// A login by the OTP grant with a refresh token, a login through `/authorize` (ticket,
/// session, authorization code), and a code sent but never used.
async fn leave_state_behind(h: &Harness) -> String {
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    let r = h.otp_grant(PHONE, &code, "openid offline_access").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["refresh_token"].is_string());
    h.login("+12015550144").await;
    let pending = "+12015550145";
    h.start(pending).await;
    h.latest_code(pending).await
}

#[tokio::test]
async fn the_schedule_purges_everything_expired_and_keeps_users() {
    let h = harness_with(|c| {
        c.clients[0].refresh_tokens = true;
        c.retention.interval_secs = 1;
    })
    .await;
    leave_state_behind(&h).await;
    let before = counts(&h).await;
    for (what, n) in [
        ("codes", before.codes),
        ("tickets", before.tickets),
        ("sessions", before.sessions),
        ("refresh_tokens", before.refresh_tokens),
        ("outbox", before.outbox),
        ("events", before.events),
    ] {
        assert!(n > 0, "{what} has rows before: {before:?}");
    }
    // Past every lifetime: refresh tokens (30 days) are the longest.
    h.advance(31 * 86_400);
    let mut after = counts(&h).await;
    for _ in 0..50 {
        if after.codes
            + after.tickets
            + after.sessions
            + after.refresh_tokens
            + after.outbox
            + after.events
            == 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = counts(&h).await;
    }
    assert_eq!(
        after,
        RowCounts {
            users: before.users,
            ..RowCounts::default()
        },
        "the schedule ran and left only users"
    );
}

#[tokio::test]
async fn a_purge_keeps_what_is_still_usable() {
    let h = harness_with(|c| {
        c.clients[0].refresh_tokens = true;
        c.retention.interval_secs = 0;
    })
    .await;
    let pending_code = leave_state_behind(&h).await;
    let before = counts(&h).await;
    // Nothing has expired yet; used codes and tickets are the only dead rows.
    let purged = h.tenant.purge().await.unwrap();
    assert!(purged.codes >= 2, "the used codes go: {purged:?}");
    assert!(purged.tickets == 0 && purged.sessions == 0 && purged.refresh_tokens == 0);
    let after = counts(&h).await;
    assert_eq!(after.codes, 1, "the unused code stays");
    assert_eq!(after.sessions, before.sessions);
    assert_eq!(after.outbox, before.outbox, "the outbox keeps a day");
    // …and still works.
    let r = h.co_authenticate("+12015550145", &pending_code).await;
    assert_eq!(r.status, StatusCode::OK);
    // A day on, the outbox goes, the session (three days) stays.
    h.advance(86_400);
    let purged = h.tenant.purge().await.unwrap();
    assert_eq!(purged.outbox as i64, before.outbox);
    assert_eq!(counts(&h).await.sessions, before.sessions);
}

/// A send, forwarded for `client` when there is one.
fn send(phone: &str, client: Option<&str>) -> Request<Body> {
    match client {
        Some(ip) => forwarded_for(start_request(phone), ip),
        None => start_request(phone),
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_send_limit() {
    let h = harness_with(|c| {
        c.tenant.trusted_proxies = vec!["10.0.0.0/8".to_string().try_into().unwrap()];
        c.limits.start_per_ip_per_hour = 3;
    })
    .await;
    for i in 0..3 {
        let r = h
            .send_from(
                "10.0.0.1",
                send(&format!("+1201555016{i}"), Some("198.51.100.1")),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let r = h
        .send_from("10.0.0.1", send("+12015550163", Some("198.51.100.1")))
        .await;
    assert_eq!(
        r.error(),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_requests".into())
    );
    // Another client behind the same balancer is not the first one.
    let r = h
        .send_from("10.0.0.2", send("+12015550164", Some("198.51.100.2")))
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn forwarding_headers_from_anyone_else_change_nothing() {
    let h = harness_with(|c| {
        c.tenant.trusted_proxies = vec!["10.0.0.0/8".to_string().try_into().unwrap()];
        c.limits.start_per_ip_per_hour = 3;
    })
    .await;
    for i in 0..3 {
        let spoofed = format!("198.51.100.{i}");
        let r = h
            .send_from(
                "203.0.113.9",
                send(&format!("+1201555017{i}"), Some(&spoofed)),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let r = h
        .send_from("203.0.113.9", send("+12015550173", Some("198.51.100.77")))
        .await;
    assert_eq!(
        r.error(),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_requests".into()),
        "a new X-Forwarded-For from an untrusted peer is not a new client"
    );
}

#[tokio::test]
async fn one_attacker_behind_the_proxy_cannot_block_verification_for_everyone() {
    let h = harness_with(|c| {
        c.tenant.trusted_proxies = vec!["127.0.0.1".to_string().try_into().unwrap()];
        c.limits.failures_per_ip_per_hour = 5;
    })
    .await;
    h.start(PHONE).await;
    let code = h.latest_code(PHONE).await;
    // The attacker's guesses at other numbers use up *its* hourly ceiling.
    for i in 0..6 {
        let other = format!("+1201555018{i}");
        let req = forwarded_for(co_request(&other, "123456"), "198.51.100.66");
        let r = h.send_from("127.0.0.1", req).await;
        let expected = if i < 5 {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(r.status, expected, "guess {i}");
    }
    let r = h
        .send_from(
            "127.0.0.1",
            forwarded_for(co_request(PHONE, &code), "198.51.100.10"),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the real user, another client, logs in"
    );
}

#[tokio::test]
async fn ipv6_clients_share_a_limit_per_64() {
    let h = harness_with(|c| c.limits.start_per_ip_per_hour = 2).await;
    for (i, ip) in ["2001:db8:1:2::1", "2001:db8:1:2:ffff::9"]
        .iter()
        .enumerate()
    {
        let r = h
            .send_from(ip, send(&format!("+1201555019{i}"), None))
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let r = h
        .send_from("2001:db8:1:2:abcd::1", send("+12015550192", None))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "same /64");
    let r = h
        .send_from("2001:db8:1:3::1", send("+12015550193", None))
        .await;
    assert_eq!(r.status, StatusCode::OK, "the next /64 is someone else");
}

/// A JWT access token for the test API from `h`'s login of `phone`.
async fn api_token(h: &Harness, phone: &str) -> String {
    h.start(phone).await.assert_ok();
    let code = h.latest_code(phone).await;
    let r = h
        .post(
            "/oauth/token",
            serde_json::json!({"grant_type": OTP_GRANT, "client_id": "app", "username": phone,
                               "otp": code, "realm": "sms", "audience": API}),
            &[],
        )
        .await;
    r.assert_ok();
    r.json()["access_token"].as_str().unwrap().to_string()
}

fn kid_of(jwt: &str) -> String {
    use base64::Engine;
    let header = jwt.split('.').next().unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    header["kid"].as_str().unwrap().to_string()
}

async fn jwks_kids(h: &Harness) -> Vec<String> {
    h.get("/.well-known/jwks.json", &[]).await.json()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

async fn userinfo_status(h: &Harness, token: &str) -> StatusCode {
    h.get(
        "/userinfo",
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await
    .status
}

#[tokio::test]
async fn a_rotated_signing_key_is_published_before_it_signs_and_old_tokens_still_verify() {
    use passwordless_tenant::keys::{Keys, Promoted};
    let (one, two) = pair_with(|_| {}).await;
    let old = api_token(&one, PHONE).await;
    let old_kid = kid_of(&old);
    assert_eq!(jwks_kids(&one).await, std::slice::from_ref(&old_kid));

    // Step one: the next key is published by every instance once it reloads, and signs nothing.
    let store = &one.tenant.store;
    let next = Keys::publish_next(store, 0).await.unwrap().kid;
    assert_eq!(
        jwks_kids(&two).await.len(),
        1,
        "not before the instance reloads"
    );
    for h in [&one, &two] {
        assert!(h.tenant.reload_keys().await.unwrap());
        assert_eq!(jwks_kids(h).await, [old_kid.clone(), next.clone()]);
    }
    assert_eq!(kid_of(&api_token(&two, "+12015550171").await), old_kid);

    // Step two: it signs; instance two has not reloaded yet and still takes its tokens.
    let promoted = Keys::promote_next(store).await.unwrap();
    assert_eq!(
        promoted,
        Promoted {
            kid: next.clone(),
            previous: old_kid.clone()
        }
    );
    assert!(one.tenant.reload_keys().await.unwrap());
    let new = api_token(&one, "+12015550172").await;
    assert_eq!(kid_of(&new), next);
    assert_eq!(userinfo_status(&two, &new).await, StatusCode::OK);
    assert!(two.tenant.reload_keys().await.unwrap());
    for h in [&one, &two] {
        assert_eq!(jwks_kids(h).await, [next.clone(), old_kid.clone()]);
        assert_eq!(
            userinfo_status(h, &old).await,
            StatusCode::OK,
            "the old key verifies"
        );
        assert_eq!(userinfo_status(h, &new).await, StatusCode::OK);
    }
    // A promotion needs a published next key.
    assert!(Keys::promote_next(store).await.is_err());

    // The rotation after that retires the first key: its tokens no longer verify.
    Keys::publish_next(store, 0).await.unwrap();
    Keys::promote_next(store).await.unwrap();
    assert!(one.tenant.reload_keys().await.unwrap());
    assert_eq!(jwks_kids(&one).await.len(), 2);
    assert!(!jwks_kids(&one).await.contains(&old_kid));
    assert_eq!(userinfo_status(&one, &old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(userinfo_status(&one, &new).await, StatusCode::OK);
}

/// `database_connections` is checked when the config loads and is what the tenant opens its
/// store with (on PostgreSQL the pool's size; SQLite has its one connection either way).
#[tokio::test]
async fn the_database_connections_setting_is_checked_and_used() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path()).await;
    for bad in [0, 1001] {
        c.tenant.database_connections = Some(bad);
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("tenant.database_connections must be 1..=1000"),
            "{bad}: {e}"
        );
    }
    c.tenant.database_connections = Some(2);
    c.validate().unwrap();
    let tenant = passwordless_tenant::Tenant::new(c).await.unwrap();
    let expected = if postgres_server().is_some() { 2 } else { 1 };
    assert_eq!(tenant.store.connections(), expected);
}
