use secrecy::SecretString;
use serde_json::Value;

use super::{Cli, error_line, stdout, stored_password_hash};

#[tokio::test]
async fn user_create_reads_the_password_from_stdin_and_stores_an_argon2id_hash() {
    let cli = Cli::new();
    let out = cli.run_with(
        &[
            "user",
            "create",
            "--email",
            "Alice@Example.com",
            "--name",
            "Alice",
            "--password-stdin",
            "--admin",
            "--verified",
            "--json",
        ],
        Some("correct horse battery staple\n"),
        &[],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let user: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["name"], "Alice");
    assert_eq!(user["roles"], serde_json::json!(["admin"]));
    assert_eq!(user["email_verified"], true);
    assert!(
        uuid::Uuid::parse_str(user["id"].as_str().unwrap()).is_ok(),
        "sub is an opaque UUID"
    );
    assert!(user.get("password_hash").is_none());

    let hash = stored_password_hash(&cli.db.url, "alice@example.com").await.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    let pw = SecretString::from("correct horse battery staple");
    assert!(latchkey::crypto::password::verify_password(&pw, &hash));
}

#[tokio::test]
async fn duplicate_email_is_refused_whatever_its_case() {
    let cli = Cli::new();
    cli.json(&["user", "create", "--email", "bob@example.com", "--json"]);
    let out = cli.run(&["user", "create", "--email", "BOB@example.com"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        error_line(&out),
        "error: a user with email bob@example.com already exists"
    );
    assert_eq!(
        cli.json(&["user", "list", "--json"])["users"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test]
async fn users_can_be_listed_disabled_enabled_and_deleted() {
    let cli = Cli::new();
    cli.json(&["user", "create", "--email", "a@example.com", "--json"]);
    cli.json(&["user", "create", "--email", "b@example.com", "--name", "B", "--json"]);
    let list = cli.json(&["user", "list", "--json"]);
    let emails: Vec<&str> = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["a@example.com", "b@example.com"]);

    assert_eq!(
        cli.json(&["user", "disable", "a@example.com", "--json"])["disabled"],
        true
    );
    assert_eq!(cli.json(&["user", "list", "--json"])["users"][0]["disabled"], true);
    assert_eq!(
        cli.json(&["user", "enable", "a@example.com", "--json"])["disabled"],
        false
    );
    cli.json(&["user", "delete", "a@example.com", "--json"]);
    assert_eq!(
        cli.json(&["user", "list", "--json"])["users"].as_array().unwrap().len(),
        1
    );

    let out = cli.run(&["user", "disable", "nobody@example.com"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(error_line(&out), "error: no user with email nobody@example.com");
    let text = stdout(&cli.run(&["user", "list"]));
    assert!(text.contains("b@example.com"), "{text}");
}

#[tokio::test]
async fn bad_user_input_is_one_line_and_non_zero() {
    let cli = Cli::new();
    let out = cli.run(&["user", "create", "--email", "not-an-email"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(error_line(&out).contains("not a valid email address"));
    let out = cli.run_with(
        &["user", "create", "--email", "c@example.com", "--password-stdin"],
        Some("short\n"),
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(error_line(&out).contains("8 to 128 characters"));
    // Nothing half-written: the refused user does not exist.
    assert_eq!(
        cli.json(&["user", "list", "--json"])["users"].as_array().unwrap().len(),
        0
    );
}
