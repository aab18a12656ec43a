//! The redirect's answer: the URL fragment, the stored transaction, and the ID token's claims
//! (OpenID Connect Core 3.1.3.7). The signature check lives in [`crate::browser::verify_rs256`].

use crate::b64;
use crate::json::Json;
use crate::sha256;

/// Seconds a transaction (`state`, `nonce`) stays usable.
pub const TRANSACTION_SECS: i64 = 30 * 60;

/// What the widget remembers across the redirect, per tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Echoed by `/authorize`; the storage key.
    pub state: String,
    /// Bound into the ID token.
    pub nonce: String,
    /// The client the login was for.
    pub client_id: String,
    /// Where `/authorize` answers.
    pub redirect_uri: String,
    /// The PKCE verifier, for `responseType: 'code'`.
    pub verifier: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// The page the login started on (path, query, fragment), where the user lands again after
    /// a redirect (Lock's `appState` / `returnTo`).
    pub return_to: Option<String>,
}

/// Random bytes a transaction needs.
pub const TRANSACTION_RANDOM: usize = 64;

impl Transaction {
    /// A transaction from 64 random bytes: `state` and `nonce` get 128 bits each, the PKCE
    /// verifier 256 bits (43 characters, as RFC 7636 requires at least).
    pub fn new(
        random: [u8; TRANSACTION_RANDOM],
        client_id: &str,
        redirect_uri: &str,
        pkce: bool,
        now: i64,
    ) -> Self {
        Self {
            state: b64::encode(&random[..16]),
            nonce: b64::encode(&random[16..32]),
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            verifier: pkce.then(|| b64::encode(&random[32..])),
            created_at: now,
            return_to: None,
        }
    }

    /// The stored form: `{state, nonce, client_id, redirect_uri, verifier, created_at,
    /// return_to?}`.
    pub fn to_json(&self) -> Json {
        let mut members = vec![
            ("state", Json::from(&self.state)),
            ("nonce", Json::from(&self.nonce)),
            ("client_id", Json::from(&self.client_id)),
            ("redirect_uri", Json::from(&self.redirect_uri)),
            ("verifier", Json::from(self.verifier.clone())),
            ("created_at", Json::from(self.created_at)),
        ];
        if let Some(r) = &self.return_to {
            members.push(("return_to", Json::from(r)));
        }
        Json::object(members)
    }

    /// Reads the stored form back; `None` for anything else.
    pub fn from_json(v: &Json) -> Option<Self> {
        let text = |k: &str| v.get(k)?.as_str().map(str::to_string);
        let optional = |k: &str| v.opt_str(k);
        Some(Self {
            state: text("state")?,
            nonce: text("nonce")?,
            client_id: text("client_id")?,
            redirect_uri: text("redirect_uri")?,
            verifier: optional("verifier")?,
            created_at: v.get("created_at")?.as_i64()?,
            return_to: optional("return_to")?,
        })
    }

    /// The PKCE S256 challenge of the verifier.
    pub fn challenge(&self) -> Option<String> {
        self.verifier
            .as_ref()
            .map(|v| b64::encode(sha256::digest(v.as_bytes())))
    }

    /// Whether it is too old to accept.
    pub fn is_expired(&self, now: i64) -> bool {
        now - self.created_at > TRANSACTION_SECS || now < self.created_at - 60
    }
}

/// The parameters of an authorization response, in the order they came.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// The value of `name` (the last one, should it come twice).
    pub fn get(&self, name: &str) -> Option<&String> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Whether `name` is there.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

impl FromIterator<(String, String)> for Params {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        Self(pairs.into_iter().collect())
    }
}

/// The parameters of a redirect fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashResponse {
    /// Tokens.
    Tokens(Params),
    /// `error` and `error_description`.
    Error {
        /// The error code.
        error: String,
        /// Its text.
        description: String,
        /// The echoed state.
        state: Option<String>,
    },
}

