//! Browser tests (wasm-bindgen-test in headless Chromium): WebCrypto, per-tab storage and the
//! mounted widget. Native `cargo test` skips this file.
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use leptos_passwordless::json::Json;
use leptos_passwordless::token::{self, Expected, Transaction};
use leptos_passwordless::{browser, Lock, LockConfig, LockOptions, LockPasswordless};
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A token and JWKS signed by the tenant's own code (`tests/fixtures/rs256.json`).
fn fixture() -> Json {
    Json::parse(include_str!("fixtures/rs256.json")).unwrap()
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
        at_hash_required: false,
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
    lock.assume_sms_enabled();
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
    let picker: web_sys::HtmlElement = query("#lpw-country").unwrap().unchecked_into();
    picker.click();
    tick().await;
    assert!(
        query("#lpw-country-NL[role=option]").is_some(),
        "every region is offered"
    );
    picker.click();
    tick().await;

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

fn mount(options_json: &str) -> Lock {
    let config = LockConfig::from_json("app", "http://127.0.0.1:9", options_json).unwrap();
    let lock = Lock::new(config);
    lock.assume_sms_enabled();
    let mounted = lock.clone();
    leptos::mount::mount_to_body(move || view! { <LockPasswordless lock=mounted.clone()/> });
    lock
}

fn active_id() -> String {
    web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .active_element()
        .map(|e| e.id())
        .unwrap_or_default()
}

fn press(target: &web_sys::Element, key: &str, shift: bool) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_shift_key(shift);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    target.dispatch_event(&event).unwrap();
}

#[wasm_bindgen_test]
async fn focus_moves_in_is_trapped_and_returns() {
    let document = web_sys::window().unwrap().document().unwrap();
    let opener: web_sys::HtmlElement = document.create_element("button").unwrap().unchecked_into();
    opener.set_id("opener");
    document.body().unwrap().append_child(&opener).unwrap();
    opener.focus().unwrap();
    let lock = mount("{}");
    lock.show();
    tick().await;
    tick().await;
    assert_eq!(active_id(), "lpw-phone", "autofocus on the phone input");
    let dialog = query("[role=dialog]").unwrap();
    // Tab from the last control wraps to the first; Shift+Tab from the first wraps to the last.
    let close: web_sys::HtmlElement = query(".lpw-close").unwrap().unchecked_into();
    let submit: web_sys::HtmlElement = query(".lpw-submit").unwrap().unchecked_into();
    submit.focus().unwrap();
    press(&submit, "Tab", false);
    assert_eq!(
        document.active_element().unwrap(),
        close.clone().unchecked_into::<web_sys::Element>(),
        "wrapped to the first"
    );
    press(&close, "Tab", true);
    assert_eq!(
        document.active_element().unwrap(),
        submit.clone().unchecked_into::<web_sys::Element>(),
        "wrapped to the last"
    );
    press(&dialog, "Escape", false);
    tick().await;
    assert!(query("[role=dialog]").is_none(), "Esc closes");
    assert_eq!(active_id(), "opener", "focus is back where it was");
    opener.remove();
}

