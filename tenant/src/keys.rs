//! Secrets: the RS256 signing key, the HMAC secret for codes, random IDs and codes.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rsa::signature::Verifier;
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::store::Store;

/// Where the RS256 keys live in the database's `meta`: the key that signs, the next one
/// (published, not yet signing) with the time it was published, and the previous one (published
/// so tokens it signed still verify).
pub const CURRENT_KEY: &str = "rsa_pkcs8";
/// See [`CURRENT_KEY`].
pub const NEXT_KEY: &str = "rsa_pkcs8_next";
/// See [`CURRENT_KEY`].
pub const NEXT_KEY_PUBLISHED_AT: &str = "rsa_pkcs8_next_published_at";
/// See [`CURRENT_KEY`].
pub const PREVIOUS_KEY: &str = "rsa_pkcs8_previous";

/// Seconds between two reads of the stored keys by a running tenant (a rotation reaches every
/// instance within this).
pub const KEY_RELOAD_SECS: u64 = 30;

/// The tenant's secrets, persisted in the database so tokens survive restarts: the RS256 keys
/// (reloaded when a rotation changes them), the code HMAC secret and the opaque-token key.
pub struct Keys {
    set: std::sync::RwLock<std::sync::Arc<SigningKeys>>,
    rng: aws_lc_rs::rand::SystemRandom,
    code_secret: Vec<u8>,
    /// AES-256-GCM key of the opaque access tokens (`dir` JWEs only the tenant reads).
    access_key: aws_lc_rs::aead::LessSafeKey,
}

/// The RS256 keys in force: the one that signs and every published one (it, the next, the
/// previous), built from their stored PKCS#8 forms.
struct SigningKeys {
    stored: [Option<Vec<u8>>; 3],
    // AWS-LC signs at OpenSSL's speed (`openssl speed rsa2048`): 1.8 times ring's rate on
    // these AVX-512 cores, and several times the pure-Rust `rsa` crate's, which still generates
    // the keys and verifies.
    signing: aws_lc_rs::signature::RsaKeyPair,
    kid: String,
    published: Vec<PublicKey>,
}

struct PublicKey {
    kid: String,
    verifying: VerifyingKey<Sha256>,
    jwk: Value,
}

type KeyError = Box<dyn std::error::Error + Send + Sync>;

impl PublicKey {
    fn of(der: &[u8]) -> Result<Self, KeyError> {
        let public = RsaPrivateKey::from_pkcs8_der(der)?.to_public_key();
        let n = B64.encode(public.n().to_bytes_be());
        let e = B64.encode(public.e().to_bytes_be());
        // RFC 7638 thumbprint: stable for the key, so the kid survives restarts.
        let thumb_input = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = B64.encode(&Sha256::digest(thumb_input.as_bytes())[..16]);
        let jwk = json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e});
        Ok(Self {
            kid,
            verifying: VerifyingKey::new(public),
            jwk,
        })
    }
}

impl SigningKeys {
    /// From the stored current, next and previous keys (the current one must be there).
    fn build(stored: [Option<Vec<u8>>; 3]) -> Result<Self, KeyError> {
        let current = stored[0].as_deref().ok_or("no signing key is stored")?;
        let signing = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(current)
            .map_err(|e| format!("the stored signing key is unusable: {e}"))?;
        let published = stored
            .iter()
            .flatten()
            .map(|der| PublicKey::of(der))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            kid: published[0].kid.clone(),
            signing,
            published,
            stored,
        })
    }

    async fn read(db: &Store) -> Result<[Option<Vec<u8>>; 3], KeyError> {
        Ok([
            db.meta(CURRENT_KEY).await?,
            db.meta(NEXT_KEY).await?,
            db.meta(PREVIOUS_KEY).await?,
        ])
    }
}

/// A new RSA-2048 key as PKCS#8 DER.
fn generate_key() -> Result<Vec<u8>, KeyError> {
    let key = RsaPrivateKey::new(&mut OsRng, 2048)?;
    Ok(key.to_pkcs8_der()?.as_bytes().to_vec())
}

/// Why a JWT was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url parts of JSON.
    #[error("malformed token")]
    Malformed,
    /// Wrong algorithm, key or signature.
    #[error("invalid signature")]
    Signature,
}

/// The first step of a rotation: the next key is published and does not sign yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Its key ID.
    pub kid: String,
    /// When it was first published (Unix seconds).
    pub since: i64,
}

/// The second step: the next key signs; the one before stays published as the previous key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promoted {
    /// The key that signs now.
    pub kid: String,
    /// The key that signed before.
    pub previous: String,
}

