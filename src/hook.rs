//! `use_passwordless`: the widget's behaviour without its UI, for apps that draw their own.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use leptos_passwordless::hook::use_passwordless;
//! use leptos_passwordless::{phone::PhoneNumber, Lock};
//!
//! #[component]
//! fn MyLogin(lock: Lock) -> impl IntoView {
//!     let flow = use_passwordless(lock);
//!     let number = RwSignal::new(String::new());
//!     view! {
//!         <input prop:value=number on:input=move |e| number.set(event_target_value(&e))/>
//!         <button disabled=flow.pending on:click=move |_| {
//!             if let Ok(p) = PhoneNumber::parse(&number.get(), "NL") { flow.submit_phone.run(p) }
//!         }>"Send code"</button>
//!         <p>{move || format!("{:?}", flow.step.get())}</p>
//!     }
//! }
//! ```

use leptos::prelude::*;

use crate::browser;
use crate::error::LockError;
use crate::lock::{Lock, LockEvent};
use crate::machine::{transition, Effect, Event, State, Step};
use crate::otp::OtpCode;
use crate::outcome::AuthError;
use crate::phone::PhoneNumber;
use crate::token::Transaction;
use crate::webauth::Completion;

/// Seconds before "Did not get the code?" may send another.
pub const RESEND_SECS: u32 = 30;

/// What [`use_passwordless`] returns: the login's state as signals and its actions as
/// callbacks. Every field is `Copy`, so it moves into as many closures as a view needs.
#[derive(Clone, Copy)]
pub struct UsePasswordlessReturn {
    /// Where the login is: phone, sending, code, verifying, redirecting, done.
    pub step: Signal<Step>,
    /// The last error, cleared by the next action.
    pub error: Signal<Option<LockError>>,
    /// The number the code went to.
    pub phone: Signal<Option<PhoneNumber>>,
    /// Whether a request is in flight (a second submit is ignored meanwhile).
    pub pending: Signal<bool>,
    /// Seconds until `resend` is allowed (30 after a send, or the tenant's `Retry-After`).
    pub resend_in: Signal<u32>,
    /// Sends a code to this number.
    pub submit_phone: Callback<PhoneNumber>,
    /// Checks this code and finishes the login the way the options say.
    pub submit_code: Callback<OtpCode>,
    /// Back to the phone step; the number is kept.
    pub back: Callback<()>,
    /// Sends another code to the same number, once the countdown is over.
    pub resend: Callback<()>,
}

/// The flow's state, owned by the component that started it: every field is a handle into
/// that component's reactive owner, so once it is cleaned up a late answer, a countdown tick or
/// the autoclose timer finds nothing and does nothing. (The widget's own screens use it
/// directly; [`use_passwordless`] wraps it in signals for apps.)
#[derive(Clone, Copy)]
pub(crate) struct Flow {
    lock: StoredValue<Lock>,
    state: RwSignal<State>,
    tx: RwSignal<Option<Transaction>>,
    resend_in: RwSignal<u32>,
}

/// Drives a login with `lock`'s configuration and events, without any UI.
///
/// Call it inside a component: what it starts (the resend countdown, requests in flight, the
/// autoclose timer) stops or is ignored once that component is cleaned up.
pub fn use_passwordless(lock: Lock) -> UsePasswordlessReturn {
    let flow = Flow::new(lock);
    let state = flow.state;
    UsePasswordlessReturn {
        step: Signal::derive(move || state.with(|s| s.step.clone())),
        error: Signal::derive(move || state.with(|s| s.error.clone())),
        phone: Signal::derive(move || state.with(|s| s.phone.clone())),
        pending: Signal::derive(move || flow.pending()),
        resend_in: flow.resend_in.into(),
        submit_phone: Callback::new(move |phone| flow.submit_phone(phone)),
        submit_code: Callback::new(move |code| flow.submit_code(code)),
        back: Callback::new(move |()| flow.back()),
        resend: Callback::new(move |()| flow.resend()),
    }
}

impl Flow {
    /// A new login for `lock`, owned by the current reactive owner.
    pub(crate) fn new(lock: Lock) -> Self {
        Self {
            lock: StoredValue::new(lock),
            state: RwSignal::new(State::default()),
            tx: RwSignal::new(None),
            resend_in: RwSignal::new(0),
        }
    }

    /// The step (reactive).
    pub(crate) fn step(self) -> Step {
        self.state.with(|s| s.step.clone())
    }

    /// The last error (reactive).
    pub(crate) fn error(self) -> Option<LockError> {
        self.state.with(|s| s.error.clone())
    }

    /// The number the code went to (reactive).
    pub(crate) fn phone(self) -> Option<PhoneNumber> {
        self.state.with(|s| s.phone.clone())
    }