#[wasm_bindgen_test]
async fn inline_mode_is_a_region_that_cannot_close_or_steal_focus() {
    let lock = mount(r#"{"container":"anywhere"}"#);
    lock.show();
    tick().await;
    let region = query(".lpw-inline [role=region]").expect("an inline region");
    assert!(query(".lpw-inline .lpw-overlay").is_none());
    assert!(query(".lpw-inline .lpw-close").is_none(), "not closable");
    press(&region, "Escape", false);
    tick().await;
    assert!(
        query(".lpw-inline [role=region]").is_some(),
        "Esc does nothing inline"
    );
    assert_ne!(active_id(), "lpw-anywhere-phone", "no autofocus inline");
    lock.hide();
    tick().await;
}

#[wasm_bindgen_test]
async fn theme_terms_prefill_flash_and_dictionary_apply() {
    let lock = mount(
        r##"{"theme":{"logo":"https://example.test/logo.svg","primaryColor":"#ff0066","labeledSubmitButton":false},
            "prefill":{"phoneNumber":"+44 7400 123456"},"mustAcceptTerms":true,
            "languageDictionary":{"title":"Welkom","signUpTerms":"I accept the <a href=\"https://example.test/tos\">terms</a> <img src=x>"}}"##,
    );
    lock.show_with(
        leptos_passwordless::options::ShowOptions::from_json(
            r#"{"flashMessage":{"type":"info","text":"<b>Hello</b>"}}"#,
        )
        .unwrap(),
    );
    tick().await;
    assert_eq!(
        query(".lpw-title").unwrap().text_content().unwrap(),
        "Welkom"
    );
    assert_eq!(
        query(".lpw-logo").unwrap().get_attribute("src").as_deref(),
        Some("https://example.test/logo.svg")
    );
    let root: web_sys::HtmlElement = query(".lpw-root").unwrap().unchecked_into();
    assert_eq!(
        root.style()
            .get_property_value("--lpw-primary")
            .unwrap()
            .trim(),
        "#ff0066"
    );
    let submit = query(".lpw-submit").unwrap();
    assert_eq!(
        submit.get_attribute("aria-label").as_deref(),
        Some("Submit"),
        "an arrow button keeps a label"
    );
    let banner = query(".lpw-banner--info").unwrap();
    assert_eq!(
        banner.text_content().unwrap(),
        "<b>Hello</b>",
        "flash messages are text"
    );
    let link = query(".lpw-terms a").expect("the terms link");
    assert_eq!(
        link.get_attribute("href").as_deref(),
        Some("https://example.test/tos")
    );
    assert!(query(".lpw-terms img").is_none(), "other markup stays text");
    let phone: web_sys::HtmlInputElement = query("#lpw-phone").unwrap().unchecked_into();
    assert_eq!(phone.value(), "+44 7400 123456");
    assert_eq!(
        query("#lpw-country")
            .unwrap()
            .get_attribute("value")
            .as_deref(),
        Some("GB"),
        "the prefilled number picks its country"
    );

    let form: web_sys::HtmlFormElement = query(".lpw-body").unwrap().unchecked_into();
    form.request_submit().unwrap();
    tick().await;
    assert!(query(".lpw-terms--accept + .lpw-field-error")
        .unwrap()
        .text_content()
        .unwrap()
        .contains("agree"));
    assert!(
        query("#lpw-code").is_none(),
        "no code is sent before the terms are accepted"
    );
    lock.hide();
    tick().await;
}

fn type_into(input: &web_sys::HtmlInputElement, value: &str, caret: u32, input_type: &str) {
    input.set_value(value);
    input.set_selection_range(caret, caret).unwrap();
    let init = web_sys::InputEventInit::new();
    init.set_input_type(input_type);
    init.set_bubbles(true);
    let event = web_sys::InputEvent::new_with_event_init_dict("input", &init).unwrap();
    input.dispatch_event(&event).unwrap();
}

