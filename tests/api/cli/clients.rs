use super::{Cli, error_line, stdout};

#[tokio::test]
async fn confidential_client_gets_a_secret_once_and_can_rotate_it() {
    let cli = Cli::new();
    let client = cli.json(&[
        "client",
        "create",
        "--name",
        "Web app",
        "--redirect-uri",
        "https://app.example.com/cb",
        "--redirect-uri",
        "http://127.0.0.1:3000/cb",
        "--post-logout-redirect-uri",
        "https://app.example.com/",
        "--grant",
        "authorization_code",
        "--grant",
        "refresh_token",
        "--grant",
        "client_credentials",
        "--resource",
        "https://api.example.com",
        "--skip-consent",
        "--json",
    ]);
    let id = client["client_id"].as_str().unwrap().to_owned();
    let secret = client["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 43, "256-bit secret");
    assert_eq!(client["public"], false);
    assert_eq!(client["skip_consent"], true);
    assert_eq!(client["redirect_uris"].as_array().unwrap().len(), 2);
    assert_eq!(client["resources"], serde_json::json!(["https://api.example.com"]));

    // Listing never shows a secret again.
    let list = cli.json(&["client", "list", "--json"]);
    assert_eq!(list["clients"][0]["client_id"], id.as_str());
    assert!(list["clients"][0].get("client_secret").is_none());
    assert!(!stdout(&cli.run(&["client", "list"])).contains(&secret));

    let rotated = cli.json(&["client", "rotate-secret", &id, "--json"]);
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);

    cli.json(&["client", "delete", &id, "--json"]);
    let out = cli.run(&["client", "delete", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(error_line(&out), format!("error: no client with id {id}"));
}

#[tokio::test]
async fn public_client_has_no_secret_and_no_client_credentials() {
    let cli = Cli::new();
    let client = cli.json(&[
        "client",
        "create",
        "--name",
        "SPA",
        "--public",
        "--redirect-uri",
        "http://localhost:5173/cb",
        "--json",
    ]);
    assert_eq!(client["public"], true);
    assert!(client.get("client_secret").is_none());
    assert_eq!(
        client["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    let out = cli.run(&["client", "rotate-secret", client["client_id"].as_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(error_line(&out).contains("public"));
    let out = cli.run(&[
        "client",
        "create",
        "--name",
        "x",
        "--public",
        "--redirect-uri",
        "http://localhost/cb",
        "--grant",
        "client_credentials",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(error_line(&out).contains("client_credentials"));
}

#[tokio::test]
async fn bad_redirect_uris_are_refused() {
    let cli = Cli::new();
    for (uri, why) in [
        ("/relative", "absolute"),
        ("https://app.example.com/cb#frag", "fragment"),
        ("javascript:alert(1)", "scheme"),
    ] {
        let out = cli.run(&["client", "create", "--name", "x", "--redirect-uri", uri]);
        assert_eq!(out.status.code(), Some(1), "{uri}");
        assert!(error_line(&out).contains(why), "{uri}");
    }
    // Plain http to a non-loopback host: allowed in development only.
    let prod = [
        ("LATCHKEY_ENV", "production"),
        ("LATCHKEY_SECRET", "0123456789abcdef0123456789abcdef"),
        ("LATCHKEY_ISSUER", "https://id.example.com"),
    ];
    let out = cli.run_with(
        &[
            "client",
            "create",
            "--name",
            "x",
            "--redirect-uri",
            "http://app.example.com/cb",
        ],
        None,
        &prod,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(error_line(&out).contains("https"));
    cli.json(&[
        "client",
        "create",
        "--name",
        "x",
        "--redirect-uri",
        "http://app.example.com/cb",
        "--json",
    ]);
    assert_eq!(
        cli.json(&["client", "list", "--json"])["clients"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
