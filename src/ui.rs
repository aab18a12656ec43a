//! The default UI: a modal over the flow machine.

use leptos::ev;
use leptos::prelude::*;

use crate::browser;
use crate::hook::{use_passwordless, Passwordless};
use crate::i18n::{format, text};
use crate::lock::{Lock, LockEvent};
use crate::machine::Step;
use crate::otp::{OtpCode, DEFAULT_CODE_LENGTH};
use crate::phone::{self, PhoneNumber};

const STYLE_ID: &str = "lpw-style";
const STYLE: &str = include_str!("../style/lock.css");

/// Adds the widget's stylesheet to the document once.
fn inject_style() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if doc.get_element_by_id(STYLE_ID).is_some() {
        return;
    }
    if let (Ok(style), Some(head)) = (doc.create_element("style"), doc.head()) {
        style.set_id(STYLE_ID);
        style.set_text_content(Some(STYLE));
        let _ = head.append_child(&style);
    }
}

/// The login widget: a modal shown by [`Lock::show`].
///
/// Mount it once; it renders nothing while the lock is hidden.
#[component]
pub fn LockPasswordless(
    /// The widget instance to render.
    lock: Lock,
) -> impl IntoView {
    inject_style();
    let open = {
        let lock = lock.clone();
        move || lock.is_open()
    };
    view! {
        <Show when=open>
            <Modal lock=lock.clone()/>
        </Show>
    }
}

#[component]
fn Modal(lock: Lock) -> impl IntoView {
    let flow = use_passwordless(lock.clone());
    let closable = lock.config().options.closable;
    let close = {
        let lock = lock.clone();
        move || {
            if closable {
                lock.hide();
            }
        }
    };
    let close_on_esc = close.clone();
    let on_keydown = move |e: ev::KeyboardEvent| {
        if e.key() == "Escape" {
            close_on_esc();
        }
    };
    lock.emit(&LockEvent::Screen("socialOrPhoneNumber ready"));

    // Typed values live here, above the screens, so errors and "back" never lose them.
    let phone_text = RwSignal::new(String::new());
    let region = RwSignal::new(
        browser::language_region()
            .filter(|r| phone::country(r).is_some())
            .unwrap_or_else(|| "US".into()),
    );
    let code_text = RwSignal::new(String::new());

    let banner_flow = flow.clone();
    let banner = move || {
        banner_flow.error().map(|e| {
            view! { <div class="lpw-banner lpw-banner--error" role="alert">{text(e.dictionary_key()).to_string()}</div> }
        })
    };
    let back_flow = flow.clone();
    let screen_flow = flow.clone();
    let step_flow = flow.clone();
    // A memo, so a screen is rebuilt only when the step changes (not on every state update).
    let step = Memo::new(move |_| step_flow.step());
    let screen = move || match step.get() {
        Step::Phone | Step::Sending => {
            view! { <PhoneScreen flow=screen_flow.clone() phone_text region/> }.into_any()
        }
        Step::Code | Step::Resending | Step::Verifying => {
            view! { <CodeScreen flow=screen_flow.clone() code_text/> }.into_any()
        }
        Step::Redirecting => {
            view! { <p class="lpw-status" role="status">{text("redirectingLabel")}</p> }.into_any()
        }
        Step::Done => {
            view! { <p class="lpw-status lpw-success" role="status">{text("success.logIn")}</p> }
                .into_any()
        }
    };
    let show_back = move || step.get() == Step::Code;
    view! {
        <div class="lpw-root">
            <div class="lpw-overlay"></div>
            <div class="lpw-modal" role="dialog" aria-modal="true" aria-labelledby="lpw-title" on:keydown=on_keydown>
                <header class="lpw-header">
                    <Show when=show_back>
                        <button type="button" class="lpw-back" aria-label=text("backLabel")
                            on:click={
                                let f = back_flow.clone();
                                move |_| f.back()
                            }>"←"</button>
                    </Show>
                    <h2 id="lpw-title" class="lpw-title">{text("title")}</h2>
                    <Show when=move || closable>
                        <button type="button" class="lpw-close" aria-label=text("closeLabel")
                            on:click={
                                let close = close.clone();
                                move |_| close()
                            }>"×"</button>
                    </Show>
                </header>
                <div aria-live="polite">{banner}</div>
                {screen}
            </div>
        </div>
    }
}

