//! `use_passwordless`: the widget's behaviour without its UI, for apps that draw their own.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use leptos_passwordless::hook::use_passwordless;
//! use leptos_passwordless::machine::Step;
//! use leptos_passwordless::{phone::PhoneNumber, otp::OtpCode, Lock};
//!
//! #[component]
//! fn MyLogin(lock: Lock) -> impl IntoView {
//!     let flow = use_passwordless(lock);
//!     let number = RwSignal::new(String::new());
//!     let code = RwSignal::new(String::new());
//!     let f = flow.clone();
//!     view! {
//!         <input prop:value=number on:input=move |e| number.set(event_target_value(&e))/>
//!         <button on:click=move |_| {
//!             if let Ok(p) = PhoneNumber::parse(&number.get(), "NL") { f.submit_phone(p) }
//!         }>"Send code"</button>
//!         <p>{move || format!("{:?}", flow.step())}</p>
//!     }
//! }
//! ```

use leptos::prelude::*;

use crate::browser;
use crate::error::LockError;
use crate::lock::{Lock, LockEvent};
use crate::machine::{transition, Effect, Event, State, Step};
use crate::otp::OtpCode;
use crate::phone::PhoneNumber;
use crate::token::Transaction;
use crate::webauth::Completion;

/// Seconds before "Did not get the code?" may send another.
pub const RESEND_SECS: u32 = 30;

/// The flow of one login: reactive state and the actions that move it.
#[derive(Clone)]
pub struct Passwordless {
    lock: Lock,
    state: RwSignal<State>,
    tx: RwSignal<Option<Transaction>>,
    resend_in: RwSignal<u32>,
}

/// Drives a login with `lock`'s configuration and events, without any UI.
pub fn use_passwordless(lock: Lock) -> Passwordless {
    Passwordless {
        lock,
        state: RwSignal::new(State::default()),
        tx: RwSignal::new(None),
        resend_in: RwSignal::new(0),
    }
}

impl Passwordless {
    /// The step (reactive).
    pub fn step(&self) -> Step {
        self.state.with(|s| s.step.clone())
    }

    /// The last error, cleared by the next action (reactive).
    pub fn error(&self) -> Option<LockError> {
        self.state.with(|s| s.error.clone())
    }

    /// The number the code went to (reactive).
    pub fn phone(&self) -> Option<PhoneNumber> {
        self.state.with(|s| s.phone.clone())
    }

    /// Whether a request is in flight (reactive).
    pub fn pending(&self) -> bool {
        self.state.with(|s| {
            matches!(
                s.step,
                Step::Sending | Step::Resending | Step::Verifying | Step::Redirecting
            )
        })
    }

    /// Seconds until [`Passwordless::resend`] is allowed (reactive).
    pub fn resend_in(&self) -> u32 {
        self.resend_in.get()
    }

    /// Sends a code to `phone`.
    pub fn submit_phone(&self, phone: PhoneNumber) {
        self.dispatch(Event::SubmitPhone(phone));
    }

    /// Checks `code` and finishes the login.
    pub fn submit_code(&self, code: OtpCode) {
        self.dispatch(Event::SubmitCode(code));
    }

    /// Back to the phone step; the number is kept.
    pub fn back(&self) {
        self.dispatch(Event::Back);
    }

    /// Sends another code to the same number once the countdown is over.
    pub fn resend(&self) {
        if self.resend_in.get_untracked() == 0 {
            self.dispatch(Event::Resend);
        }
    }

    fn dispatch(&self, event: Event) {
        let (next, effects) = transition(&self.state.get_untracked(), event);
        self.state.set(next);
        for effect in effects {
            self.run(effect);
        }
    }

    fn start_countdown(&self) {
        self.start_countdown_from(RESEND_SECS);
    }

    fn start_countdown_from(&self, secs: u32) {
        let running = self.resend_in.get_untracked() > 0;
        self.resend_in.set(secs);
        if running {
            return;
        }
        let left = self.resend_in;
        wasm_bindgen_futures::spawn_local(async move {
            while left.get_untracked() > 0 {
                browser::sleep_ms(1000).await;
                left.update(|s| *s = s.saturating_sub(1));
            }
        });
    }

    fn run(&self, effect: Effect) {
        let flow = self.clone();
        match effect {
            Effect::Emit(name) => self.lock.emit(&LockEvent::Screen(name)),
            Effect::SendCode(phone) => wasm_bindgen_futures::spawn_local(async move {
                let result = flow
                    .lock
                    .auth()
                    // The SMS speaks the widget's language when one is chosen.
                    .passwordless_start(
                        &phone,
                        &flow
                            .lock
                            .config()
                            .options
                            .language
                            .clone()
                            .unwrap_or_else(browser::language),
                    )
                    .await;
                flow.dispatch(match result {
                    Ok(tx) => {
                        flow.tx.set(Some(tx));
                        flow.start_countdown();
                        Event::CodeSent
                    }
                    Err(e) => {
                        // Honour the server's Retry-After before another code can be asked for.
                        if let Some(wait) = e.retry_after() {
                            flow.start_countdown_from(wait);
                        }
                        Event::SendFailed(e)
                    }
                });
            }),
            Effect::VerifyCode(phone, code) => wasm_bindgen_futures::spawn_local(async move {
                let Some(tx) = flow.tx.get_untracked() else {
                    return flow.dispatch(Event::VerifyFailed(LockError::InvalidToken(
                        "no pending login".into(),
                    )));
                };
                match flow
                    .lock
                    .auth()
                    .passwordless_login(&tx, &phone, &code)
                    .await
                {
                    Ok(Completion::Redirecting) => {
                        flow.dispatch(Event::Completed { redirecting: true })
                    }
                    Ok(Completion::Authenticated(result)) => {
                        flow.dispatch(Event::Completed { redirecting: false });
                        flow.lock.emit(&LockEvent::Authenticated(*result));
                        if flow.lock.config().options.autoclose {
                            // Long enough to read "Thanks for logging in."
                            browser::sleep_ms(1200).await;
                            flow.lock.hide();
                        }
                    }
                    // Untrustworthy answers end the login, as Lock's authorization_error does.
                    Err(e @ (LockError::InvalidToken(_) | LockError::Timeout(_))) => {
                        flow.lock
                            .emit(&LockEvent::AuthorizationError(crate::lock::AuthError {
                                error: e.code().to_string(),
                                error_description: e.description(),
                            }));
                        flow.dispatch(Event::VerifyFailed(e));
                    }
                    Err(e) => flow.dispatch(Event::VerifyFailed(e)),
                }
            }),
        }
    }
}
