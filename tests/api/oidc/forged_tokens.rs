//! Forged, tampered, expired and misused bearer tokens at `/userinfo`: each must be refused
//! with RFC 6750 `invalid_token`, while a well-formed token signed with the server's key works.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use josekit::jwk::KeyPair;
use josekit::jws::{HS256, RS256};
use serde_json::json;

use super::support::{
    Reply, access_claims, assert_invalid_token, b64, field, fixture_signed, header_of, payload_of, rs256_header,
    server_kid, sign_with, signing_input, tokens, userinfo, with_payload,
};
use super::{ClientOptions, provider};
use crate::helpers::FIXTURE_KEY;

/// An RSA key the server has never seen, generated once per test binary.
static FOREIGN_KEY: LazyLock<Vec<u8>> = LazyLock::new(|| RS256.generate_key_pair(2048).unwrap().to_der_private_key());

fn now() -> i64 {
    Utc::now().timestamp()
}

/// The baseline for every forgery below: a token built the way these tests build them,
/// signed with the server's key and well-formed, IS accepted. So each refusal below is due
/// to the one thing the forgery changes.
#[tokio::test]
async fn well_formed_token_signed_with_the_server_key_is_accepted() {
    let p = provider(ClientOptions::default()).await;
    let kid = server_kid(&p.app).await;
    let token = fixture_signed(&rs256_header("at+jwt", &kid), &access_claims(&p, now() + 600));
    let reply = userinfo(&p.app, &token).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["sub"], p.user_id.as_str());
    assert_eq!(reply.json()["email"], p.email.as_str());
}

#[tokio::test]
async fn alg_none_token_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let kid = server_kid(&p.app).await;
    let claims = access_claims(&p, now() + 600);
    for header in [
        json!({ "alg": "none", "typ": "at+jwt", "kid": kid }),
        json!({ "alg": "None", "typ": "at+jwt", "kid": kid }),
        json!({ "alg": "none", "typ": "at+jwt" }),
    ] {
        let unsigned = format!("{}.", signing_input(&header, &claims));
        assert_invalid_token(&userinfo(&p.app, &unsigned).await, &format!("unsigned {header}"));
        // The same with a signature part that is not empty but meaningless.
        let junk = format!("{unsigned}{}", b64(b"junk"));
        assert_invalid_token(&userinfo(&p.app, &junk).await, &format!("alg none with junk {header}"));
    }
}

#[tokio::test]
async fn hs256_token_keyed_with_the_server_public_key_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let kid = server_kid(&p.app).await;
    let claims = access_claims(&p, now() + 600);
    let pair = RS256.key_pair_from_pem(FIXTURE_KEY).unwrap();
    let jwks = p.app.get_json("/.well-known/jwks.json").await;
    let n = URL_SAFE_NO_PAD.decode(field(&jwks["keys"][0], "n")).unwrap();
    // Every form of the public key a verifier that trusts `alg` might feed to HMAC.
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("SPKI PEM", pair.to_pem_public_key()),
        ("PKCS#1 PEM", pair.to_traditional_pem_public_key()),
        ("SPKI DER", pair.to_der_public_key()),
        ("PKCS#1 DER", pair.to_raw_public_key()),
        ("JWKS document", jwks.to_string().into_bytes()),
        ("JWK", jwks["keys"][0].to_string().into_bytes()),
        ("modulus", n),
    ];
    for (what, secret) in secrets {
        let signer = HS256.signer_from_bytes(&secret).unwrap();
        for header in [
            json!({ "alg": "HS256", "typ": "at+jwt", "kid": kid }),
            json!({ "alg": "HS256", "typ": "at+jwt" }),
        ] {
            let token = sign_with(&signer, &header, &claims);
            assert_invalid_token(&userinfo(&p.app, &token).await, &format!("HS256 with the {what}"));
        }
    }
}

#[tokio::test]
async fn token_signed_by_a_foreign_rsa_key_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let kid = server_kid(&p.app).await;
    let claims = access_claims(&p, now() + 600);
    let signer = RS256.signer_from_der(&*FOREIGN_KEY).unwrap();
    // Claiming to be the server's key, naming no key, and naming the foreign key's own kid.
    for header in [
        rs256_header("at+jwt", &kid),
        json!({ "alg": "RS256", "typ": "at+jwt" }),
        rs256_header("at+jwt", "attacker-key"),
    ] {
        let token = sign_with(&signer, &header, &claims);
        assert_invalid_token(
            &userinfo(&p.app, &token).await,
            &format!("foreign key, header {header}"),
        );
    }
}

#[tokio::test]
async fn token_with_a_tampered_payload_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let (_, tokens) = tokens(&p, &["openid", "email"]).await;
    let access = field(&tokens, "access_token");
    assert_eq!(userinfo(&p.app, &access).await.status, 200, "the genuine token works");

    let victim = latchkey::service::users::create(
        &p.db,
        "test",
        latchkey::service::users::NewUser {
            email: latchkey::domain::Email::parse(&format!("victim-{}@example.com", uuid::Uuid::new_v4().simple()))
                .unwrap(),
            name: "Victim".into(),
            password: None,
            admin: false,
            verified: true,
        },
    )
    .await
    .unwrap();
    let original = payload_of(&access);
    let mut tampered = Vec::new();
    let mut other_user = original.clone();
    other_user["sub"] = json!(victim.id);
    tampered.push(("sub changed to another user", other_user));
    let mut wider = original.clone();
    wider["scope"] = json!("email openid profile roles");
    tampered.push(("scope widened", wider));
    let mut longer = original.clone();
    longer["exp"] = json!(original["exp"].as_i64().unwrap() + 86_400);
    tampered.push(("exp extended", longer));
    for (what, payload) in tampered {
        let forged = with_payload(&access, &payload);
        assert_invalid_token(&userinfo(&p.app, &forged).await, what);
    }
    // A signature that is one bit off.
    let mut sig = URL_SAFE_NO_PAD.decode(access.rsplit('.').next().unwrap()).unwrap();
    sig[10] ^= 1;
    let (signed_part, _) = access.rsplit_once('.').unwrap();
    let flipped = format!("{signed_part}.{}", b64(&sig));
    assert_invalid_token(&userinfo(&p.app, &flipped).await, "signature with a flipped bit");
}

