//! The SMS connection's message: template rendering and the providers that deliver it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::store::{OutboxMessage, Store};

/// Twilio's limit for one message body.
pub const MAX_BODY_CHARS: usize = 1600;

/// A compiled message template.
pub struct Template {
    template: liquid::Template,
}

/// What a template may use; all of it is server-owned.
pub struct TemplateData<'a> {
    /// The one-time code.
    pub code: &'a str,
    /// E.164 recipient.
    pub phone_number: &'a str,
    /// The client's name.
    pub application_name: &'a str,
    /// A checked language tag, or empty.
    pub request_language: &'a str,
}

/// The template could not be compiled or rendered.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(String);

impl Template {
    /// Compiles `source`, translating the legacy `@@…@@` macros to Liquid first. Errors say where.
    pub fn compile(source: &str) -> Result<Self, TemplateError> {
        let source = source
            .replace("@@password@@", "{{ password }}")
            .replace("@@application.name@@", "{{ application.name }}");
        let template = liquid::ParserBuilder::with_stdlib()
            .build()
            .and_then(|p| p.parse(&source))
            .map_err(|e| TemplateError(format!("invalid SMS template: {e}")))?;
        Ok(Self { template })
    }

    /// Renders a message; the result is at most [`MAX_BODY_CHARS`] characters.
    pub fn render(&self, data: &TemplateData<'_>) -> Result<String, TemplateError> {
        let globals = liquid::object!({
            "password": data.code,
            "code": data.code,
            "phone_number": data.phone_number,
            "application": { "name": data.application_name },
            "request_language": data.request_language,
        });
        let body = self
            .template
            .render(&globals)
            .map_err(|e| TemplateError(format!("SMS template failed to render: {e}")))?;
        let body = body.trim().to_string();
        if body.is_empty() {
            return Err(TemplateError(
                "the SMS template rendered an empty message".into(),
            ));
        }
        if body.chars().count() > MAX_BODY_CHARS {
            return Err(TemplateError(format!(
                "the rendered SMS is longer than {MAX_BODY_CHARS} characters"
            )));
        }
        Ok(body)
    }
}

/// Checks a language tag (`fr-FR`, `pt-br`, `zh-Hant-TW`) before a template may see it.
pub fn checked_language(tag: &str) -> Option<&str> {
    let tag = tag.trim();
    let ok = !tag.is_empty()
        && tag.len() <= 35
        && tag.split('-').enumerate().all(|(i, part)| {
            (1..=8).contains(&part.len())
                && if i == 0 {
                    part.bytes().all(|b| b.is_ascii_alphabetic())
                } else {
                    part.bytes().all(|b| b.is_ascii_alphanumeric())
                }
        });
    ok.then_some(tag)
}

/// The first language of an `Accept-Language` header (`fr-FR,fr;q=0.9` → `fr-FR`).
pub fn first_accept_language(header: &str) -> Option<&str> {
    header
        .split(',')
        .next()
        .and_then(|first| first.split(';').next())
        .and_then(checked_language)
}

/// A message to deliver.
#[derive(Debug, Clone)]
pub struct SmsMessage {
    /// E.164 recipient.
    pub to: String,
    /// Rendered text.
    pub body: String,
    /// The code inside (for the development outbox only).
    pub code: String,
}

/// The provider refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider refused the message for a reason the user can act on (Twilio 21211: the
    /// number is invalid; 21610: the recipient opted out; …).
    #[error("{message} (Code: {code})")]
    Rejected {
        /// The provider's message.
        message: String,
        /// The provider's numeric code.
        code: u32,
    },
    /// The operator's setup is wrong (bad credentials, unverified trial number): logged in full,
    /// shown to the user as a generic failure.
    #[error("SMS provider configuration error: {message} (Code: {code})")]
    Operator {
        /// The provider's message.
        message: String,
        /// The provider's numeric code.
        code: u32,
    },
    /// The provider could not be reached, timed out or answered nonsense: nothing was sent.
    #[error("SMS provider unavailable: {0}")]
    Unavailable(String),
}

/// A boxed future, so providers can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How long the provider took for the last successful sends, so that a message that is not sent
/// (a decoy for an unknown number while sign-ups are off) takes as long as one that is.
pub struct SendTimes {
    recent: std::sync::Mutex<std::collections::VecDeque<std::time::Duration>>,
    prior: std::time::Duration,
}

impl SendTimes {
    /// Durations kept.
    const KEEP: usize = 32;

    /// Before any send is measured, `prior` stands for one.
    pub fn new(prior: std::time::Duration) -> Self {
        Self {
            recent: std::sync::Mutex::new(std::collections::VecDeque::with_capacity(Self::KEEP)),
            prior,
        }
    }