impl Keys {
    /// Loads the keys from the database, creating them on first start.
    /// Two instances starting together on one empty database may both generate a key; the
    /// first insert wins and both use it.
    pub async fn load_or_create(db: &Store) -> Result<Self, KeyError> {
        if db.meta(CURRENT_KEY).await?.is_none() {
            db.meta_get_or_insert(CURRENT_KEY, &generate_key()?).await?;
        }
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let code_secret = db.meta_get_or_insert("code_hmac_secret", &secret).await?;
        OsRng.fill_bytes(&mut secret);
        let access_secret = db.meta_get_or_insert("access_token_key", &secret).await?;
        let access_key =
            aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, &access_secret)
                .map_err(|_| "the stored access token key is unusable")?;
        Ok(Self {
            set: std::sync::RwLock::new(std::sync::Arc::new(SigningKeys::build(
                SigningKeys::read(db).await?,
            )?)),
            rng: aws_lc_rs::rand::SystemRandom::new(),
            code_secret,
            access_key: aws_lc_rs::aead::LessSafeKey::new(access_key),
        })
    }

    fn signing_keys(&self) -> std::sync::Arc<SigningKeys> {
        self.set.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads the stored RS256 keys again and uses them if a rotation changed them. Returns
    /// whether they changed.
    pub async fn reload(&self, db: &Store) -> Result<bool, KeyError> {
        let stored = SigningKeys::read(db).await?;
        if stored == self.signing_keys().stored {
            return Ok(false);
        }
        let keys = std::sync::Arc::new(SigningKeys::build(stored)?);
        *self.set.write().unwrap_or_else(|p| p.into_inner()) = keys;
        Ok(true)
    }

    /// The ID of the key that signs.
    pub fn kid(&self) -> String {
        self.signing_keys().kid.clone()
    }

    /// The first step of a rotation: a next key, published in the JWKS by every instance
    /// (within [`KEY_RELOAD_SECS`]) but not signing. Idempotent: an existing next key is kept,
    /// with the time it was first published.
    pub async fn publish_next(db: &Store, now: i64) -> Result<Published, KeyError> {
        let der = match db.meta(NEXT_KEY).await? {
            Some(der) => der,
            None => db.meta_get_or_insert(NEXT_KEY, &generate_key()?).await?,
        };
        let since = db
            .meta_get_or_insert(NEXT_KEY_PUBLISHED_AT, now.to_string().as_bytes())
            .await?;
        let since = std::str::from_utf8(&since)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("the stored publication time of the next key is unreadable")?;
        Ok(Published {
            kid: PublicKey::of(&der)?.kid,
            since,
        })
    }

    /// The second step: the next key signs, the current one becomes the previous one (still
    /// published, so the tokens it signed verify), and the key before that is dropped.
    pub async fn promote_next(db: &Store) -> Result<Promoted, KeyError> {
        let next = db.meta(NEXT_KEY).await?.ok_or("no next key is published")?;
        let current = db
            .meta(CURRENT_KEY)
            .await?
            .ok_or("no signing key is stored")?;
        if !db
            .meta_promote(PREVIOUS_KEY, CURRENT_KEY, NEXT_KEY, NEXT_KEY_PUBLISHED_AT)
            .await?
        {
            return Err("another rotation promoted the next key first".into());
        }
        Ok(Promoted {
            kid: PublicKey::of(&next)?.kid,
            previous: PublicKey::of(&current)?.kid,
        })
    }

    /// The public JWKS document: the signing key first, then the next and the previous ones.
    pub fn jwks(&self) -> Value {
        let set = self.signing_keys();
        let keys: Vec<&Value> = set.published.iter().map(|k| &k.jwk).collect();
        json!({ "keys": keys })
    }

    /// Signs `claims` as an RS256 JWT.
    pub fn sign(&self, claims: &Value) -> String {
        let set = self.signing_keys();
        let header = json!({"alg": "RS256", "typ": "JWT", "kid": set.kid});
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let mut sig = vec![0u8; set.signing.public_modulus_len()];
        set.signing
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &self.rng,
                input.as_bytes(),
                &mut sig,
            )
            .expect("RSA signing with a valid key cannot fail");
        format!("{input}.{}", B64.encode(sig))
    }

    /// Verifies an RS256 JWT signed by one of this tenant's published keys and returns its
    /// claims. Expiry is the caller's business.
    pub fn verify(&self, token: &str) -> Result<Value, JwtError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let header: Value = decode_json(h)?;
        let set = self.signing_keys();
        let key = set
            .published
            .iter()
            .find(|k| header["kid"] == k.kid.as_str())
            .filter(|_| header["alg"] == "RS256")
            .ok_or(JwtError::Signature)?;
        let sig = B64.decode(s).map_err(|_| JwtError::Malformed)?;
        let sig = Signature::try_from(sig.as_slice()).map_err(|_| JwtError::Signature)?;
        let input_len = h.len() + 1 + p.len();
        key.verifying
            .verify(&token.as_bytes()[..input_len], &sig)
            .map_err(|_| JwtError::Signature)?;
        decode_json(p)
    }

    /// Encrypts `claims` as an opaque access token: a compact JWE, `dir` with `A256GCM` (the
    /// shape Auth0's opaque tokens have), readable by this tenant alone and costing no RSA
    /// signature. Auth0 issues these when no API audience is asked; only `/userinfo` reads them.
    pub fn seal(&self, claims: &Value) -> String {
        use aws_lc_rs::rand::SecureRandom;
        let header = B64.encode(r#"{"alg":"dir","enc":"A256GCM"}"#);
        let mut iv = [0u8; 12];
        self.rng.fill(&mut iv).expect("the OS random source works");
        let mut data = claims.to_string().into_bytes();
        let tag = self
            .access_key
            .seal_in_place_separate_tag(
                aws_lc_rs::aead::Nonce::assume_unique_for_key(iv),
                aws_lc_rs::aead::Aad::from(header.as_bytes()),
                &mut data,
            )
            .expect("AES-GCM sealing of a short message cannot fail");
        format!(
            "{header}..{}.{}.{}",
            B64.encode(iv),
            B64.encode(&data),
            B64.encode(tag.as_ref())
        )
    }

    /// Decrypts an opaque access token from [`Keys::seal`] and returns its claims.
    pub fn open(&self, token: &str) -> Result<Value, JwtError> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header, "", iv, data, tag] = parts[..] else {
            return Err(JwtError::Malformed);
        };
        if decode_json(header)? != json!({"alg": "dir", "enc": "A256GCM"}) {
            return Err(JwtError::Signature);
        }
        let iv: [u8; 12] = B64
            .decode(iv)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or(JwtError::Malformed)?;
        let mut sealed = B64.decode(data).map_err(|_| JwtError::Malformed)?;
        sealed.extend(B64.decode(tag).map_err(|_| JwtError::Malformed)?);
        let plain = self
            .access_key
            .open_in_place(
                aws_lc_rs::aead::Nonce::assume_unique_for_key(iv),
                aws_lc_rs::aead::Aad::from(header.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| JwtError::Signature)?;
        serde_json::from_slice(plain).map_err(|_| JwtError::Malformed)
    }

    /// What a code tried for `phone` is compared by: `HMAC-SHA256(secret, "code" ‖ 0 ‖ phone ‖ 0 ‖
    /// code)`. Codes are never stored in clear: the store keeps the code's flow MACed under this
    /// value ([`crate::store::seal_code`]), so the database sees neither a code nor the secret, and
    /// can compare a try in the statement that counts it.
    pub fn code_candidate(&self, phone: &str, code: &str) -> Vec<u8> {
        self.code_hmac(["code", "\0", phone, "\0", code])
            .finalize()
            .into_bytes()
            .to_vec()
    }

    /// Compares a code, in constant time, against a MAC stored before codes were sealed:
    /// `HMAC-SHA256(secret, flow_id ‖ 0 ‖ phone ‖ 0 ‖ code)`. Such codes, sent by an earlier
    /// version, stay valid for their lifetime after an upgrade.
    pub fn unsealed_code_matches(
        &self,
        flow_id: &str,
        phone: &str,
        code: &str,
        mac: &[u8],
    ) -> bool {
        self.code_hmac([flow_id, "\0", phone, "\0", code])
            .verify_slice(mac)
            .is_ok()
    }

    /// `HMAC-SHA256(secret, flow_id ‖ 0 ‖ phone ‖ 0 ‖ code)`, as codes were stored before they were
    /// sealed (for tests of the upgrade).
    #[cfg(test)]
    pub(crate) fn unsealed_code_mac(&self, flow_id: &str, phone: &str, code: &str) -> Vec<u8> {
        self.code_hmac([flow_id, "\0", phone, "\0", code])
            .finalize()
            .into_bytes()
            .to_vec()
    }

    /// The HMAC of the parts, one after another (separators keep ("12","3") and ("1","23") apart).
    fn code_hmac<'a>(&self, parts: impl IntoIterator<Item = &'a str>) -> Hmac<Sha256> {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.code_secret)
            .expect("HMAC accepts keys of any length");
        for part in parts {
            m.update(part.as_bytes());
        }
        m
    }
}

