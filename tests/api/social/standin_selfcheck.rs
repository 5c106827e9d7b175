//! Proof that the stand-ins speak the protocols: the OIDC one to the `openidconnect` crate as
//! relying party (and each misbehaviour is caught by its verifier), the GitHub one by hand
//! with the shapes and quirks of GitHub's documentation.

use std::time::{Duration, Instant};

use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType, CoreTokenResponse};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use serde_json::Value;
use url::Url;

use super::github_standin::{GithubEmail, GithubStandIn, GithubUser};
use super::oidc_standin::{Misbehave, OidcStandIn, UpstreamUser, unreachable_url};

const CLIENT_ID: &str = "latchkey.apps.example";
/// Characters that RFC 6749 §2.3.1 makes a client form-urlencode inside HTTP Basic.
const SECRET: &str = "s3cret:with/odd+chars&=";
/// A callback that already holds a query, which the stand-ins must keep.
const CALLBACK: &str = "http://127.0.0.1:9/callback?provider=upstream";

type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// A non-redirecting client, as openidconnect advises and as a browser test needs.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("latchkey-selfcheck")
        .build()
        .unwrap()
}

async fn discover(issuer: &str) -> Client {
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(issuer.into()).unwrap(), &http())
        .await
        .unwrap();
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(CLIENT_ID.into()),
        Some(ClientSecret::new(SECRET.into())),
    )
    .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap())
}

/// The parameters of the 302 that ends `url`.
async fn redirect_params(url: &str) -> (Url, Vec<(String, String)>) {
    let res = http().get(url).send().await.unwrap();
    assert_eq!(res.status(), 302, "GET {url}: {}", res.text().await.unwrap());
    let location = Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let params = location.query_pairs().into_owned().collect();
    (location, params)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Authorization with PKCE and a nonce, then the code exchange.
async fn code_flow(client: &Client) -> Result<(CoreTokenResponse, Nonce), String> {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let (location, params) = redirect_params(url.as_str()).await;
    assert!(location.as_str().starts_with(CALLBACK), "{location}");
    assert_eq!(
        param(&params, "provider"),
        Some("upstream"),
        "the callback's own query is kept"
    );
    assert_eq!(param(&params, "state"), Some(csrf.secret().as_str()));
    let code = param(&params, "code").ok_or(format!("no code in {location}"))?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.into()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok((tokens, nonce))
}

#[tokio::test]
async fn oidc_code_flow_satisfies_openidconnect() {
    let google = OidcStandIn::start(CLIENT_ID, SECRET).await;
    let client = discover(&google.issuer).await;
    let (tokens, nonce) = code_flow(&client).await.unwrap();
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap();
    assert_eq!(claims.subject().as_str(), UpstreamUser::default().sub);
    assert_eq!(claims.email().unwrap().as_str(), "alice@example.com");
    assert_eq!(claims.email_verified(), Some(true));
    assert_eq!(claims.name().unwrap().get(None).unwrap().as_str(), "Alice Example");
    assert_eq!((google.discovery_fetches(), google.jwks_fetches()), (1, 1));
    let form = &google.token_requests()[0];
    assert!(form.contains_key("code_verifier"), "{form:?}");
    assert_eq!(google.token_auth_methods(), ["client_secret_basic"]);
    let asked = &google.authorize_requests()[0];
    assert!(
        asked.contains_key("nonce") && asked["scope"].contains("email"),
        "{asked:?}"
    );

    let userinfo: Value = http()
        .get(format!("{}/userinfo", google.issuer))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["email"], "alice@example.com");

    // A user without email: the claims are absent, not null.
    google.set_user(UpstreamUser {
        sub: "no-mail".into(),
        email: None,
        email_verified: false,
        name: None,
    });
    let (tokens, nonce) = code_flow(&client).await.unwrap();
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap();
    assert_eq!(
        (claims.subject().as_str(), claims.email(), claims.email_verified()),
        ("no-mail", None, None)
    );
}

