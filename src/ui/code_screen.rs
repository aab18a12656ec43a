//! Step 2: the code from the SMS (typed, pasted, or read by WebOTP).

use leptos::ev;
use leptos::prelude::*;

use super::submit_button;
use crate::browser;
use crate::hook::Flow;
use crate::i18n::Dictionary;
use crate::machine::Step;
use crate::otp::OtpCode;

/// Digits only (full-width ones too), at most `max`.
fn digits_of(text: &str, max: usize) -> String {
    text.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            _ => None,
        })
        .take(max)
        .collect()
}

#[component]
pub(super) fn CodeScreen(
    flow: Flow,
    config: crate::options::LockConfig,
    dict: Dictionary,
    code_text: RwSignal<String>,
) -> impl IntoView {
    let ids = super::Ids::current();
    let verifying = Memo::new(move |_| flow.step() == Step::Verifying);
    let phone = untrack(|| flow.phone())
        .map(|p| p.international().to_string())
        .unwrap_or_default();
    let length = config.options.code_length;
    let auto_submit = config.options.auto_submit_code;
    let format_error = RwSignal::new(false);
    let webotp = StoredValue::new(browser::Abort::new());
    let abort_webotp = move || webotp.with_value(browser::Abort::abort);
    on_cleanup(abort_webotp);
    let submit = move || match OtpCode::parse(&code_text.get_untracked(), length) {
        Ok(code) => {
            format_error.set(false);
            abort_webotp();
            flow.submit_code(code);
        }
        Err(_) => format_error.set(true),
    };
    let on_submit = move |e: ev::SubmitEvent| {
        e.prevent_default();
        submit();
    };
    let typed = move |value: String| {
        let digits = digits_of(&value, length);
        let complete = digits.len() == length;
        code_text.set(digits);
        format_error.set(false);
        if complete && auto_submit {
            submit();
        }
    };
    let on_input = move |e: ev::Event| typed(event_target_value(&e));
    // Pasting "123 456" or "123-456" must not be cut short by maxlength.
    let on_paste = move |e: ev::ClipboardEvent| {
        if let Some(text) = e.clipboard_data().and_then(|d| d.get_data("text").ok()) {
            e.prevent_default();
            typed(text);
        }
    };
    webotp.with_value(|abort| browser::web_otp(abort, typed));
    let (resend_action, resend_countdown) =
        (dict.text("resendCodeAction"), dict.text("resendCountdown"));
    let resend_label = move || match flow.resend_in() {
        0 => resend_action.clone(),
        n => crate::i18n::format(&resend_countdown, &[&n.to_string()]),
    };
    let resend_disabled = move || flow.resend_in() > 0 || flow.pending();
    let code_error = dict.format("error.login.lock.code_format", &[&length.to_string()]);
    view! {
        <form class="lpw-body" on:submit=on_submit novalidate>
            <p class="lpw-instructions">{dict.format("passwordlessSMSCodeInstructions", &[&phone])}</p>
            <label class="lpw-label" for=ids.id("code")>{dict.text("codeInputLabel")}</label>
            <input id=ids.id("code") class="lpw-input lpw-code" type="text" name="code"
                inputmode="numeric" autocomplete="one-time-code" maxlength=length.to_string()
                pattern="[0-9]*"
                placeholder=dict.text("codeInputPlaceholder")
                aria-invalid=move || format_error.get().to_string()
                aria-describedby=ids.id("code-error")
                prop:value=move || code_text.get()
                on:input=on_input on:paste=on_paste/>
            <p id=ids.id("code-error") class="lpw-field-error" role="alert">
                {move || format_error.get().then(|| code_error.clone())}
            </p>
            <button type="button" class="lpw-link lpw-resend" disabled=resend_disabled
                on:click=move |_| flow.resend()>
                <span aria-live="polite">{resend_label}</span>
            </button>
            <button type="button" class="lpw-link lpw-different"
                on:click=move |_| { abort_webotp(); flow.back() }>
                {dict.text("useDifferentNumberAction")}
            </button>
            {submit_button(config.options.theme.labeled_submit_button, verifying, dict.text("submitLabel"), dict.text("verifyingLabel"))}
        </form>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::digits_of;

    #[test]
    fn code_input_keeps_digits_only_up_to_the_length() {
        assert_eq!(digits_of("123 - 456", 6), "123456");
        assert_eq!(digits_of("１２３４５６７", 6), "123456");
        assert_eq!(digits_of("12ab", 6), "12");
        assert_eq!(digits_of("98765432", 4), "9876");
    }
}