/// Reads `#access_token=…&id_token=…&state=…`; `None` when the fragment is not an
/// authorization response (so ordinary anchors are left alone).
pub fn parse_hash(hash: &str) -> Option<HashResponse> {
    let raw = hash.strip_prefix(['#', '?']).unwrap_or(hash);
    let raw = raw.strip_prefix('/').unwrap_or(raw);
    let params = form_decode(raw);
    if let Some(error) = params.get("error") {
        return Some(HashResponse::Error {
            error: error.clone(),
            description: params.get("error_description").cloned().unwrap_or_default(),
            state: params.get("state").cloned(),
        });
    }
    if params.contains_key("access_token")
        || params.contains_key("id_token")
        || params.contains_key("code")
    {
        return Some(HashResponse::Tokens(params));
    }
    None
}

fn form_decode(raw: &str) -> Params {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// A decoded (not yet trusted) JWT.
#[derive(Debug, Clone)]
pub struct Jwt {
    /// The header.
    pub header: Json,
    /// The claims.
    pub claims: Json,
    /// `base64url(header).base64url(claims)`: what the signature covers.
    pub signing_input: String,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

/// Why an ID token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT.
    #[error("the ID token is malformed")]
    Malformed,
    /// Not RS256 (`none` and HS* included).
    #[error("the ID token algorithm {} is not RS256", crate::quoted(.0))]
    Algorithm(String),
    /// The header names a key location (`jku`, `x5u`, `jwk`, `x5c`): keys only ever come from
    /// the issuer's JWKS.
    #[error("the ID token header carries its own key reference ({0}); refused")]
    ForeignKey(String),
    /// No key with the token's `kid`.
    #[error("no signing key {} in the issuer's JWKS", crate::quoted(.0))]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("the ID token signature is invalid")]
    Signature,
    /// A claim check failed.
    #[error("the ID token {0}")]
    Claim(String),
}

/// Splits and decodes a JWT and checks its algorithm.
pub fn decode(token: &str) -> Result<Jwt, TokenError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return Err(TokenError::Malformed);
    };
    let json = |part: &str| -> Result<Json, TokenError> {
        let bytes = b64::decode(part).ok_or(TokenError::Malformed)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| TokenError::Malformed)?;
        Json::parse(text).map_err(|_| TokenError::Malformed)
    };
    let header = json(h)?;
    let claims = json(p)?;
    if !claims.is_object() {
        return Err(TokenError::Malformed);
    }
    let alg = header["alg"].as_str().unwrap_or("");
    if alg != "RS256" {
        return Err(TokenError::Algorithm(alg.to_string()));
    }
    for field in ["jku", "x5u", "jwk", "x5c"] {
        if header.get(field).is_some() {
            return Err(TokenError::ForeignKey(field.to_string()));
        }
    }
    Ok(Jwt {
        signing_input: format!("{h}.{p}"),
        signature: b64::decode(s).ok_or(TokenError::Malformed)?,
        header,
        claims,
    })
}

/// What the ID token must say.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// `{root}/`.
    pub issuer: &'a str,
    /// The audience.
    pub client_id: &'a str,
    /// The transaction's nonce.
    pub nonce: Option<&'a str>,
    /// The access token from the same response, for `at_hash`.
    pub access_token: Option<&'a str>,
    /// Whether `at_hash` must be there: when `/authorize` answers an access token beside the
    /// ID token (OIDC Core 3.2.2.10); from the token endpoint it is checked only if present.
    pub at_hash_required: bool,
    /// Unix seconds.
    pub now: i64,
    /// Clock skew allowed, seconds.
    pub leeway: i64,
}