#[tokio::test]
async fn oidc_each_misbehaviour_is_rejected_by_the_verifier() {
    let google = OidcStandIn::start(CLIENT_ID, SECRET).await;
    let client = discover(&google.issuer).await;
    // Each one is caught for its own reason, so each changes only what it says.
    for (m, reason) in [
        (Misbehave::WrongKey, "SignatureVerification(CryptoError"),
        (Misbehave::WrongAudience, "InvalidAudience"),
        (Misbehave::WrongNonce, "InvalidNonce"),
        (Misbehave::WrongIssuer, "InvalidIssuer"),
        (Misbehave::Expired, "Expired"),
    ] {
        google.set_misbehave(m);
        let (tokens, nonce) = code_flow(&client).await.unwrap();
        let verified = tokens.id_token().unwrap().claims(&client.id_token_verifier(), &nonce);
        let error = format!("{:?}", verified.expect_err("accepted"));
        assert!(error.starts_with(reason), "{m:?}: {error}");
    }
    google.set_misbehave(Misbehave::InvalidJson);
    assert!(code_flow(&client).await.is_err());

    google.set_misbehave(Misbehave::Slow(Duration::from_millis(300)));
    let started = Instant::now();
    code_flow(&client).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));

    google.set_misbehave(Misbehave::Deny);
    let (url, csrf, _) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(PkceCodeChallenge::new_random_sha256().0)
        .url();
    let (_, params) = redirect_params(url.as_str()).await;
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some(csrf.secret().as_str()));
    assert_eq!(param(&params, "code"), None);

    google.set_misbehave(Misbehave::None);
    let (tokens, nonce) = code_flow(&client).await.unwrap();
    tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap();
}

#[tokio::test]
async fn oidc_rotation_publishes_both_keys_and_signs_with_the_new_one() {
    let google = OidcStandIn::start(CLIENT_ID, SECRET).await;
    let before = discover(&google.issuer).await;
    google.rotate_key();
    let (tokens, nonce) = code_flow(&before).await.unwrap();
    let id_token = tokens.id_token().unwrap();
    let header = jsonwebtoken::decode_header(id_token.to_string()).unwrap();
    assert_eq!(header.kid.as_deref(), Some("k2"));
    let error = id_token.claims(&before.id_token_verifier(), &nonce).unwrap_err();
    assert!(format!("{error:?}").contains("NoMatchingKey"), "{error:?}");

    let after = discover(&google.issuer).await;
    id_token.claims(&after.id_token_verifier(), &nonce).unwrap();
    assert_eq!(google.jwks_fetches(), 2);
}

#[tokio::test]
async fn oidc_refuses_bad_requests_without_redirecting() {
    let google = OidcStandIn::start(CLIENT_ID, SECRET).await;
    let no_pkce = format!(
        "{}/authorize?client_id={CLIENT_ID}&response_type=code&scope=openid&redirect_uri=http://127.0.0.1:9/cb",
        google.issuer
    );
    let res = http().get(no_pkce).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().get("location").is_none());

    // client_secret_post, an unknown code, a wrong secret: RFC 6749 §5.2 bodies.
    let token = |secret: &str| {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", "nope"),
            ("redirect_uri", CALLBACK),
            ("client_id", CLIENT_ID),
            ("client_secret", secret),
        ];
        http().post(format!("{}/token", google.issuer)).form(&form).send()
    };
    let res = token(SECRET).await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let res = token("wrong").await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_client");

    let nowhere = IssuerUrl::new(unreachable_url()).unwrap();
    assert!(CoreProviderMetadata::discover_async(nowhere, &http()).await.is_err());
}

/// The GitHub authorization step, with PKCE; gives the code and the verifier.
async fn github_code(github: &GithubStandIn, scope: &str) -> (String, String) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut url = Url::parse(&format!("{}/login/oauth/authorize", github.base_url)).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("scope", scope)
        .append_pair("state", "xyz")
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256");
    let (_, params) = redirect_params(url.as_str()).await;
    assert_eq!(param(&params, "state"), Some("xyz"));
    (param(&params, "code").unwrap().to_owned(), verifier.secret().clone())
}

