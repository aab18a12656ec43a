//! The login flow as data: a step, the events that move it, and the effects to perform.
//! No async and no DOM, so every transition is tested natively.

use crate::error::LockError;
use crate::otp::OtpCode;
use crate::phone::PhoneNumber;

/// Where the flow is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Asking for the phone number.
    Phone,
    /// `/passwordless/start` in flight.
    Sending,
    /// Asking for the code sent to the phone.
    Code,
    /// A new code is being sent from the code screen.
    Resending,
    /// The code is being checked and the login finished.
    Verifying,
    /// On the way to `/authorize`; the page is about to leave.
    Redirecting,
    /// Logged in without leaving the page (iframe, token endpoint).
    Done,
}

/// The flow's state. The phone number survives every error and every "back".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The step.
    pub step: Step,
    /// The number the code was (or is being) sent to.
    pub phone: Option<PhoneNumber>,
    /// The message banner.
    pub error: Option<LockError>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            step: Step::Phone,
            phone: None,
            error: None,
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The user submitted a valid number.
    SubmitPhone(PhoneNumber),
    /// The tenant accepted `/passwordless/start`.
    CodeSent,
    /// `/passwordless/start` failed.
    SendFailed(LockError),
    /// The user submitted a well-formed code.
    SubmitCode(OtpCode),
    /// The code was accepted: the page is redirecting, or the login is complete.
    Completed {
        /// Whether the browser is leaving for `/authorize`.
        redirecting: bool,
    },
    /// The code was refused or the request failed.
    VerifyFailed(LockError),
    /// The back arrow.
    Back,
    /// "Did not get the code?": send another to the same number.
    Resend,
}

/// Work for the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// `POST /passwordless/start`.
    SendCode(PhoneNumber),
    /// Check the code and finish the login.
    VerifyCode(PhoneNumber, OtpCode),
    /// Emit a Lock event by name (`socialOrPhoneNumber submit`, `vcode submit`, …).
    Emit(&'static str),
    /// Forget the pending login's transaction: it will never be completed.
    Abandon,
}

