//! RS256 signing and verification rates per core, next to `openssl speed rsa2048` measured
//! in the same run: `cargo bench --bench signing`.
//!
//! The signing key is parsed once (as the server does); a token is an access token of the
//! usual size. Target: signs/s >= 90 % of OpenSSL's own rate on the same machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::{Duration, Instant};

use latchkey::crypto::jwt::{self, Expect};
use latchkey::crypto::keys::KeyStore;
use serde::{Deserialize, Serialize};

const RUN: Duration = Duration::from_secs(3);

#[derive(Serialize, Deserialize)]
struct AccessClaims {
    iss: String,
    sub: String,
    aud: String,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: String,
    client_id: String,
    scope: String,
}

fn claims(n: u64) -> AccessClaims {
    let now = chrono::Utc::now().timestamp();
    AccessClaims {
        iss: "http://127.0.0.1:8080".into(),
        sub: "0b9f6a3e-3f59-4a57-9d6f-5a3cbbd0c8a1".into(),
        aud: "https://api.example.com".into(),
        exp: now + 900,
        iat: now,
        nbf: now,
        jti: format!("jti-{n}"),
        client_id: "acu4OjoeCiP2rdQAqanOAbML".into(),
        scope: "openid email profile".into(),
    }
}

/// Runs `f` repeatedly for `RUN` on this thread and returns calls per second.
fn rate(mut f: impl FnMut(u64)) -> f64 {
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < RUN {
        for _ in 0..64 {
            f(n);
            n += 1;
        }
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// `openssl speed -seconds 3 rsa2048`: (sign/s, verify/s) on one core.
fn openssl_speed() -> Option<(f64, f64)> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "3", "rsa2048"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with("rsa 2048 bits") || l.starts_with("rsa  2048 bits"))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let verify = fields.last()?.parse().ok()?;
    let sign = fields.get(fields.len().checked_sub(2)?)?.parse().ok()?;
    Some((sign, verify))
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    std::fs::write(
        dir.path().join("keys/fixture.pem"),
        include_str!("../tests/fixtures/rsa-2048.pem"),
    )
    .unwrap();
    let store = KeyStore::open(&dir.path().join("keys")).unwrap();
    let keys = store.current();

    let token = jwt::sign(&keys, "at+jwt", &claims(0)).unwrap();
    let expect = Expect {
        typ: "at+jwt",
        issuer: "http://127.0.0.1:8080",
        audience: Some("https://api.example.com"),
    };
    jwt::verify::<AccessClaims>(&keys, &token, &expect).unwrap();

    let signs = rate(|n| {
        std::hint::black_box(jwt::sign(&keys, "at+jwt", &claims(n)).unwrap());
    });
    let verifies = rate(|_| {
        std::hint::black_box(jwt::verify::<AccessClaims>(&keys, &token, &expect).unwrap());
    });

    println!("RS256 (2048-bit key, one core, {} s each)", RUN.as_secs());
    println!("  latchkey sign:    {signs:>10.0} tokens/s");
    println!("  latchkey verify:  {verifies:>10.0} tokens/s");
    match openssl_speed() {
        Some((o_sign, o_verify)) => {
            let ratio = signs / o_sign;
            println!("  openssl sign:     {o_sign:>10.0} /s   (openssl speed rsa2048)");
            println!("  openssl verify:   {o_verify:>10.0} /s");
            println!(
                "  sign rate = {:.0} % of openssl: {}",
                ratio * 100.0,
                if ratio >= 0.9 {
                    "meets the >= 90 % target"
                } else {
                    "BELOW the 90 % target"
                }
            );
        }
        None => println!("  openssl speed: not available on this machine"),
    }
}