async fn github_token(github: &GithubStandIn, code: &str, verifier: &str, accept: &str) -> reqwest::Response {
    let form = [
        ("client_id", CLIENT_ID),
        ("client_secret", SECRET),
        ("code", code),
        ("code_verifier", verifier),
    ];
    let url = format!("{}/login/oauth/access_token", github.base_url);
    http()
        .post(url)
        .header("accept", accept)
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn github_web_flow_and_rest_shapes() {
    let github = GithubStandIn::start(CLIENT_ID, SECRET).await;
    github.set_user(GithubUser {
        id: 42,
        login: "mona".into(),
        name: None,
        emails: vec![
            GithubEmail {
                email: "old@example.com".into(),
                primary: false,
                verified: false,
            },
            GithubEmail {
                email: "mona@example.com".into(),
                primary: true,
                verified: true,
            },
        ],
    });
    let (code, verifier) = github_code(&github, "read:user user:email").await;
    let res = github_token(&github, &code, &verifier, "application/json").await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["scope"], "read:user,user:email");
    let token = body["access_token"].as_str().unwrap();
    assert!(token.starts_with("gho_"));

    let api = |path: &str| http().get(format!("{}{path}", github.api_url));
    let user: Value = api("/user")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((user["id"].as_u64(), user["login"].as_str()), (Some(42), Some("mona")));
    assert!(user["name"].is_null() && user["email"].is_null());
    let emails: Value = api("/user/emails")
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(emails[1]["email"], "mona@example.com");
    assert_eq!(
        (emails[1]["primary"].as_bool(), emails[1]["verified"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(emails[1]["visibility"], "private");
    assert!(emails[0]["visibility"].is_null());

    let no_agent = reqwest::Client::new()
        .get(format!("{}/user", github.api_url))
        .bearer_auth(token);
    assert_eq!(no_agent.send().await.unwrap().status(), 403);
    let res = api("/user").bearer_auth("gho_forged").send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.json::<Value>().await.unwrap()["message"], "Bad credentials");

    let calls = github.api_requests();
    assert_eq!(calls[0].0, "/user");
    assert_eq!(calls[0].1["user-agent"], "latchkey-selfcheck");
    assert_eq!(calls[1].1["authorization"], format!("token {token}"));
    assert!(!calls[2].1.contains_key("user-agent"));
    assert_eq!(github.token_requests()[0]["code_verifier"], verifier);
}

#[tokio::test]
async fn github_quirks_errors_with_200_form_bodies_and_denial() {
    let github = GithubStandIn::start(CLIENT_ID, SECRET).await;
    let (code, verifier) = github_code(&github, "read:user").await;
    // Without `Accept: application/json`, GitHub answers form-encoded.
    let res = github_token(&github, &code, &verifier, "*/*").await;
    let text = res.text().await.unwrap();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(text.as_bytes()).into_owned().collect();
    let token = param(&form, "access_token").unwrap().to_owned();
    assert_eq!(
        (param(&form, "scope"), param(&form, "token_type")),
        (Some("read:user"), Some("bearer"))
    );

    // A redeemed code: an error, with HTTP 200.
    let res = github_token(&github, &code, &verifier, "application/json").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "bad_verification_code");
    // A wrong verifier burns the code too.
    let (code, _) = github_code(&github, "read:user").await;
    let res = github_token(&github, &code, "wrong-verifier", "application/json").await;
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "bad_verification_code");

    // Without user:email the emails are a 404, as on GitHub.
    let res = http()
        .get(format!("{}/user/emails", github.api_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    github.set_deny(true);
    let url = format!(
        "{}/login/oauth/authorize?client_id={CLIENT_ID}&redirect_uri=http://127.0.0.1:9/cb&state=s1",
        github.base_url
    );
    let (_, params) = redirect_params(&url).await;
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(
        param(&params, "error_description"),
        Some("The user has denied your application access.")
    );
    assert_eq!(param(&params, "state"), Some("s1"));
    assert_eq!(github.authorize_requests().len(), 3);
}
