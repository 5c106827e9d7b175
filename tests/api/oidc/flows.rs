use openidconnect::core::CoreIdTokenVerifier;
use openidconnect::{AuthorizationCode, OAuth2TokenResponse, TokenResponse};

use super::{Browser, ClientOptions, Rp, attempt, provider, sign_in};

#[tokio::test]
async fn confidential_client_full_code_flow_with_pkce() {
    let p = provider(ClientOptions::default()).await;
    let rp = Rp::discover(&p).await;
    let browser = Browser::new(&p.app);
    let a = attempt(&rp, &["openid", "email", "profile"], &[]);
    let code = sign_in(&p, &browser, &a).await;
    let tokens = rp
        .client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(a.verifier)
        .request_async(&rp.http)
        .await
        .unwrap();
    let verifier: CoreIdTokenVerifier = rp.client.id_token_verifier();
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token.claims(&verifier, &a.nonce).unwrap();
    assert_eq!(claims.subject().as_str(), p.user_id);
    assert_eq!(claims.email().unwrap().as_str(), p.email);
    let at_hash = claims.access_token_hash().expect("at_hash");
    let expected = openidconnect::AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(at_hash, &expected);
    assert!(
        tokens.refresh_token().is_none(),
        "no offline_access, not first-party: no refresh token"
    );
}