#[component]
fn PhoneScreen(
    flow: Passwordless,
    phone_text: RwSignal<String>,
    region: RwSignal<String>,
) -> impl IntoView {
    let countries: Vec<_> = {
        let mut list: Vec<(phone::Country, String)> = phone::countries()
            .into_iter()
            .map(|c| {
                let name = browser::country_name(&c.code).unwrap_or_else(|| c.code.clone());
                (c, name)
            })
            .collect();
        list.sort_by(|a, b| a.1.cmp(&b.1));
        list
    };
    let invalid = RwSignal::new(false);
    let step_flow = flow.clone();
    let sending = Memo::new(move |_| step_flow.step() == Step::Sending);
    let submit_flow = flow.clone();
    let on_submit = move |e: ev::SubmitEvent| {
        e.prevent_default();
        match PhoneNumber::parse(&phone_text.get_untracked(), &region.get_untracked()) {
            Ok(number) => {
                invalid.set(false);
                if let Some(r) = number.region() {
                    region.set(r.to_string());
                }
                submit_flow.submit_phone(number);
            }
            Err(_) => invalid.set(true),
        }
    };
    let placeholder = move || {
        phone::country(&region.get())
            .and_then(|c| c.example())
            .unwrap_or_else(|| text("phoneNumberInputPlaceholder").to_string())
    };
    view! {
        <form class="lpw-body" on:submit=on_submit novalidate>
            <p class="lpw-instructions">{text("passwordlessSMSInstructions")}</p>
            <label class="lpw-label" for="lpw-country">{text("countryLabel")}</label>
            <select id="lpw-country" class="lpw-select" name="country"
                on:change=move |e| region.set(event_target_value(&e))>
                {countries.into_iter().map(|(c, name)| {
                    let code = c.code.clone();
                    let selected = move || region.get() == code;
                    view! {
                        <option value=c.code.clone() selected=selected>
                            {format!("{} {} +{}", c.flag(), name, c.dial_code)}
                        </option>
                    }
                }).collect_view()}
            </select>
            <label class="lpw-label" for="lpw-phone">{text("phoneNumberInputLabel")}</label>
            <input id="lpw-phone" class="lpw-input" type="tel" name="phone" autocomplete="tel"
                placeholder=placeholder
                aria-invalid=move || invalid.get().to_string()
                aria-describedby="lpw-phone-error"
                prop:value=move || phone_text.get()
                on:input=move |e| { phone_text.set(event_target_value(&e)); invalid.set(false); }/>
            <p id="lpw-phone-error" class="lpw-field-error" role="alert">
                {move || invalid.get().then(|| text("error.passwordless.bad.phone_number"))}
            </p>
            <button type="submit" class="lpw-submit" disabled=sending>
                {move || if sending.get() { text("sendingLabel") } else { text("submitLabel") }}
            </button>
        </form>
    }
}

#[component]
fn CodeScreen(flow: Passwordless, code_text: RwSignal<String>) -> impl IntoView {
    let step_flow = flow.clone();
    let verifying = Memo::new(move |_| step_flow.step() == Step::Verifying);
    let phone = flow
        .phone()
        .map(|p| p.international().to_string())
        .unwrap_or_default();
    let resend_flow = flow.clone();
    let countdown_flow = flow.clone();
    let resend_label = move || match countdown_flow.resend_in() {
        0 => text("resendCodeAction").to_string(),
        n => format(text("resendCountdown"), &[&n.to_string()]),
    };
    let resend_flow2 = flow.clone();
    let resend_disabled = move || resend_flow2.resend_in() > 0 || resend_flow2.pending();
    let format_error = RwSignal::new(false);
    let submit_flow = flow.clone();
    let on_submit = move |e: ev::SubmitEvent| {
        e.prevent_default();
        match OtpCode::parse(&code_text.get_untracked(), DEFAULT_CODE_LENGTH) {
            Ok(code) => {
                format_error.set(false);
                submit_flow.submit_code(code);
            }
            Err(_) => format_error.set(true),
        }
    };
    view! {
        <form class="lpw-body" on:submit=on_submit novalidate>
            <p class="lpw-instructions">{format(text("passwordlessSMSCodeInstructions"), &[&phone])}</p>
            <label class="lpw-label" for="lpw-code">{text("codeInputLabel")}</label>
            <input id="lpw-code" class="lpw-input lpw-code" type="text" name="code"
                inputmode="numeric" autocomplete="one-time-code"
                placeholder=text("codeInputPlaceholder")
                aria-invalid=move || format_error.get().to_string()
                aria-describedby="lpw-code-error"
                prop:value=move || code_text.get()
                on:input=move |e| { code_text.set(event_target_value(&e)); format_error.set(false); }/>
            <p id="lpw-code-error" class="lpw-field-error" role="alert">
                {move || format_error.get().then(|| format(text("error.login.lock.code_format"), &[&DEFAULT_CODE_LENGTH.to_string()]))}
            </p>
            <button type="button" class="lpw-link lpw-resend" disabled=resend_disabled
                on:click=move |_| resend_flow.resend()>
                <span aria-live="polite">{resend_label}</span>
            </button>
            <button type="submit" class="lpw-submit" disabled=verifying>
                {move || if verifying.get() { text("verifyingLabel") } else { text("submitLabel") }}
            </button>
        </form>
    }
}
