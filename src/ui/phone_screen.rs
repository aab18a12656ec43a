//! Step 1: the country and the phone number, formatted as it is typed.

use leptos::ev;
use leptos::prelude::*;

use super::country_picker::CountryPicker;
use super::{render_rich, submit_button};
use crate::browser;
use crate::hook::Flow;
use crate::i18n::Dictionary;
use crate::machine::Step;
use crate::phone::{self, PhoneNumber};

#[component]
pub(super) fn PhoneScreen(
    flow: Flow,
    config: crate::options::LockConfig,
    dict: Dictionary,
    phone_text: RwSignal<String>,
    region: RwSignal<String>,
    picked: RwSignal<bool>,
) -> impl IntoView {
    let ids = super::Ids::current();
    let invalid = RwSignal::new(false);
    let language = config
        .options
        .language
        .clone()
        .unwrap_or_else(|| "en".into());
    let must_accept = config.options.must_accept_terms;
    let accepted = RwSignal::new(false);
    let terms_missing = RwSignal::new(false);
    // A submit before the fetched phone tables it needs have arrived waits for them (the button
    // shows it is busy), then goes on.
    let arrived = super::tables_arrived();
    let lock = flow.lock();
    let parts_ready = move || {
        lock.as_ref().is_none_or(|lock| {
            super::phone_parts_ready(lock, &phone_text.get_untracked(), &region.get_untracked())
        })
    };
    let waiting = RwSignal::new(false);
    let sending = Memo::new(move |_| flow.step() == Step::Sending || waiting.get());
    let submit =
        move || match PhoneNumber::parse(&phone_text.get_untracked(), &region.get_untracked()) {
            Ok(number) => {
                invalid.set(false);
                if let Some(r) = number.region() {
                    region.set(r.to_string());
                }
                flow.submit_phone(number);
            }
            Err(_) => invalid.set(true),
        };
    let submit_when_ready = parts_ready.clone();
    let on_submit = move |e: ev::SubmitEvent| {
        e.prevent_default();
        if must_accept && !accepted.get_untracked() {
            terms_missing.set(true);
            return;
        }
        if submit_when_ready() {
            submit();
        } else {
            waiting.set(true);
        }
    };
    if cfg!(feature = "fetched-phone-tables") {
        let arrived = arrived.clone();
        Effect::new(move |_| {
            arrived.track();
            if waiting.get_untracked() && parts_ready() {
                waiting.set(false);
                submit();
            }
        });
    }
    // As you type: the region's grouping, the caret after the same digit, and a `+…` or `00…`
    // number switching the country.
    let on_input = move |e: ev::Event| {
        let Some(input) = browser::TextInput::from_event(&e) else {
            return;
        };
        let mut value = input.value.clone();
        let mut keep = phone::significant_before(&value, input.caret);
        let old = phone_text.get_untracked();
        let deleting = input.deleting;
        let count = |t: &str| phone::significant_before(t, usize::MAX);
        if deleting && count(&value) == count(&old) && keep > 0 {
            // Only a space or bracket was deleted: delete the digit before it instead.
            let mut seen = 0;
            value = value
                .chars()
                .filter(|&c| {
                    if phone::is_significant(c) {
                        seen += 1;
                        return seen != keep;
                    }
                    true
                })
                .collect();
            keep -= 1;
        }
        let typed = phone::as_you_type(&value, &region.get_untracked());
        if let Some(r) = typed.region.filter(|r| *r != region.get_untracked()) {
            region.set(r);
            picked.set(true);
        }
        input.set(&typed.text, phone::caret_after(&typed.text, keep));
        phone_text.set(typed.text);
        invalid.set(false);
    };
    let placeholder_dict = dict.clone();
    let placeholder = move || {
        // The example number needs the region's part of the tables: read again when one arrives.
        arrived.track();
        phone::country(&region.get())
            .and_then(|c| c.example())
            .unwrap_or_else(|| placeholder_dict.text("phoneNumberInputPlaceholder"))
    };
    let invalid_text = dict.text("error.passwordless.bad.phone_number");
    let terms_text = dict.text("signUpTerms");
    let terms_error = dict.text("error.signUp.social_signup_needs_terms_acception");
    let show_terms = config.options.show_terms || must_accept;
    view! {
        <form class="lpw-body" on:submit=on_submit novalidate>
            <p class="lpw-instructions">{render_rich(&dict.text("passwordlessSMSInstructions"))}</p>
            <CountryPicker region=region picked=picked language=language
                label=dict.text("countryLabel") search_label=dict.text("countrySearchLabel")
                empty_text=dict.text("countryNoMatch")/>
            <label class="lpw-label" for=ids.id("phone")>{dict.text("phoneNumberInputLabel")}</label>
            <input id=ids.id("phone") class="lpw-input" type="tel" name="phone" autocomplete="tel"
                placeholder=placeholder
                aria-invalid=move || invalid.get().to_string()
                aria-describedby=ids.id("phone-error")
                prop:value=move || phone_text.get()
                on:input=on_input/>
            <p id=ids.id("phone-error") class="lpw-field-error" role="alert">
                {move || invalid.get().then(|| invalid_text.clone())}
            </p>
            {show_terms.then(|| if must_accept {
                view! {
                    <label class="lpw-terms lpw-terms--accept">
                        <input type="checkbox" id=ids.id("terms-accept")
                            on:change=move |e| { accepted.set(event_target_checked(&e)); terms_missing.set(false); }/>
                        <span>{render_rich(&terms_text)}</span>
                    </label>
                    <p class="lpw-field-error" role="alert">{move || terms_missing.get().then(|| terms_error.clone())}</p>
                }.into_any()
            } else {
                view! { <p class="lpw-terms">{render_rich(&terms_text)}</p> }.into_any()
            })}
            {submit_button(config.options.theme.labeled_submit_button, sending, dict.text("submitLabel"), dict.text("sendingLabel"))}
        </form>
    }
    .into_any()
}
