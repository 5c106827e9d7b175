//! Load driver of `bench/run.sh` (see docs/PERFORMANCE.md).
//!
//! Every measuring subcommand prints exactly one JSON line on stdout; diagnostics go to
//! stderr. Every loop is bounded in time and in count, and the driver only ever talks to
//! 127.0.0.1.
//!
//! ```sh
//! cargo build --release --example bench-driver
//! target/release/examples/bench-driver signin --target latchkey --base http://127.0.0.1:8080 \
//!     --client-id ID --secret S --email alice@example.com --password '...' \
//!     --redirect http://127.0.0.1:9/cb --conns 16 --seconds 10
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod flows;
mod load;
mod procs;

use flows::*;
use load::*;
use procs::*;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::{Args, Parser, Subcommand, ValueEnum};
use sha2::Digest;

/// Upper bound of flows or requests per connection, whatever the duration.
const MAX_PER_CONN: usize = 1_000_000;
/// Upper bound of the duration of any timed phase.
const MAX_SECONDS: u64 = 600;
/// Upper bound of redirects followed in one sign-in.
const MAX_HOPS: usize = 12;
/// Timeout of any single HTTP request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Parser)]
#[command(about = "Load driver of bench/run.sh")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Full sign-ins (authorization code + PKCE) at full speed over N connections.
    Signin {
        #[command(flatten)]
        auth: Auth,
        #[command(flatten)]
        load: Load,
    },
    /// One sign-in per connection, then chained refresh_token grants for N seconds.
    Refresh {
        #[command(flatten)]
        auth: Auth,
        #[command(flatten)]
        load: Load,
    },
    /// One sign-in; prints the access and refresh tokens.
    Tokens {
        #[command(flatten)]
        auth: Auth,
        /// Also do one refresh grant and count the RS256 JWTs in its response (the printed
        /// tokens are then the refreshed ones).
        #[arg(long)]
        count_refresh_jwts: bool,
    },
    /// Paced sequential GETs over one connection; latency percentiles.
    Probe {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 2)]
        interval_ms: u64,
    },
    /// Spawns a detached server, waits until READY_URL answers 200, writes its PID.
    Start {
        #[arg(long)]
        url: String,
        #[arg(long)]
        pidfile: PathBuf,
        #[arg(long)]
        log: PathBuf,
        #[arg(long)]
        cwd: Option<PathBuf>,
        /// K=V, repeatable.
        #[arg(long = "env")]
        envs: Vec<String>,
        #[arg(last = true, required = true)]
        cmd: Vec<String>,
    },
    /// Single-thread argon2id (m=19456, t=2, p=1) hashes per second.
    Argon2 {
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// A trivial actix-web JSON endpoint on 127.0.0.1:PORT, until killed.
    Hello {
        #[arg(long)]
        port: u16,
        #[arg(long, default_value_t = 2)]
        workers: usize,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Target {
    /// Latchkey's hosted login (`/authorize`, `/login`).
    Latchkey,
    /// node-oidc-provider (`/auth`, `/interaction/{uid}`, consent).
    Peer,
}

/// How much load: connections, and seconds of the timed phase.
#[derive(Args, Clone, Copy)]
struct Load {
    #[arg(long, default_value_t = 16)]
    conns: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

#[derive(Args, Clone)]
struct Auth {
    #[arg(long, value_enum)]
    target: Target,
    /// Issuer base URL, e.g. http://127.0.0.1:8080 (loopback only).
    #[arg(long)]
    base: String,
    #[arg(long)]
    client_id: String,
    #[arg(long)]
    secret: String,
    #[arg(long)]
    email: String,
    #[arg(long)]
    password: String,
    #[arg(long)]
    redirect: String,
}

fn main() {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Hello { port, workers } => hello(port, workers),
        Cmd::Argon2 { seconds } => argon2_loop(seconds),
        Cmd::Start {
            url,
            pidfile,
            log,
            cwd,
            envs,
            cmd,
        } => start(&url, &pidfile, &log, cwd, &envs, &cmd),
        cmd => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(async move {
                match cmd {
                    Cmd::Signin { auth, load } => signin_load(auth, load.conns, load.seconds).await,
                    Cmd::Refresh { auth, load } => refresh_load(auth, load.conns, load.seconds).await,
                    Cmd::Tokens {
                        auth,
                        count_refresh_jwts,
                    } => tokens(auth, count_refresh_jwts).await,
                    Cmd::Probe {
                        url,
                        seconds,
                        interval_ms,
                    } => probe(&url, seconds, interval_ms).await,
                    _ => unreachable!(),
                }
            });
        }
    }
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("bench-driver: {msg}");
    std::process::exit(1)
}

/// Refuses any URL whose host is not 127.0.0.1.
fn loopback(url: &str) -> url::Url {
    let parsed = url::Url::parse(url).unwrap_or_else(|e| fail(format!("bad URL {url:?}: {e}")));
    if parsed.host_str() != Some("127.0.0.1") {
        fail(format!("refusing non-loopback URL {url}"));
    }
    parsed
}

fn bounded_seconds(seconds: u64) -> Duration {
    Duration::from_secs(seconds.clamp(1, MAX_SECONDS))
}

fn http_client(max_idle: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(max_idle)
        .timeout(REQUEST_TIMEOUT)
        .no_proxy()
        .build()
        .expect("HTTP client")
}

/// Percentile (nearest rank) of sorted latencies, in milliseconds.
fn pct(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(round3(sorted[rank.clamp(1, sorted.len()) - 1]))
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Records the first failure's reason on stderr, and only the first.
#[derive(Default)]
struct FirstFailure(std::sync::Mutex<bool>);

impl FirstFailure {
    fn report(&self, what: &str, reason: &str) {
        let mut seen = self.0.lock().unwrap();
        if !*seen {
            *seen = true;
            eprintln!("bench-driver: first failed {what}: {reason}");
        }
    }
}
