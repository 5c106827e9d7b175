//! JWT encoding with the active key (josekit, OpenSSL key kept in memory) and validation
//! with the published keys (jsonwebtoken).

use josekit::jws::JwsHeader;
use jsonwebtoken::{Algorithm, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::keys::KeySet;

/// Why a presented token was refused. The variants stay coarse on purpose: callers answer
/// `invalid_token` / `invalid_grant` without telling an attacker which check failed.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("token is malformed")]
    Malformed,
    #[error("token is signed by an unknown key")]
    UnknownKey,
    #[error("token has the wrong type")]
    WrongType,
    #[error("token is invalid: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
}

/// Signs `claims` as an RS256 JWT with header `typ` (e.g. `at+jwt`, RFC 9068 §2.1) and the
/// active key's `kid`.
pub fn sign<C: Serialize>(keys: &KeySet, typ: &str, claims: &C) -> anyhow::Result<String> {
    let key = keys.active();
    let mut header = JwsHeader::new();
    header.set_token_type(typ);
    let payload = serde_json::to_vec(claims)?;
    Ok(josekit::jws::serialize_compact(&payload, &header, &key.signer)?)
}

/// What a verifier requires of a token beyond its signature.
pub struct Expect<'a> {
    pub typ: &'a str,
    pub issuer: &'a str,
    /// `None` skips the audience check (for tokens whose audience the caller checks itself).
    pub audience: Option<&'a str>,
}

impl Expect<'_> {
    /// Also accepts an expired token: RP-initiated logout takes an expired `id_token_hint`.
    pub fn allowing_expired(&self) -> ExpectExpired<'_> {
        ExpectExpired(self)
    }
}

/// See [`Expect::allowing_expired`].
pub struct ExpectExpired<'a>(&'a Expect<'a>);

/// Verifies signature, `typ`, `iss`, `exp`/`nbf` (no leeway beyond jsonwebtoken's 60 s
/// default for clock skew) and, if asked, `aud`. Only RS256 is accepted: the algorithm comes
/// from us, never from the token (RFC 8725 §3.1).
pub fn verify<C: DeserializeOwned>(keys: &KeySet, token: &str, expect: &Expect<'_>) -> Result<C, JwtError> {
    verify_inner(keys, token, expect, true)
}

/// [`verify`] without the expiry check.
pub fn verify_allowing_expired<C: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    expect: &ExpectExpired<'_>,
) -> Result<C, JwtError> {
    verify_inner(keys, token, expect.0, false)
}

fn verify_inner<C: DeserializeOwned>(
    keys: &KeySet,
    token: &str,
    expect: &Expect<'_>,
    check_exp: bool,
) -> Result<C, JwtError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| JwtError::Malformed)?;
    if header.alg != Algorithm::RS256 {
        return Err(JwtError::Malformed);
    }
    if !header
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case(expect.typ))
    {
        return Err(JwtError::WrongType);
    }
    let kid = header.kid.ok_or(JwtError::UnknownKey)?;
    let key = keys.find(&kid).ok_or(JwtError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[expect.issuer]);
    validation.validate_exp = check_exp;
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    match expect.audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    Ok(jsonwebtoken::decode::<C>(token, &key.decoding, &validation)?.claims)
}