fn decode_json(part: &str) -> Result<Value, JwtError> {
    let bytes = B64.decode(part).map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

/// `n` random bytes as base64url: IDs, tickets and verifiers.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    B64.encode(bytes)
}

/// `n` random bytes as lowercase hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Makes one-time codes. A trait so tests can make the codes they need.
pub trait CodeGenerator: Send + Sync {
    /// A code of `len` decimal digits.
    fn generate(&self, len: usize) -> String;
}

/// Digits from the OS CSPRNG. `gen_range` samples uniformly (it rejects the biased tail), so
/// there is no modulo bias.
pub struct OsCodes;

impl CodeGenerator for OsCodes {
    fn generate(&self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b'0' + OsRng.gen_range(0..10u8)))
            .collect()
    }
}

/// base64url of the left half of SHA-256, as `at_hash` needs.
pub fn half_hash(value: &str) -> String {
    B64.encode(&sha256(value)[..16])
}

/// SHA-256 of a text: how secrets the tenant hands out (sessions, authorization codes, refresh
/// tokens, ticket verifiers) are stored and looked up.
pub(crate) fn sha256(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        let path = tempfile::tempdir().unwrap().keep().join("t.db");
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let db = Store::open(&crate::store::Database::Sqlite(path))
                .await
                .unwrap();
            Keys::load_or_create(&db).await.unwrap()
        })
    }

    #[test]
    fn signed_tokens_verify_and_tampered_ones_do_not() {
        let k = keys();
        let t = k.sign(&json!({"sub": "sms|1"}));
        assert_eq!(k.verify(&t).unwrap()["sub"], "sms|1");
        let mut bytes = t.into_bytes();
        let i = bytes.len() - 5;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            k.verify(&String::from_utf8(bytes).unwrap()),
            Err(JwtError::Signature)
        );
        assert_eq!(k.verify("a.b"), Err(JwtError::Malformed));
    }

    #[test]
    fn opaque_tokens_open_only_unaltered_and_only_here() {
        let k = keys();
        let t = k.seal(&json!({"sub": "sms|1", "scope": "openid"}));
        assert_eq!(t.split('.').count(), 5, "a compact JWE");
        assert!(
            !t.contains(&B64.encode("sms|1")),
            "the claims are not readable"
        );
        assert_eq!(k.open(&t).unwrap()["sub"], "sms|1");
        assert_ne!(
            t,
            k.seal(&json!({"sub": "sms|1", "scope": "openid"})),
            "a fresh IV each"
        );
        for i in [5, t.len() / 2, t.len() - 3] {
            let mut bytes = t.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            assert!(
                k.open(&String::from_utf8(bytes).unwrap()).is_err(),
                "flip at {i}"
            );
        }
        assert_eq!(
            keys().open(&t),
            Err(JwtError::Signature),
            "another tenant's key"
        );
        assert_eq!(k.open("a.b.c"), Err(JwtError::Malformed));
        assert!(k.verify(&t).is_err(), "not a JWT");
    }

    #[test]
    fn codes_use_every_digit_evenly() {
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            for c in OsCodes.generate(6).bytes() {
                counts[(c - b'0') as usize] += 1;
            }
        }
        // 60 000 digits: each expected 6 000, sd ≈ 73; ±600 is over 8 sd.
        for (d, n) in counts.iter().enumerate() {
            assert!((5_400..6_600).contains(n), "digit {d} appeared {n} times");
        }
    }

    #[test]
    fn code_candidates_bind_phone_and_code_and_seals_the_flow() {
        use crate::store::{seal_code, sealed_code_matches};
        let k = keys();
        let candidate = k.code_candidate("+15551234567", "123456");
        let seal = seal_code(&candidate, "f");
        assert!(sealed_code_matches(&candidate, "f", &seal));
        let other_code = k.code_candidate("+15551234567", "123457");
        assert!(!sealed_code_matches(&other_code, "f", &seal));
        assert!(!sealed_code_matches(&candidate, "g", &seal));
        let other_phone = k.code_candidate("+15551234568", "123456");
        assert!(!sealed_code_matches(&other_phone, "f", &seal));
        // Another tenant's secret: another candidate.
        assert_ne!(keys().code_candidate("+15551234567", "123456"), candidate);
        // A code stored before sealing is compared by its old MAC.
        let mac = k.unsealed_code_mac("f", "+15551234567", "123456");
        assert!(k.unsealed_code_matches("f", "+15551234567", "123456", &mac));
        assert!(!k.unsealed_code_matches("f", "+15551234567", "123457", &mac));
        assert!(!k.unsealed_code_matches("g", "+15551234567", "123456", &mac));
        assert!(!sealed_code_matches(&candidate, "f", &mac));
    }
}
