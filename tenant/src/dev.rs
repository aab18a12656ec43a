//! The development outbox (`log` provider only) and the index page.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Html;
use axum::Json;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::{html_escape, rfc3339, Tenant};

const OUTBOX_LIMIT: usize = 200;

async fn messages(
    t: &Tenant,
    q: &HashMap<String, String>,
) -> Result<Vec<crate::store::OutboxMessage>, ApiError> {
    let to = q.get("to").map(|s| s.trim()).filter(|s| !s.is_empty());
    Ok(t.store.outbox(to, OUTBOX_LIMIT).await?)
}

/// `GET /dev/sms[?to=+E164]`: messages, newest first.
pub async fn outbox_json(
    State(t): State<Arc<Tenant>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let list: Vec<Value> = messages(&t, &q)
        .await?
        .into_iter()
        .map(|m| json!({"to": m.to, "body": m.body, "code": m.code, "sent_at": rfc3339(m.sent_at)}))
        .collect();
    Ok(Json(Value::Array(list)))
}

/// `GET /dev/sms.html`: the same, for people; refreshes itself.
pub async fn outbox_html(
    State(t): State<Arc<Tenant>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Html<String>, ApiError> {
    let rows: String = messages(&t, &q)
        .await?
        .iter()
        .map(|m| {
            format!(
                "<tr><td>{}</td><td>{}</td><td><strong>{}</strong></td><td>{}</td></tr>",
                html_escape(&rfc3339(m.sent_at)),
                html_escape(&m.to),
                html_escape(&m.code),
                html_escape(&m.body)
            )
        })
        .collect();
    let empty = if rows.is_empty() {
        "<p>No messages yet. Request a code in the widget; it appears here.</p>"
    } else {
        ""
    };
    Ok(Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"3\"><title>SMS outbox · {name}</title>\
         <style>body{{font:15px system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:.4rem .6rem;text-align:left}}</style></head><body>\
         <h1>Development SMS outbox · {name}</h1><p>Messages the <code>log</code> provider \
         would have sent, newest first. JSON at <a href=\"/dev/sms\">/dev/sms</a>.</p>{empty}\
         <table><thead><tr><th>Sent</th><th>To</th><th>Code</th><th>Message</th></tr></thead>\
         <tbody>{rows}</tbody></table></body></html>",
        name = html_escape(&t.config.tenant.name),
    )))
}

/// `GET /`: what this server is.
pub async fn index(State(t): State<Arc<Tenant>>) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{name}</title></head>\
         <body><h1>passwordless-tenant · {name}</h1><p>An Auth0-compatible passwordless SMS tenant. \
         Issuer <code>{issuer}</code>.{outbox}</p></body></html>",
        name = html_escape(&t.config.tenant.name),
        issuer = html_escape(&t.issuer()),
        outbox = if t.config.outbox_served() {
            " Development outbox: <a href=\"/dev/sms.html\">/dev/sms.html</a>."
        } else {
            ""
        },
    ))
}