#[tokio::test]
async fn token_with_an_unknown_kid_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let kid = server_kid(&p.app).await;
    let claims = access_claims(&p, now() + 600);
    // Signed with the server's real key: only the `kid` is wrong, or missing.
    for header in [
        rs256_header("at+jwt", "unknown-kid"),
        rs256_header("at+jwt", &format!("{kid}x")),
        rs256_header("at+jwt", ""),
        json!({ "alg": "RS256", "typ": "at+jwt" }),
    ] {
        let token = fixture_signed(&header, &claims);
        assert_invalid_token(&userinfo(&p.app, &token).await, &format!("header {header}"));
    }
}

#[tokio::test]
async fn expired_access_token_is_refused() {
    let p = provider(ClientOptions::default()).await;
    let kid = server_kid(&p.app).await;
    // Well past any clock-skew leeway.
    for exp in [now() - 3600, now() - 121] {
        let token = fixture_signed(&rs256_header("at+jwt", &kid), &access_claims(&p, exp));
        assert_invalid_token(
            &userinfo(&p.app, &token).await,
            &format!("expired {}s ago", now() - exp),
        );
    }
}

#[tokio::test]
async fn token_of_another_type_or_issuer_is_refused_as_an_access_token() {
    let p = provider(ClientOptions {
        skip_consent: true,
        ..Default::default()
    })
    .await;
    let (_, tokens) = tokens(&p, &["openid", "email"]).await;
    let refresh = field(&tokens, "refresh_token");
    assert_eq!(header_of(&refresh)["typ"], "refresh+jwt");
    assert_invalid_token(&userinfo(&p.app, &refresh).await, "refresh token as access token");
    let id_token = field(&tokens, "id_token");
    assert_invalid_token(&userinfo(&p.app, &id_token).await, "ID token as access token");

    let kid = server_kid(&p.app).await;
    let claims = access_claims(&p, now() + 600);
    for typ in ["JWT", "refresh+jwt", "at+jwt+x"] {
        let token = fixture_signed(&rs256_header(typ, &kid), &claims);
        assert_invalid_token(&userinfo(&p.app, &token).await, &format!("typ {typ}"));
    }
    let token = fixture_signed(&json!({ "alg": "RS256", "kid": kid }), &claims);
    assert_invalid_token(&userinfo(&p.app, &token).await, "no typ");
    let mut foreign_issuer = claims.clone();
    foreign_issuer["iss"] = json!("https://evil.example.com");
    let token = fixture_signed(&rs256_header("at+jwt", &kid), &foreign_issuer);
    assert_invalid_token(&userinfo(&p.app, &token).await, "another issuer");
    for junk in ["garbage", "a.b.c", "...", "Bearer x"] {
        assert_invalid_token(&userinfo(&p.app, junk).await, &format!("junk {junk:?}"));
    }
}

#[tokio::test]
async fn userinfo_without_credentials_gets_a_bare_bearer_challenge() {
    let p = provider(ClientOptions::default()).await;
    for res in [
        p.app.get("/userinfo").await,
        p.app
            .http
            .post(format!("{}/userinfo", p.app.address))
            .send()
            .await
            .unwrap(),
    ] {
        let reply = Reply::read(res).await;
        assert_eq!(reply.status, 401, "{}", reply.body);
        let challenge = reply.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer"), "challenge {challenge:?}");
        // RFC 6750 §3.1: no error code when the request carried no credentials.
        assert!(!challenge.contains("error="), "bare challenge, got {challenge:?}");
    }
}

#[tokio::test]
async fn userinfo_token_in_header_and_body_is_invalid_request() {
    let p = provider(ClientOptions::default()).await;
    let (_, tokens) = tokens(&p, &["openid", "email"]).await;
    let access = field(&tokens, "access_token");
    let res = p
        .app
        .http
        .post(format!("{}/userinfo", p.app.address))
        .bearer_auth(&access)
        .form(&[("access_token", access.as_str())])
        .send()
        .await
        .unwrap();
    let reply = Reply::read(res).await;
    reply.assert_oauth_error(400, "invalid_request", "token in header and body");
}

#[tokio::test]
async fn userinfo_accepts_the_token_in_a_form_body() {
    let p = provider(ClientOptions::default()).await;
    let (_, tokens) = tokens(&p, &["openid", "email"]).await;
    let access = field(&tokens, "access_token");
    let res = p
        .app
        .http
        .post(format!("{}/userinfo", p.app.address))
        .form(&[("access_token", access.as_str())])
        .send()
        .await
        .unwrap();
    let reply = Reply::read(res).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["sub"], p.user_id.as_str());
    assert_eq!(reply.json()["email"], p.email.as_str());
    // A forged token in the body is refused like one in the header.
    let res = p
        .app
        .http
        .post(format!("{}/userinfo", p.app.address))
        .form(&[("access_token", with_payload(&access, &json!({ "sub": "x" })).as_str())])
        .send()
        .await
        .unwrap();
    assert_invalid_token(&Reply::read(res).await, "forged token in the body");
}