#[wasm_bindgen_test]
async fn the_country_pane_searches_and_answers_the_keyboard() {
    let lock = mount(r#"{"defaultLocation":"NL"}"#);
    lock.show();
    tick().await;
    let picker: web_sys::HtmlElement = query("#lpw-country").unwrap().unchecked_into();
    assert_eq!(picker.get_attribute("value").as_deref(), Some("NL"));
    assert!(picker.text_content().unwrap().contains("+31"));
    picker.click();
    tick().await;
    assert_eq!(
        picker.get_attribute("aria-expanded").as_deref(),
        Some("true")
    );
    assert_eq!(
        active_id(),
        "lpw-country-search",
        "the search field takes focus"
    );
    let search: web_sys::HtmlInputElement = query("#lpw-country-search").unwrap().unchecked_into();
    let options = || {
        let list = web_sys::window()
            .unwrap()
            .document()
            .unwrap()
            .query_selector_all("#lpw-country-list [role=option]")
            .unwrap();
        (0..list.length())
            .map(|i| {
                list.item(i)
                    .unwrap()
                    .unchecked_into::<web_sys::Element>()
                    .id()
            })
            .collect::<Vec<_>>()
    };
    // By dial code, by ISO code, by the start of a word of the name.
    for (query_text, expect) in [
        ("+44", "lpw-country-GB"),
        ("de", "lpw-country-DE"),
        ("zealand", "lpw-country-NZ"),
    ] {
        type_into(&search, query_text, query_text.len() as u32, "insertText");
        tick().await;
        assert!(
            options().contains(&expect.to_string()),
            "{query_text}: {:?}",
            options()
        );
    }
    type_into(&search, "+35", 3, "insertText");
    tick().await;
    let found = options();
    assert!(
        found.len() > 1 && found.iter().all(|id| id != "lpw-country-NL"),
        "{found:?}"
    );
    // Arrow down moves the active option; Enter picks it and closes the pane.
    press(&search, "ArrowDown", false);
    tick().await;
    assert_eq!(
        search.get_attribute("aria-activedescendant"),
        Some(found[1].clone())
    );
    press(&search, "Enter", false);
    tick().await;
    assert!(query("#lpw-country-search").is_none(), "the pane closed");
    let picked = found[1].trim_start_matches("lpw-country-").to_string();
    assert_eq!(picker.get_attribute("value"), Some(picked));
    assert_eq!(active_id(), "lpw-country");
    // Esc closes the pane, not the login box.
    picker.click();
    tick().await;
    press(&query("#lpw-country-search").unwrap(), "Escape", false);
    tick().await;
    assert!(query("#lpw-country-search").is_none());
    assert!(query("[role=dialog]").is_some(), "the modal stays open");
    lock.hide();
    tick().await;
}

#[wasm_bindgen_test]
async fn the_phone_field_formats_as_you_type_and_a_plus_picks_the_country() {
    let lock = mount(r#"{"defaultLocation":"US"}"#);
    lock.show();
    tick().await;
    let phone: web_sys::HtmlInputElement = query("#lpw-phone").unwrap().unchecked_into();
    assert_eq!(
        phone.placeholder(),
        "(201) 555-0123",
        "the region's example number"
    );
    type_into(&phone, "2015550", 7, "insertText");
    tick().await;
    assert_eq!(phone.value(), "(201) 555-0");
    assert_eq!(
        phone.selection_start().unwrap(),
        Some(11),
        "caret after the last digit"
    );
    // A digit typed in the middle: the caret stays after it.
    type_into(&phone, "(2019) 555-0", 5, "insertText");
    tick().await;
    assert_eq!(phone.value(), "(201) 955-50");
    assert_eq!(phone.selection_start().unwrap(), Some(7));
    // Backspace over a separator deletes the digit before it.
    type_into(&phone, "(201 955-50", 4, "deleteContentBackward");
    tick().await;
    assert_eq!(phone.value(), "(209) 555-0");
    assert_eq!(phone.selection_start().unwrap(), Some(3), "where the 1 was");
    // Pasting an international number switches the country and keeps it.
    type_into(&phone, "+44 (0)20 7946-0958", 19, "insertFromPaste");
    tick().await;
    assert_eq!(
        query("#lpw-country")
            .unwrap()
            .get_attribute("value")
            .as_deref(),
        Some("GB")
    );
    assert_eq!(phone.placeholder(), "07400 123456");
    lock.hide();
    tick().await;
}

#[wasm_bindgen_test]
async fn without_a_client_configuration_the_widget_says_so_and_offers_no_form() {
    // Nothing listens at this tenant: the configuration script cannot load.
    let config = LockConfig::new("app", "http://127.0.0.1:9", LockOptions::default()).unwrap();
    let lock = Lock::new(config);
    let errors = std::rc::Rc::new(std::cell::RefCell::new(Vec::<String>::new()));
    let seen = send_wrapper::SendWrapper::new(errors.clone());
    lock.on("unrecoverable_error", move |e| {
        seen.borrow_mut().push(format!("{e:?}"));
    })
    .unwrap();
    let mounted = lock.clone();
    leptos::mount::mount_to_body(move || view! { <LockPasswordless lock=mounted.clone()/> });
    lock.show();
    tick().await;
    for _ in 0..100 {
        if !errors.borrow().is_empty() {
            break;
        }
        tick().await;
    }
    assert!(
        errors
            .borrow()
            .iter()
            .any(|e| e.contains("client configuration")),
        "{:?}",
        errors.borrow()
    );
    tick().await;
    assert!(query("#lpw-phone").is_none(), "no form to fill in vain");
    assert!(query(".lpw-status[role=alert]").is_some());
    lock.hide();
    tick().await;
}

/// A same-origin page (a blob: URL) that posts an `authorization_response` for `state` to its
/// parent after `delay_ms`, marked `which`.
fn answering_page(which: &str, state: &str, delay_ms: u32) -> String {
    let make = js_sys::Function::new_with_args(
        "which, state, delay",
        "const html = '<script>setTimeout(function () { parent.postMessage({type: \"authorization_response\", \
         response: {state: ' + JSON.stringify(state) + ', which: ' + JSON.stringify(which) + '}}, \"*\"); }, ' + delay + ');<' + '/script>';\
         return URL.createObjectURL(new Blob([html], {type: 'text/html'}));",
    );
    make.call3(
        &wasm_bindgen::JsValue::NULL,
        &which.into(),
        &state.into(),
        &delay_ms.into(),
    )
    .unwrap()
    .as_string()
    .unwrap()
}

#[wasm_bindgen_test]
async fn web_message_takes_the_answer_only_from_the_iframe_it_opened() {
    let window = web_sys::window().unwrap();
    let origin = window.location().origin().unwrap();
    // Another frame of the same origin answers first with the right state, and so does the page
    // itself; the iframe web_message opens answers last.
    let forged = answering_page("forged frame", "S-13", 0);
    let plant = js_sys::Function::new_with_args(
        "url",
        "const f = document.createElement('iframe'); f.src = url; document.body.appendChild(f);\
         window.postMessage({type: 'authorization_response', response: {state: 'S-13', which: 'page'}}, '*');",
    );
    plant
        .call1(&wasm_bindgen::JsValue::NULL, &forged.into())
        .unwrap();
    let real = answering_page("its iframe", "S-13", 500);
    let answer = browser::web_message(&real, &origin, "S-13", 5000)
        .await
        .unwrap()
        .expect("an answer in time");
    assert_eq!(Json::parse(&answer).unwrap()["which"], "its iframe");
}

#[wasm_bindgen_test]
async fn a_modal_and_an_inline_widget_on_one_page_share_no_element_id() {
    let modal = mount("{}");
    let inline = mount(r#"{"container":"second-box"}"#);
    modal.show();
    inline.show();
    tick().await;
    let ids: Vec<String> = js_sys::Function::new_no_args(
        "return Array.from(document.querySelectorAll('[id]'), function (e) { return e.id; });",
    )
    .call0(&wasm_bindgen::JsValue::NULL)
    .unwrap()
    .unchecked_into::<js_sys::Array>()
    .iter()
    .filter_map(|v| v.as_string())
    .collect();
    for id in [
        "lpw-phone",
        "lpw-title",
        "lpw-second-box-phone",
        "lpw-second-box-title",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
    }
    let mut seen = std::collections::HashSet::new();
    let twice: Vec<&String> = ids.iter().filter(|i| !seen.insert(*i)).collect();
    assert!(twice.is_empty(), "duplicate IDs: {twice:?}");
    // What the IDs tie together still resolves inside each widget.
    let labelled = query("#lpw-second-box-phone")
        .unwrap()
        .get_attribute("aria-describedby")
        .unwrap();
    assert_eq!(labelled, "lpw-second-box-phone-error");
    modal.hide();
    inline.hide();
    tick().await;
}

/// The stylesheet the widget compiles in (and the JS bundle ships) is `style/lock.css` minified
/// by the build script: Chromium reads exactly the same rules from both, and it is smaller.
#[wasm_bindgen_test]
fn the_minified_stylesheet_holds_the_same_rules() {
    let rules = |css: &str| -> Vec<String> {
        let sheet = web_sys::CssStyleSheet::new().unwrap();
        sheet.replace_sync(css).unwrap();
        let list = sheet.css_rules().unwrap();
        (0..list.length())
            .map(|i| list.item(i).unwrap().css_text())
            .collect()
    };
    let original = include_str!("../style/lock.css");
    let minified = include_str!(concat!(env!("OUT_DIR"), "/lock.min.css"));
    let read = rules(original);
    assert!(read.len() > 40, "{} rules read from lock.css", read.len());
    assert_eq!(rules(minified), read);
    assert!(
        minified.len() * 10 < original.len() * 9,
        "{} bytes minified, {} in lock.css",
        minified.len(),
        original.len()
    );
}