    /// The prior for a provider: a Twilio API call is a few hundred milliseconds away, the
    /// development outbox one insert.
    pub fn for_provider(kind: crate::config::ProviderKind) -> Self {
        Self::new(match kind {
            crate::config::ProviderKind::Twilio => std::time::Duration::from_millis(300),
            crate::config::ProviderKind::Log => std::time::Duration::from_millis(1),
        })
    }

    /// Records a successful send's duration.
    pub fn record(&self, took: std::time::Duration) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() == Self::KEEP {
            recent.pop_front();
        }
        recent.push_back(took);
    }

    /// One of the recent durations, picked at random (the prior when none is known): waiting
    /// it gives the same distribution of answer times as real sends.
    pub fn sample(&self) -> std::time::Duration {
        use rand::Rng;
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if recent.is_empty() {
            return self.prior;
        }
        recent[rand::thread_rng().gen_range(0..recent.len())]
    }
}

/// Delivers messages.
pub trait SmsProvider: Send + Sync {
    /// Sends one message; `Ok` only once the provider accepted it.
    fn send<'a>(
        &'a self,
        msg: &'a SmsMessage,
        now: i64,
    ) -> BoxFuture<'a, Result<(), ProviderError>>;
}

/// The development outbox: stores messages for `/dev/sms` and logs them. Never sends.
pub struct LogProvider {
    db: Arc<Store>,
}

impl LogProvider {
    /// An outbox in this database.
    pub fn new(db: Arc<Store>) -> Self {
        Self { db }
    }
}

impl SmsProvider for LogProvider {
    fn send<'a>(
        &'a self,
        msg: &'a SmsMessage,
        now: i64,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            self.db
                .push_outbox(&OutboxMessage {
                    to: msg.to.clone(),
                    body: msg.body.clone(),
                    code: msg.code.clone(),
                    sent_at: now,
                })
                .await
                .map_err(|e| ProviderError::Unavailable(format!("development outbox: {e}")))?;
            // Logs never carry a code, even in development: the outbox page is where it shows.
            tracing::info!(to = %mask_phone(&msg.to), "SMS stored in the development outbox (GET /dev/sms.html)");
            Ok(())
        })
    }
}

/// Twilio's Messages API.
pub struct TwilioProvider {
    client: reqwest::Client,
    url: String,
    account_sid: String,
    auth_token: String,
    source: (&'static str, String),
}

/// Twilio codes that mean the operator's setup is wrong, not the user's input.
const OPERATOR_CODES: &[u32] = &[20003, 20404, 21606, 21608, 21212, 21659, 30003];
/// "Too many concurrent requests": safe to retry once.
const TOO_MANY_CONCURRENT: u32 = 20429;
const RETRY_BACKOFF: std::time::Duration = std::time::Duration::from_millis(500);

impl TwilioProvider {
    /// A provider for these settings; credentials may come from the environment.
    pub fn new(config: &crate::config::TwilioConfig) -> Result<Self, crate::config::ConfigError> {
        let (account_sid, auth_token) = config.credentials()?;
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(config.timeout_secs))
            .connect_timeout(std::time::Duration::from_secs(config.timeout_secs))
            .build()
            .map_err(|e| crate::config::ConfigError::Invalid(format!("HTTP client: {e}")))?;
        let source = match (&config.from, &config.messaging_service_sid) {
            (Some(from), _) => ("From", from.clone()),
            (None, Some(sid)) => ("MessagingServiceSid", sid.clone()),
            (None, None) => {
                return Err(crate::config::ConfigError::Invalid(
                    "sms.twilio needs `from` or `messaging_service_sid`".into(),
                ))
            }
        };
        Ok(Self {
            client,
            url: format!(
                "{}/2010-04-01/Accounts/{account_sid}/Messages.json",
                config.api_base_url.trim_end_matches('/')
            ),
            account_sid,
            auth_token,
            source,
        })
    }

    async fn attempt(&self, msg: &SmsMessage) -> Result<(), (ProviderError, bool)> {
        let form = [
            ("To", msg.to.as_str()),
            ("Body", msg.body.as_str()),
            (self.source.0, self.source.1.as_str()),
        ];
        let response = self
            .client
            .post(&self.url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&form)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            // Nothing reached Twilio: retrying cannot send twice.
            Err(e) if e.is_connect() => {
                return Err((
                    ProviderError::Unavailable(format!("cannot connect: {e}")),
                    true,
                ))
            }
            // A timeout may have sent the message; never retry it.
            Err(e) if e.is_timeout() => {
                return Err((ProviderError::Unavailable("timed out".into()), false))
            }
            Err(e) => return Err((ProviderError::Unavailable(e.to_string()), false)),
        };
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
        if status.is_success() {
            return if body["sid"].is_string() {
                Ok(())
            } else {
                Err((
                    ProviderError::Unavailable(format!("malformed reply (HTTP {status})")),
                    false,
                ))
            };
        }
        let code = body["code"].as_u64().map(|c| c as u32);
        // Twilio's messages name the number ("The 'To' number +1… is not a valid phone number"):
        // masked before they reach a log line or an answer.
        let message = mask_numbers(body["message"].as_str().unwrap_or(""));
        match code {
            Some(TOO_MANY_CONCURRENT) => Err((
                ProviderError::Unavailable(format!("{message} (Code: 20429)")),
                true,
            )),
            Some(code) if OPERATOR_CODES.contains(&code) => {
                Err((ProviderError::Operator { message, code }, false))
            }
            Some(code) if status.is_client_error() => {
                Err((ProviderError::Rejected { message, code }, false))
            }
            _ => Err((ProviderError::Unavailable(format!("HTTP {status}")), false)),
        }
    }
}

