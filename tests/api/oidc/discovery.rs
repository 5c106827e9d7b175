//! The discovery document (`/.well-known/openid-configuration`): what it advertises, and that
//! each advertised protocol endpoint is served.

use super::support::{Auth, Reply, post_form};
use super::{ClientOptions, provider};

#[tokio::test]
async fn discovery_advertises_the_protocol_endpoints_and_they_are_served() {
    let p = provider(ClientOptions::default()).await;
    let doc = p.app.get_json("/.well-known/openid-configuration").await;
    let issuer = p.app.address.as_str();
    assert_eq!(doc["issuer"], issuer);
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("revocation_endpoint", "/revoke"),
        ("introspection_endpoint", "/introspect"),
        ("end_session_endpoint", "/logout"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(doc[field], format!("{issuer}{path}"), "{field}");
    }
    let list = |name: &str| -> Vec<String> {
        doc[name]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is a list: {doc}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        list("code_challenge_methods_supported"),
        ["S256"],
        "plain is not offered"
    );
    assert_eq!(list("response_types_supported"), ["code"]);
    for grant in ["authorization_code", "refresh_token", "client_credentials"] {
        assert!(list("grant_types_supported").iter().any(|g| g == grant), "{grant}");
    }
    assert!(
        !list("grant_types_supported")
            .iter()
            .any(|g| g == "implicit" || g == "password"),
        "no implicit or password grant"
    );
    for scope in ["openid", "profile", "email", "offline_access", "roles"] {
        assert!(list("scopes_supported").iter().any(|s| s == scope), "scope {scope}");
    }
    for claim in ["sub", "iss", "aud", "exp", "iat", "email", "email_verified", "name"] {
        assert!(list("claims_supported").iter().any(|c| c == claim), "claim {claim}");
    }
    for method in ["client_secret_basic", "client_secret_post", "none"] {
        assert!(
            list("token_endpoint_auth_methods_supported")
                .iter()
                .any(|m| m == method),
            "token auth method {method}"
        );
    }
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(list("id_token_signing_alg_values_supported"), ["RS256"]);

    // Each advertised protocol endpoint answers as its RFC says, not 404/405.
    let revoke = post_form(&p.app, "/revoke", Auth::None, &[("token", "x")]).await;
    revoke.assert_oauth_error(401, "invalid_client", "revocation_endpoint without client auth");
    let intro = post_form(&p.app, "/introspect", Auth::None, &[("token", "x")]).await;
    intro.assert_oauth_error(401, "invalid_client", "introspection_endpoint without client auth");
    let token = post_form(&p.app, "/token", Auth::None, &[]).await;
    token.assert_oauth_error(400, "invalid_request", "token_endpoint without grant_type");
    let logout = Reply::read(p.app.get("/logout").await).await;
    assert_eq!(logout.status, 200, "end_session_endpoint without a session");
}