/// Checks the claims of OIDC Core 3.1.3.7 (protocol.md section 4, steps 2–5).
pub fn validate_claims(claims: &Json, e: &Expected<'_>) -> Result<(), TokenError> {
    let fail = |m: &str| Err(TokenError::Claim(m.to_string()));
    if claims["iss"].as_str() != Some(e.issuer) {
        return fail(&format!("issuer {} is not {}", claims["iss"], e.issuer));
    }
    if !claims["sub"].is_string() {
        return fail("has no subject");
    }
    match &claims["aud"] {
        Json::String(a) if a == e.client_id => {}
        Json::Array(list) if list.iter().any(|a| a == e.client_id) => {
            if list.len() > 1 && claims["azp"].as_str() != Some(e.client_id) {
                return fail("azp does not match the client");
            }
        }
        _ => return fail("audience does not include the client"),
    }
    let (Some(exp), Some(_iat)) = (claims["exp"].as_i64(), claims["iat"].as_i64()) else {
        return fail("lacks exp or iat");
    };
    if e.now > exp + e.leeway {
        return fail("has expired");
    }
    if let Some(nbf) = claims.get("nbf").and_then(Json::as_i64) {
        if e.now < nbf - e.leeway {
            return fail("is not valid yet");
        }
    }
    if let Some(nonce) = e.nonce {
        if claims["nonce"].as_str() != Some(nonce) {
            return fail("nonce does not match the transaction");
        }
    }
    match (claims.get("at_hash"), e.access_token) {
        (Some(at_hash), Some(access_token)) => {
            let want = b64::encode(&sha256::digest(access_token.as_bytes())[..16]);
            if at_hash.as_str() != Some(want.as_str()) {
                return fail("at_hash does not match the access token");
            }
        }
        (None, Some(_)) if e.at_hash_required => {
            return fail("has no at_hash for the access token beside it");
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn j(v: Value) -> Json {
        Json::parse(&v.to_string()).unwrap()
    }

    fn jwt(header: Value, claims: Value) -> String {
        format!(
            "{}.{}.{}",
            b64::encode(header.to_string()),
            b64::encode(claims.to_string()),
            b64::encode("sig")
        )
    }

    fn good() -> Value {
        json!({"iss": "https://t/", "sub": "sms|1", "aud": "app", "exp": 2000, "iat": 1000,
               "nonce": "n", "at_hash": b64::encode(&sha256::digest(b"AT")[..16])})
    }

    fn expect() -> Expected<'static> {
        Expected {
            issuer: "https://t/",
            client_id: "app",
            nonce: Some("n"),
            access_token: Some("AT"),
            at_hash_required: true,
            now: 1500,
            leeway: 60,
        }
    }

    #[test]
    fn valid_claims_pass() {
        assert_eq!(validate_claims(&j(good()), &expect()), Ok(()));
        let mut late = expect();
        late.now = 2059;
        assert_eq!(validate_claims(&j(good()), &late), Ok(()), "within leeway");
    }

    #[test]
    fn each_bad_claim_fails() {
        let cases: Vec<(&str, Value)> = vec![
            ("iss", json!("https://evil/")),
            ("aud", json!("other")),
            ("aud", json!(["other", "app"])),
            ("nonce", json!("m")),
            ("exp", json!(1400 - 61)),
            ("sub", json!(5)),
            ("at_hash", json!("AAAA")),
            ("nbf", json!(1600)),
        ];
        for (claim, value) in cases {
            let mut c = good();
            c[claim] = value.clone();
            assert!(
                validate_claims(
                    &j(c),
                    &Expected {
                        now: 1400,
                        ..expect()
                    }
                )
                .is_err(),
                "{claim}={value}"
            );
        }
        let mut c = good();
        c.as_object_mut().unwrap().remove("exp");
        assert!(validate_claims(&j(c), &expect()).is_err());
    }

    #[test]
    fn at_hash_is_required_only_where_oidc_requires_it() {
        let mut c = good();
        c.as_object_mut().unwrap().remove("at_hash");
        assert_eq!(
            validate_claims(&j(c.clone()), &expect()),
            Err(TokenError::Claim(
                "has no at_hash for the access token beside it".into()
            ))
        );
        let token_endpoint = Expected {
            at_hash_required: false,
            ..expect()
        };
        assert_eq!(validate_claims(&j(c), &token_endpoint), Ok(()));
        // Present, it is checked wherever the answer came from.
        let mut wrong = good();
        wrong["at_hash"] = json!("AAAA");
        assert!(validate_claims(&j(wrong), &token_endpoint).is_err());
    }

    #[test]
    fn only_rs256_decodes() {
        assert!(decode(&jwt(json!({"alg": "RS256"}), good())).is_ok());
        for alg in ["none", "HS256", "RS384"] {
            assert_eq!(
                decode(&jwt(json!({"alg": alg}), good())).unwrap_err(),
                TokenError::Algorithm(alg.into())
            );
        }
        for field in ["jku", "x5u", "jwk", "x5c"] {
            let header = json!({"alg": "RS256", "kid": "k", field: "https://evil.example/keys"});
            assert_eq!(
                decode(&jwt(header, good())).unwrap_err(),
                TokenError::ForeignKey(field.into())
            );
        }
        assert_eq!(decode("a.b").unwrap_err(), TokenError::Malformed);
        assert_eq!(decode("!!.!!.!!").unwrap_err(), TokenError::Malformed);
    }

    #[test]
    fn hash_responses_parse() {
        let h = parse_hash(
            "#access_token=a%2Bb&id_token=x.y.z&state=s&token_type=Bearer&scope=openid+profile",
        )
        .unwrap();
        let HashResponse::Tokens(p) = h else { panic!() };
        assert_eq!(p.get("access_token").unwrap(), "a+b");
        assert_eq!(p.get("scope").unwrap(), "openid profile");
        assert_eq!(
            parse_hash("#error=access_denied&error_description=%3Cimg%3E&state=s"),
            Some(HashResponse::Error {
                error: "access_denied".into(),
                description: "<img>".into(),
                state: Some("s".into())
            })
        );
        let HashResponse::Tokens(q) = parse_hash("?code=abc&state=s").unwrap() else {
            panic!()
        };
        assert_eq!(q.get("code").unwrap(), "abc");
        // A parameter that comes twice counts once, with its last value.
        let HashResponse::Tokens(twice) = parse_hash("#id_token=x&state=a&state=b").unwrap() else {
            panic!()
        };
        assert_eq!(twice.get("state").unwrap(), "b");
        assert_eq!(parse_hash("#section-2"), None);
        assert_eq!(parse_hash(""), None);
    }

    #[test]
    fn transactions_have_128_bit_values_and_expire() {
        let mut random = [7u8; TRANSACTION_RANDOM];
        random[40] = 9;
        let t = Transaction::new(random, "app", "http://cb/", true, 1000);
        assert_eq!(b64::decode(&t.state).unwrap().len(), 16);
        assert_eq!(b64::decode(&t.nonce).unwrap().len(), 16);
        let verifier = t.verifier.as_deref().unwrap();
        assert_eq!(verifier.len(), 43);
        // base64url(SHA-256(verifier)), the expected value computed independently with Python's hashlib.
        let rfc = Transaction {
            verifier: Some("dBjftJeZ4CVP-mJ92ZFu7pxUlVAqk0MiAg3c4fKGq9Y".into()),
            ..t.clone()
        };
        assert_eq!(
            rfc.challenge().as_deref(),
            Some("UM311zcfDD969_vnnHKFpjSHp1x0pdgFHdGDB4AQ9fU")
        );
        assert!(Transaction::new(random, "app", "", false, 0)
            .verifier
            .is_none());
        assert!(!t.is_expired(1000 + TRANSACTION_SECS));
        let stored = Json::parse(&t.to_json().to_string()).unwrap();
        assert_eq!(Transaction::from_json(&stored).as_ref(), Some(&t));
        let back = Transaction {
            return_to: Some("/shop?x=1".into()),
            verifier: None,
            ..t.clone()
        };
        assert_eq!(Transaction::from_json(&back.to_json()), Some(back));
        assert_eq!(
            Transaction::from_json(&Json::parse(r#"{"state":"s"}"#).unwrap()),
            None
        );
        assert!(t.is_expired(1001 + TRANSACTION_SECS));
    }
}
