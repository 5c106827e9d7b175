use serde_json::Value;

use super::{Cli, error_line};

#[test]
fn keys_list_rotate_and_retire() {
    let cli = Cli::new();
    let keys = cli.json(&["keys", "list", "--json"]);
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1);
    assert_eq!(keys["keys"][0]["state"], "active");
    let old = keys["keys"][0]["kid"].as_str().unwrap().to_owned();

    let new = cli.json(&["keys", "rotate", "--json"]);
    assert_eq!(new["state"], "active");
    let pending = cli.run_with(
        &["keys", "rotate", "--json"],
        None,
        &[("LATCHKEY_KEY_PREPUBLISH", "1h")],
    );
    let pending: Value = serde_json::from_slice(&pending.stdout).unwrap();
    assert_eq!(pending["state"], "published");

    let states: Vec<(String, String)> = cli.json(&["keys", "list", "--json"])["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_owned(),
                k["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        states.contains(&(new["kid"].as_str().unwrap().to_owned(), "active".into())),
        "{states:?}"
    );
    assert!(states.contains(&(old.clone(), "published".into())));

    let out = cli.run(&["keys", "retire", new["kid"].as_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(error_line(&out).contains("active signing key"));
    assert_eq!(cli.json(&["keys", "retire", &old, "--json"])["state"], "retired");
    let out = cli.run(&["keys", "retire", "no-such-kid"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(error_line(&out), "error: no signing key with kid no-such-kid");
}

#[test]
fn migrate_applies_once() {
    let cli = Cli::new();
    let applied = cli.json(&["migrate", "--json"])["applied"].as_array().unwrap().len();
    assert_eq!(applied, std::fs::read_dir("migrations/sqlite").unwrap().count());
    assert_eq!(cli.json(&["migrate", "--json"])["applied"].as_array().unwrap().len(), 0);
}

#[test]
fn bad_database_url_is_one_clear_line_and_exit_code_2() {
    let cli = Cli::new();
    let started = std::time::Instant::now();
    let out = cli.run_with(
        &["user", "list"],
        None,
        &[("DATABASE_URL", "mysql://root:hunter2@db/latchkey")],
    );
    assert_eq!(out.status.code(), Some(2));
    let line = error_line(&out);
    assert!(
        line.contains("DATABASE_URL must start with sqlite:// or postgres://"),
        "{line}"
    );
    assert!(!line.contains("hunter2"), "the password is never echoed");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "no pool time-out"
    );

    let out = cli.run_with(
        &["migrate"],
        None,
        &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(error_line(&out).contains("cannot connect to the database"));
}

#[test]
fn production_without_a_secret_refuses_to_start() {
    let cli = Cli::new();
    let out = cli.run_with(
        &["serve"],
        None,
        &[
            ("LATCHKEY_ENV", "production"),
            ("LATCHKEY_ISSUER", "https://id.example.com"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(error_line(&out).contains("LATCHKEY_SECRET"));
}

#[test]
fn usage_error_exits_2() {
    let cli = Cli::new();
    let out = cli.run(&["client", "create", "--name", "x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn ids_that_begin_with_a_hyphen_are_not_read_as_flags() {
    // kids and client ids are base64url, so about one in 32 begins with '-'.
    let cli = Cli::new();
    let out = cli.run(&["keys", "retire", "-no-such-kid"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(error_line(&out), "error: no signing key with kid -no-such-kid");
    let out = cli.run(&["client", "delete", "-no-such-client"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(error_line(&out), "error: no client with id -no-such-client");
}