/// Moves the flow. Events that make no sense in a step (a second submit while a request is in
/// flight, a late answer after "back") change nothing.
pub fn transition(state: &State, event: Event) -> (State, Vec<Effect>) {
    use Step::*;
    let mut next = state.clone();
    let effects = match (&state.step, event) {
        (Phone, Event::SubmitPhone(phone)) => {
            next.step = Sending;
            next.phone = Some(phone.clone());
            next.error = None;
            vec![
                Effect::Emit("socialOrPhoneNumber submit"),
                Effect::SendCode(phone),
            ]
        }
        (Sending, Event::CodeSent) => {
            next.step = Code;
            vec![Effect::Emit("vcode ready")]
        }
        (Code, Event::Resend) => match &state.phone {
            Some(phone) => {
                next.step = Resending;
                next.error = None;
                vec![Effect::SendCode(phone.clone())]
            }
            None => vec![],
        },
        (Resending, Event::CodeSent) => {
            next.step = Code;
            vec![]
        }
        (Resending, Event::SendFailed(e)) => {
            next.step = Code;
            next.error = Some(e);
            vec![]
        }
        (Sending, Event::SendFailed(e)) => {
            next.step = Phone;
            next.error = Some(e);
            vec![]
        }
        (Code, Event::SubmitCode(code)) => match &state.phone {
            Some(phone) => {
                next.step = Verifying;
                next.error = None;
                vec![
                    Effect::Emit("vcode submit"),
                    Effect::VerifyCode(phone.clone(), code),
                ]
            }
            None => vec![],
        },
        (Verifying, Event::Completed { redirecting }) => {
            next.step = if redirecting { Redirecting } else { Done };
            vec![]
        }
        (Verifying, Event::VerifyFailed(e)) => {
            next.step = Code;
            next.error = Some(e);
            vec![]
        }
        (Code, Event::Back) => {
            next.step = Phone;
            next.error = None;
            vec![Effect::Abandon, Effect::Emit("socialOrPhoneNumber ready")]
        }
        _ => return (state.clone(), vec![]),
    };
    (next, effects)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone() -> PhoneNumber {
        PhoneNumber::parse("+12015550123", "US").unwrap()
    }
    fn code() -> OtpCode {
        OtpCode::parse("123456", 6).unwrap()
    }
    fn at(step: Step) -> State {
        State {
            step,
            phone: Some(phone()),
            error: None,
        }
    }
    fn wrong() -> LockError {
        LockError::WrongCode("x".into())
    }

    #[test]
    fn transitions_table() {
        let fresh = State::default();
        let table: Vec<(State, Event, Step, Vec<Effect>)> = vec![
            (
                fresh.clone(),
                Event::SubmitPhone(phone()),
                Step::Sending,
                vec![
                    Effect::Emit("socialOrPhoneNumber submit"),
                    Effect::SendCode(phone()),
                ],
            ),
            (
                at(Step::Sending),
                Event::CodeSent,
                Step::Code,
                vec![Effect::Emit("vcode ready")],
            ),
            (
                at(Step::Sending),
                Event::SendFailed(wrong()),
                Step::Phone,
                vec![],
            ),
            (
                at(Step::Code),
                Event::SubmitCode(code()),
                Step::Verifying,
                vec![
                    Effect::Emit("vcode submit"),
                    Effect::VerifyCode(phone(), code()),
                ],
            ),
            (
                at(Step::Verifying),
                Event::Completed { redirecting: true },
                Step::Redirecting,
                vec![],
            ),
            (
                at(Step::Verifying),
                Event::Completed { redirecting: false },
                Step::Done,
                vec![],
            ),
            (
                at(Step::Code),
                Event::Resend,
                Step::Resending,
                vec![Effect::SendCode(phone())],
            ),
            (at(Step::Resending), Event::CodeSent, Step::Code, vec![]),
            (
                at(Step::Resending),
                Event::SendFailed(wrong()),
                Step::Code,
                vec![],
            ),
            (
                at(Step::Resending),
                Event::SubmitCode(code()),
                Step::Resending,
                vec![],
            ),
            (at(Step::Done), Event::Back, Step::Done, vec![]),
            (
                at(Step::Verifying),
                Event::VerifyFailed(wrong()),
                Step::Code,
                vec![],
            ),
            (
                at(Step::Code),
                Event::Back,
                Step::Phone,
                vec![Effect::Abandon, Effect::Emit("socialOrPhoneNumber ready")],
            ),
            // Ignored: double submits, late answers, impossible events.
            (
                at(Step::Sending),
                Event::SubmitPhone(phone()),
                Step::Sending,
                vec![],
            ),
            (
                at(Step::Verifying),
                Event::SubmitCode(code()),
                Step::Verifying,
                vec![],
            ),
            (at(Step::Phone), Event::CodeSent, Step::Phone, vec![]),
            (
                at(Step::Phone),
                Event::Completed { redirecting: false },
                Step::Phone,
                vec![],
            ),
            (at(Step::Verifying), Event::Back, Step::Verifying, vec![]),
            (
                at(Step::Redirecting),
                Event::Back,
                Step::Redirecting,
                vec![],
            ),
            (
                at(Step::Redirecting),
                Event::VerifyFailed(wrong()),
                Step::Redirecting,
                vec![],
            ),
            (
                fresh.clone(),
                Event::SubmitCode(code()),
                Step::Phone,
                vec![],
            ),
        ];
        for (i, (state, event, step, effects)) in table.into_iter().enumerate() {
            let (next, got) = transition(&state, event.clone());
            assert_eq!(next.step, step, "row {i}: {event:?}");
            assert_eq!(got, effects, "row {i}: {event:?}");
        }
    }

    #[test]
    fn errors_keep_the_number_and_show_a_banner() {
        let (s, _) = transition(&at(Step::Verifying), Event::VerifyFailed(wrong()));
        assert_eq!(s.phone, Some(phone()));
        assert_eq!(s.error, Some(wrong()));
        let (s, _) = transition(&s, Event::Back);
        assert_eq!(s.phone, Some(phone()), "back keeps the number");
        assert_eq!(s.error, None);
        let (s, _) = transition(
            &at(Step::Sending),
            Event::SendFailed(LockError::Network("x".into())),
        );
        assert_eq!((s.step, s.phone), (Step::Phone, Some(phone())));
    }

    #[test]
    fn a_new_submit_clears_the_banner() {
        let mut s = at(Step::Code);
        s.error = Some(wrong());
        let (s, _) = transition(&s, Event::SubmitCode(code()));
        assert_eq!(s.error, None);
    }
}