impl SmsProvider for TwilioProvider {
    fn send<'a>(
        &'a self,
        msg: &'a SmsMessage,
        _now: i64,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            match self.attempt(msg).await {
                Err((_, true)) => {
                    tokio::time::sleep(RETRY_BACKOFF).await;
                    self.attempt(msg).await.map_err(|(e, _)| e)
                }
                other => other.map_err(|(e, _)| e),
            }
        })
    }
}

/// `+31612345678` → `+3161*****78`, for logs.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..5].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// Masks every phone number in free text (a `+` and at least six digits, or seven digits in
/// a row) as [`mask_phone`] does; the rest is kept.
pub fn mask_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.chars().filter(char::is_ascii_digit).count();
        if digits >= 7 || (run.starts_with('+') && digits >= 6) {
            out.push_str(&mask_phone(run));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || (c == '+' && run.is_empty()) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            if c == '+' {
                run.push(c);
            } else {
                out.push(c);
            }
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_provider_text_are_masked_and_the_rest_kept() {
        assert_eq!(
            mask_numbers("The 'To' number +12015550123 is not a valid phone number."),
            "The 'To' number +1201*****23 is not a valid phone number."
        );
        assert_eq!(
            mask_numbers("To 447400123456 failed"),
            "To 44740*****56 failed"
        );
        assert_eq!(
            mask_numbers("Error 21211, HTTP 400"),
            "Error 21211, HTTP 400"
        );
        assert_eq!(mask_numbers("a+b +31 x"), "a+b +31 x");
    }

    fn data<'a>(lang: &'a str) -> TemplateData<'a> {
        TemplateData {
            code: "123456",
            phone_number: "+31612345678",
            application_name: "Demo",
            request_language: lang,
        }
    }

    #[test]
    fn legacy_macros_and_liquid_render() {
        let t = Template::compile(
            "@@application.name@@: @@password@@ / {{ code }} for {{ phone_number }}",
        )
        .unwrap();
        assert_eq!(
            t.render(&data("")).unwrap(),
            "Demo: 123456 / 123456 for +31612345678"
        );
    }

    #[test]
    fn request_language_picks_the_branch() {
        let t = Template::compile(
            "{% if request_language contains 'fr-FR' %}Ceci est votre code: {{ password }}{% elsif request_language contains 'nl' %}Dit is uw code: {{ password }}{% else %}Your code: {{ password }}{% endif %}",
        )
        .unwrap();
        assert_eq!(
            t.render(&data("fr-FR")).unwrap(),
            "Ceci est votre code: 123456"
        );
        assert_eq!(t.render(&data("nl-NL")).unwrap(), "Dit is uw code: 123456");
        assert_eq!(t.render(&data("")).unwrap(), "Your code: 123456");
    }

    #[test]
    fn an_invalid_template_is_rejected_with_its_position() {
        let err = Template::compile("line one\n{% if %}")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("invalid SMS template"), "{err}");
        assert!(
            err.contains("--> 2:"),
            "should name line 2 and its column: {err}"
        );
    }

    #[test]
    fn a_rendered_message_over_1600_characters_is_refused() {
        let t = Template::compile(&format!("{} @@password@@", "x".repeat(1595))).unwrap();
        let err = t.render(&data("")).unwrap_err().to_string();
        assert!(err.contains("1600"), "{err}");
        let fits = Template::compile(&format!("{} @@password@@", "x".repeat(1593))).unwrap();
        assert_eq!(fits.render(&data("")).unwrap().chars().count(), 1600);
    }

    #[test]
    fn language_tags_are_checked() {
        assert_eq!(checked_language("fr-FR"), Some("fr-FR"));
        assert_eq!(checked_language("{{ password }}"), None);
        assert_eq!(checked_language(&"a".repeat(40)), None);
        assert_eq!(
            first_accept_language("nl-NL,nl;q=0.9,en;q=0.8"),
            Some("nl-NL")
        );
        assert_eq!(first_accept_language("fr;q=0.9"), Some("fr"));
    }

    #[test]
    fn phones_are_masked_for_logs() {
        assert_eq!(mask_phone("+31612345678"), "+3161*****78");
    }
}
