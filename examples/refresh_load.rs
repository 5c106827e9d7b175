//! A short load run of the refresh grant over loopback, against a separately started
//! `latchkey serve` process (real HTTP between processes):
//!
//! ```sh
//! cargo build --release && cargo run --release --example refresh_load -- [SECONDS] [CONNECTIONS]
//! ```
//!
//! Each connection signs a user in through the hosted login once, then chains its own
//! refresh token (each refresh rotates it, so tokens are never shared). Loopback only; the
//! run is bounded in time and stops the server it started.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";
const REDIRECT: &str = "http://127.0.0.1:9/cb";

fn field(body: &str, name: &str) -> String {
    let re = regex_lite::Regex::new(&format!(r#"name="{name}" value="([^"]*)""#)).unwrap();
    re.captures(body).unwrap()[1]
        .replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#61;", "=")
        .replace("&#43;", "+")
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// Signs in through /authorize and /login and returns a refresh token.
async fn first_refresh_token(base: &str, client_id: &str, secret: &str, email: &str) -> String {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let verifier = latchkey::crypto::random_token(32);
    let challenge = {
        use sha2::Digest;
        latchkey::crypto::b64url(&sha2::Sha256::digest(verifier.as_bytes()))
    };
    let authorize = format!(
        "{base}/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20offline_access&state=s&code_challenge={challenge}&code_challenge_method=S256",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let res = http.get(&authorize).send().await.unwrap();
    let login = http
        .get(format!("{base}{}", location(&res)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("csrf_token", field(&login, "csrf_token")),
        ("request", field(&login, "request")),
        ("email", email.into()),
        ("password", PASSWORD.into()),
    ];
    let res = http.post(format!("{base}/login")).form(&form).send().await.unwrap();
    let res = http.get(format!("{base}{}", location(&res))).send().await.unwrap();
    let back = url::Url::parse(&location(&res)).unwrap();
    let code = back.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let tokens: serde_json::Value = http
        .post(format!("{base}/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let connections: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let bin = std::env::var("LATCHKEY_BIN").unwrap_or_else(|_| "target/release/latchkey".into());
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let envs = [
        ("LATCHKEY_BIND", format!("127.0.0.1:{port}")),
        ("LATCHKEY_ISSUER", base.clone()),
        (
            "DATABASE_URL",
            std::env::var("DATABASE_URL").unwrap_or(format!("sqlite://{}/data/latchkey.db", dir.path().display())),
        ),
        ("LATCHKEY_DATA_DIR", format!("{}/data", dir.path().display())),
        ("LATCHKEY_KEYS_DIR", format!("{}/keys", dir.path().display())),
        ("RUST_LOG", "warn".into()),
    ];
    let cli = |args: &[&str], stdin: &str| {
        let mut child = Command::new(&bin)
            .args(args)
            .envs(envs.clone())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?} failed");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let client = cli(
        &[
            "client",
            "create",
            "--name",
            "load",
            "--redirect-uri",
            REDIRECT,
            "--skip-consent",
            "--json",
        ],
        "",
    );
    let (client_id, secret) = (
        client["client_id"].as_str().unwrap().to_owned(),
        client["client_secret"].as_str().unwrap().to_owned(),
    );
    let email = "load@example.com";
    cli(
        &[
            "user",
            "create",
            "--email",
            email,
            "--password-stdin",
            "--verified",
            "--json",
        ],
        &format!("{PASSWORD}\n"),
    );
    let mut server = Command::new(&bin).arg("serve").envs(envs.clone()).spawn().unwrap();
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut tokens = Vec::new();
    for _ in 0..connections {
        tokens.push(first_refresh_token(&base, &client_id, &secret, email).await);
    }
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut token in tokens {
        let (http, base, id, secret, ok, failed) = (
            reqwest::Client::new(),
            base.clone(),
            client_id.clone(),
            secret.clone(),
            ok.clone(),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let res = http
                    .post(format!("{base}/token"))
                    .basic_auth(&id, Some(&secret))
                    .form(&[("grant_type", "refresh_token"), ("refresh_token", &token)])
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 200 => {
                        let body: serde_json::Value = r.json().await.unwrap();
                        token = body["refresh_token"].as_str().unwrap().to_owned();
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let _ = server.kill();
    let _ = server.wait();
    let ok = ok.load(Ordering::Relaxed);
    println!(
        "refresh grant: {ok} ok, {} failed in {elapsed:.1} s over {connections} connections = {:.0} req/s",
        failed.load(Ordering::Relaxed),
        ok as f64 / elapsed
    );
}