    /// Whether a request is in flight (reactive).
    pub(crate) fn pending(self) -> bool {
        self.state.with(|s| {
            matches!(
                s.step,
                Step::Sending | Step::Resending | Step::Verifying | Step::Redirecting
            )
        })
    }

    /// Seconds until `resend` is allowed (reactive).
    pub(crate) fn resend_in(self) -> u32 {
        self.resend_in.get()
    }

    pub(crate) fn submit_phone(self, phone: PhoneNumber) {
        self.dispatch(Event::SubmitPhone(phone));
    }

    pub(crate) fn submit_code(self, code: OtpCode) {
        self.dispatch(Event::SubmitCode(code));
    }

    pub(crate) fn back(self) {
        self.dispatch(Event::Back);
    }

    /// Keeps `tx` as the pending login and removes the one it replaces from this tab's storage
    /// (a resend makes a new one; back abandons it).
    fn replace_tx(self, tx: Option<Transaction>) {
        let old = self.tx.try_get_untracked().flatten();
        if let Some(old) = old.filter(|o| tx.as_ref().is_none_or(|t| t.state != o.state)) {
            browser::take_transaction(&old.state);
        }
        let _ = self.tx.try_set(tx);
    }

    pub(crate) fn resend(self) {
        if self.resend_in.try_get_untracked() == Some(0) {
            self.dispatch(Event::Resend);
        }
    }

    /// The lock, while the owner lives.
    pub(crate) fn lock(self) -> Option<Lock> {
        self.lock.try_get_value()
    }

    fn alive(self) -> bool {
        self.lock.try_with_value(|_| ()).is_some()
    }

    fn dispatch(self, event: Event) {
        let Some(current) = self.state.try_get_untracked() else {
            return;
        };
        let (next, effects) = transition(&current, event);
        self.state.set(next);
        for effect in effects {
            self.run(effect);
        }
    }

    fn start_countdown(self, secs: u32) {
        let running = self.resend_in.get_untracked() > 0;
        self.resend_in.set(secs);
        if running {
            return;
        }
        let flow = self;
        leptos::task::spawn_local(async move {
            while flow.alive() && flow.resend_in.try_get_untracked().unwrap_or(0) > 0 {
                browser::sleep_ms(1000).await;
                if !flow.alive() {
                    return;
                }
                flow.resend_in.try_update(|s| *s = s.saturating_sub(1));
            }
        });
    }

    fn run(self, effect: Effect) {
        let flow = self;
        let Some(lock) = self.lock() else {
            return;
        };
        match effect {
            Effect::Emit(name) => lock.emit(&LockEvent::Screen(name)),
            Effect::Abandon => flow.replace_tx(None),
            Effect::SendCode(phone) => leptos::task::spawn_local(async move {
                // The SMS speaks the widget's language when one is chosen.
                let language = lock
                    .config()
                    .options
                    .language
                    .clone()
                    .unwrap_or_else(browser::language);
                let result = lock.auth().passwordless_start(&phone, &language).await;
                if !flow.alive() {
                    return;
                }
                flow.dispatch(match result {
                    Ok(tx) => {
                        flow.replace_tx(Some(tx));
                        flow.start_countdown(RESEND_SECS);
                        Event::CodeSent
                    }
                    Err(e) => {
                        // Honour the server's Retry-After before another code can be asked for.
                        if let Some(wait) = e.retry_after() {
                            flow.start_countdown(wait);
                        }
                        Event::SendFailed(e)
                    }
                });
            }),
            Effect::VerifyCode(phone, code) => leptos::task::spawn_local(async move {
                let Some(tx) = flow.tx.get_untracked() else {
                    return flow.dispatch(Event::VerifyFailed(LockError::InvalidToken(
                        "no pending login".into(),
                    )));
                };
                let outcome = lock.auth().passwordless_login(&tx, &phone, &code).await;
                if !flow.alive() {
                    return;
                }
                match outcome {
                    Ok(Completion::Redirecting) => {
                        flow.dispatch(Event::Completed { redirecting: true })
                    }
                    Ok(Completion::Authenticated(result)) => {
                        flow.dispatch(Event::Completed { redirecting: false });
                        lock.emit(&LockEvent::Authenticated(*result));
                        if lock.config().options.autoclose {
                            // Long enough to read "Thanks for logging in."
                            browser::sleep_ms(1200).await;
                            if flow.alive() {
                                lock.hide();
                            }
                        }
                    }
                    // Untrustworthy answers end the login, as Lock's authorization_error does.
                    Err(e @ (LockError::InvalidToken(_) | LockError::Timeout(_))) => {
                        lock.emit(&LockEvent::AuthorizationError(AuthError {
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
