//! Access tokens as backends verify them (RFC 9068, with the JWKS alone), their audience for
//! a requested resource (RFC 8707), and the `client_credentials` grant.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use openidconnect::OAuth2TokenResponse;
use serde_json::Value;

use super::flows::{code_tokens, jwks, scope_set, token_request, verify_access_token};
use super::{Browser, ClientOptions, Rp, attempt, provider};

// ---------------------------------------------------------------------------------------
// Access tokens as backends see them.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn access_token_is_an_rs256_jwt_verifiable_with_the_jwks_alone() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let a = attempt(&rp, &["openid", "email"], &[]);
    let tokens = code_tokens(&p, &rp, &browser, a).await;

    let keys = jwks(&p).await;
    let claims = verify_access_token(
        &keys,
        tokens.access_token().secret(),
        &p.app.address,
        &p.client.client_id,
    );
    assert_eq!(claims["iss"], p.app.address);
    assert_eq!(claims["sub"], p.user_id, "sub is the user's id, never the email");
    assert_eq!(claims["aud"], p.client.client_id);
    assert_eq!(claims["client_id"], p.client.client_id);
    assert_eq!(scope_set(claims["scope"].as_str().unwrap()), scope_set("openid email"));
    let now = chrono::Utc::now().timestamp();
    let exp = claims["exp"].as_i64().expect("exp");
    let iat = claims["iat"].as_i64().expect("iat");
    assert!(
        exp > now && exp <= now + 15 * 60 + 5,
        "exp within the 15 min lifetime: {exp} vs {now}"
    );
    assert!((iat - now).abs() <= 60, "iat is now");
    assert!(!claims["jti"].as_str().expect("jti").is_empty());
    // Verification needs the token's audience: a backend for another audience refuses it.
    let header = jsonwebtoken::decode_header(tokens.access_token().secret()).unwrap();
    let key = DecodingKey::from_jwk(keys.find(&header.kid.unwrap()).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["https://someone-else.example"]);
    assert!(jsonwebtoken::decode::<Value>(tokens.access_token().secret(), &key, &validation).is_err());
}

#[tokio::test]
async fn access_token_audience_is_the_registered_resource_requested() {
    const API: &str = "https://api.example.com";
    let p = provider(ClientOptions {
        resources: vec![API],
        ..Default::default()
    })
    .await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let a = attempt(&rp, &["openid"], &[("resource", API)]);
    let tokens = code_tokens(&p, &rp, &browser, a).await;

    let keys = jwks(&p).await;
    let claims = verify_access_token(&keys, tokens.access_token().secret(), &p.app.address, API);
    assert_eq!(claims["aud"], API, "RFC 8707: the audience is the resource");
    assert_eq!(claims["client_id"], p.client.client_id);
    assert_eq!(claims["sub"], p.user_id);
}

// ---------------------------------------------------------------------------------------
// client_credentials.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn client_credentials_issues_an_access_token_for_the_client_itself() {
    let p = provider(ClientOptions {
        grants: vec!["authorization_code", "client_credentials"],
        ..Default::default()
    })
    .await;
    let id = p.client.client_id.clone();
    let secret = p.client.client_secret.clone().expect("a confidential client");
    let answer = token_request(&p, Some((&id, &secret)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.cache_control(), "no-store");
    assert!(answer.str("token_type").eq_ignore_ascii_case("bearer"));
    assert!(answer.body["expires_in"].as_u64().is_some_and(|s| s > 0));
    assert!(
        answer.body.get("refresh_token").is_none(),
        "RFC 6749 §4.4.3: no refresh token"
    );
    assert!(answer.body.get("id_token").is_none(), "no user, no ID token");

    let keys = jwks(&p).await;
    let claims = verify_access_token(&keys, answer.str("access_token"), &p.app.address, &id);
    assert_eq!(claims["sub"], id, "sub is the client id");
    assert_eq!(claims["client_id"], id);
    assert!(claims.get("email").is_none());

    // client_secret_post works as well.
    let answer = token_request(
        &p,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    // And a wrong secret is invalid_client with a challenge.
    let answer = token_request(&p, Some((&id, "wrong")), &[("grant_type", "client_credentials")]).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(answer.error(), "invalid_client");
    assert!(answer.headers.contains_key("www-authenticate"));
}

#[tokio::test]
async fn a_public_client_cannot_use_client_credentials() {
    let p = provider(ClientOptions {
        public: true,
        ..Default::default()
    })
    .await;
    let answer = token_request(
        &p,
        None,
        &[("grant_type", "client_credentials"), ("client_id", &p.client.client_id)],
    )
    .await;
    assert!(
        matches!(
            (answer.status, answer.error()),
            (400, "unauthorized_client") | (401, "invalid_client")
        ),
        "RFC 6749 §4.4: confidential clients only; got {} {}",
        answer.status,
        answer.body
    );
    assert!(answer.body.get("access_token").is_none());
}
