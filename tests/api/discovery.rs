use crate::helpers::spawn_app;

#[tokio::test]
async fn discovery_names_the_issuer_and_every_endpoint() {
    let app = spawn_app().await;
    let res = app.get("/.well-known/openid-configuration").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let doc: serde_json::Value = res.json().await.unwrap();
    assert_eq!(doc["issuer"], "http://issuer.test:8080");
    assert_eq!(doc["jwks_uri"], "http://issuer.test:8080/.well-known/jwks.json");
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    assert_eq!(doc["subject_types_supported"], serde_json::json!(["public"]));
    let issuer = "http://issuer.test:8080";
    for (field, path) in [
        ("authorization_endpoint", "/authorize"),
        ("token_endpoint", "/token"),
        ("userinfo_endpoint", "/userinfo"),
        ("revocation_endpoint", "/revoke"),
        ("introspection_endpoint", "/introspect"),
        ("end_session_endpoint", "/logout"),
    ] {
        assert_eq!(doc[field], format!("{issuer}{path}"), "{field}");
    }
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(
        doc["grant_types_supported"],
        serde_json::json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    for scope in ["openid", "profile", "email", "offline_access", "roles"] {
        assert!(
            doc["scopes_supported"].as_array().unwrap().iter().any(|s| s == scope),
            "{scope}"
        );
    }
    assert!(
        doc.get("registration_endpoint").is_none(),
        "dynamic registration is not offered"
    );
}

#[tokio::test]
async fn issuer_trailing_slash_is_normalised() {
    let dir = crate::helpers::folder_with_fixture_key();
    let db = crate::helpers::TestDb::new(dir.path());
    let app = crate::helpers::spawn_app_in(dir, db, &[("LATCHKEY_ISSUER", "https://id.example.com/")]).await;
    let doc = app.get_json("/.well-known/openid-configuration").await;
    assert_eq!(doc["issuer"], "https://id.example.com");
}

#[tokio::test]
async fn jwks_publishes_public_members_only_with_cache_headers() {
    let app = spawn_app().await;
    let res = app.get("/.well-known/jwks.json").await;
    assert_eq!(res.status(), 200);
    let cache = res.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(cache.contains("public") && cache.contains("max-age="), "{cache}");
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"'));
    let jwks: serde_json::Value = res.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = keys[0].as_object().unwrap();
    let mut members: Vec<&str> = key.keys().map(String::as_str).collect();
    members.sort();
    assert_eq!(members, ["alg", "e", "kid", "kty", "n", "use"]);
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["e"], "AQAB");
    // kid is the RFC 7638 thumbprint: 32 bytes of SHA-256, base64url.
    assert_eq!(key["kid"].as_str().unwrap().len(), 43);

    // A verifier revalidating with the ETag gets 304 and no body.
    let res = app
        .http
        .get(format!("{}/.well-known/jwks.json", app.address))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert!(res.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn kid_matches_an_independent_thumbprint() {
    use base64::Engine;
    use sha2::Digest;
    let app = spawn_app().await;
    let jwks = app.get_json("/.well-known/jwks.json").await;
    let key = &jwks["keys"][0];
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        key["e"].as_str().unwrap(),
        key["n"].as_str().unwrap()
    );
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(canonical));
    assert_eq!(key["kid"], expected);
}
