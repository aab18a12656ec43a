//! Browser tests (wasm-bindgen-test in headless Chromium): WebCrypto, per-tab storage and the
//! mounted widget. Native `cargo test` skips this file.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use leptos_passwordless::token::{self, Expected, Transaction};
use leptos_passwordless::{browser, Lock, LockConfig, LockOptions, LockPasswordless};
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A token and JWKS signed by the tenant's own code (`tests/fixtures/rs256.json`).
fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/rs256.json")).unwrap()
}

#[wasm_bindgen_test]
async fn webcrypto_accepts_the_tenants_signature() {
    let f = fixture();
    let jwt = token::decode(f["token"].as_str().unwrap()).unwrap();
    let key = browser::find_key(&f["jwks"], jwt.header["kid"].as_str().unwrap()).unwrap();
    assert_eq!(browser::verify_rs256(key, &jwt).await, Ok(()));
    let e = Expected {
        issuer: "https://fixture.test/",
        client_id: "app",
        nonce: Some("fixture-nonce"),
        access_token: None,
        now: 1_700_000_100,
        leeway: 60,
    };
    assert_eq!(token::validate_claims(&jwt.claims, &e), Ok(()));
}

#[wasm_bindgen_test]
async fn webcrypto_refuses_a_flipped_byte_and_swapped_claims() {
    let f = fixture();
    let original = f["token"].as_str().unwrap();
    let key = browser::find_key(
        &f["jwks"],
        token::decode(original).unwrap().header["kid"]
            .as_str()
            .unwrap(),
    )
    .unwrap()
    .clone();

    let mut jwt = token::decode(original).unwrap();
    jwt.signature[10] ^= 0x01;
    assert_eq!(
        browser::verify_rs256(&key, &jwt).await,
        Err(token::TokenError::Signature)
    );

    // Same signature, claims re-encoded with another subject.
    let parts: Vec<&str> = original.split('.').collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = "sms|attacker".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.to_string()),
        parts[2]
    );
    let jwt = token::decode(&forged).unwrap();
    assert_eq!(
        browser::verify_rs256(&key, &jwt).await,
        Err(token::TokenError::Signature)
    );
}

#[wasm_bindgen_test]
fn transactions_are_read_once() {
    let random = browser::random_bytes::<64>().unwrap();
    assert_ne!(random, [0u8; 64]);
    let tx = Transaction::new(random, "app", "http://cb/", true, browser::now());
    browser::save_transaction(&tx).unwrap();
    assert_eq!(browser::take_transaction(&tx.state), Some(tx.clone()));
    assert_eq!(browser::take_transaction(&tx.state), None);
}

fn query(selector: &str) -> Option<web_sys::Element> {
    web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .query_selector(selector)
        .unwrap()
}

async fn tick() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 20)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

#[wasm_bindgen_test]
async fn the_modal_opens_as_a_labelled_dialog_and_validates_before_sending() {
    let config = LockConfig::new("app", "http://127.0.0.1:9", LockOptions::default()).unwrap();
    let lock = Lock::new(config);
    let mounted = lock.clone();
    leptos::mount::mount_to_body(move || view! { <LockPasswordless lock=mounted.clone()/> });
    assert!(query("[role=dialog]").is_none(), "hidden until show()");
    lock.show();
    tick().await;
    let dialog = query("[role=dialog]").expect("a dialog after show()");
    assert_eq!(dialog.get_attribute("aria-modal").as_deref(), Some("true"));
    let title = query("#lpw-title").unwrap();
    assert_eq!(
        dialog.get_attribute("aria-labelledby").as_deref(),
        Some("lpw-title")
    );
    assert!(!title.text_content().unwrap().is_empty());
    assert!(
        query("#lpw-country option[value=NL]").is_some(),
        "every region is offered"
    );

    let input: web_sys::HtmlInputElement = query("#lpw-phone").unwrap().unchecked_into();
    input.set_value("123");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    let form: web_sys::HtmlFormElement = query(".lpw-body").unwrap().unchecked_into();
    form.request_submit().unwrap();
    tick().await;
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert!(query("#lpw-phone-error")
        .unwrap()
        .text_content()
        .unwrap()
        .contains("invalid"));
    assert!(
        query("#lpw-code").is_none(),
        "no request, still on the phone step"
    );

    lock.hide();
    tick().await;
    assert!(query("[role=dialog]").is_none());
}
