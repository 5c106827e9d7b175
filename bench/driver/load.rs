//! The measuring loops: sign-in and refresh storms, one sign-in for tokens, the probe.

use super::*;
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
    first: FirstFailure,
}

pub(crate) async fn signin_load(a: Auth, conns: usize, seconds: u64) {
    loopback(&a.base);
    let a = Arc::new(a);
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let deadline = started + bounded_seconds(seconds);
    let mut tasks = Vec::new();
    for _ in 0..conns.clamp(1, 1024) {
        let (a, tally) = (a.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            let http = http_client(1);
            let mut lat = Vec::new();
            for _ in 0..MAX_PER_CONN {
                if Instant::now() >= deadline {
                    break;
                }
                let t0 = Instant::now();
                match sign_in(&http, &a).await {
                    Ok(_) => {
                        lat.push(ms(t0.elapsed()));
                        tally.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        tally.failed.fetch_add(1, Ordering::Relaxed);
                        tally.first.report("sign-in", &e);
                        // Do not spin on a refused connection.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            lat
        }));
    }
    report(tasks, &tally, started).await;
}

pub(crate) async fn refresh_load(a: Auth, conns: usize, seconds: u64) {
    loopback(&a.base);
    let a = Arc::new(a);
    let tally = Arc::new(Tally::default());
    // Phase 1 (untimed): every connection signs in once for its own refresh token.
    let mut setup = Vec::new();
    for _ in 0..conns.clamp(1, 1024) {
        let a = a.clone();
        setup.push(tokio::spawn(async move {
            let http = http_client(1);
            let res = sign_in(&http, &a).await;
            (http, res)
        }));
    }
    let mut chains = Vec::new();
    for t in setup {
        let (http, res) = t.await.expect("sign-in task");
        match res {
            Ok(json) => chains.push((http, json["refresh_token"].as_str().map(str::to_owned))),
            Err(e) => fail(format!("sign-in before the refresh chain failed: {e}")),
        }
    }
    // Phase 2 (timed): chain refresh grants, always with the newest refresh token.
    let started = Instant::now();
    let deadline = started + bounded_seconds(seconds);
    let mut tasks = Vec::new();
    for (http, token) in chains {
        let Some(mut token) = token else {
            fail("the sign-in gave no refresh_token");
        };
        let (a, tally) = (a.clone(), tally.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for _ in 0..MAX_PER_CONN {
                if Instant::now() >= deadline {
                    break;
                }
                let t0 = Instant::now();
                match refresh_once(&http, &a, &token).await {
                    Ok(json) => {
                        lat.push(ms(t0.elapsed()));
                        token = json["refresh_token"].as_str().unwrap().to_owned();
                        tally.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        // The chain is broken (a spent token revokes the family): stop it.
                        tally.failed.fetch_add(1, Ordering::Relaxed);
                        tally.first.report("refresh", &e);
                        break;
                    }
                }
            }
            lat
        }));
    }
    report(tasks, &tally, started).await;
}

/// Waits for every connection's latencies and prints the one JSON line: rate of successes
/// over the timed phase, counts, and latency percentiles.
async fn report(tasks: Vec<tokio::task::JoinHandle<Vec<f64>>>, tally: &Tally, started: Instant) {
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.expect("load task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    let ok = tally.ok.load(Ordering::Relaxed);
    println!(
        "{}",
        serde_json::json!({
            "rate": round3(ok as f64 / elapsed),
            "ok": ok,
            "failed": tally.failed.load(Ordering::Relaxed),
            "p50_ms": pct(&lat, 50.0),
            "p95_ms": pct(&lat, 95.0),
            "p99_ms": pct(&lat, 99.0),
        })
    );
}

/// True for a compact JWS whose header says RS256.
fn is_rs256_jwt(s: &str) -> bool {
    if s.matches('.').count() != 2 {
        return false;
    }
    let header = s.split('.').next().unwrap_or_default();
    URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()
        .and_then(|h| serde_json::from_slice::<serde_json::Value>(&h).ok())
        .is_some_and(|h| h["alg"] == "RS256")
}

pub(crate) async fn tokens(a: Auth, count_refresh_jwts: bool) {
    let http = http_client(1);
    let json = sign_in(&http, &a)
        .await
        .unwrap_or_else(|e| fail(format!("sign-in failed: {e}")));
    let mut out = serde_json::json!({
        "access_token": json["access_token"],
        "refresh_token": json["refresh_token"],
    });
    if count_refresh_jwts {
        let rt = json["refresh_token"]
            .as_str()
            .unwrap_or_else(|| fail("the sign-in gave no refresh_token"));
        let refreshed = refresh_once(&http, &a, rt)
            .await
            .unwrap_or_else(|e| fail(format!("refresh failed: {e}")));
        let n = ["access_token", "id_token", "refresh_token"]
            .iter()
            .filter(|k| refreshed[**k].as_str().is_some_and(is_rs256_jwt))
            .count();
        out = serde_json::json!({
            "access_token": refreshed["access_token"],
            "refresh_token": refreshed["refresh_token"],
            "refresh_jwts": n,
        });
    }
    println!("{out}");
}

// ---------------------------------------------------------------------------------------
// Probe

pub(crate) async fn probe(url: &str, seconds: u64, interval_ms: u64) {
    let target = loopback(url);
    let http = http_client(1);
    let started = Instant::now();
    let deadline = started + bounded_seconds(seconds);
    let mut tick = tokio::time::interval(Duration::from_millis(interval_ms.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut lat = Vec::new();
    let mut failed = 0u64;
    let first = FirstFailure::default();
    for _ in 0..MAX_PER_CONN {
        tick.tick().await;
        if Instant::now() >= deadline {
            break;
        }
        let t0 = Instant::now();
        let res = http.get(target.clone()).send().await;
        let ok = match res {
            Ok(r) if r.status() == 200 => match r.bytes().await {
                Ok(_) => Ok(()),
                Err(e) => Err(format!("body: {e}")),
            },
            Ok(r) => Err(format!("status {}", r.status())),
            Err(e) => Err(e.to_string()),
        };
        match ok {
            Ok(()) => lat.push(ms(t0.elapsed())),
            Err(e) => {
                failed += 1;
                first.report("probe", &e);
            }
        }
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "n": lat.len(),
            "failed": failed,
            "p50_ms": pct(&lat, 50.0),
            "p99_ms": pct(&lat, 99.0),
            "max_ms": lat.last().map(|x| round3(*x)),
        })
    );
}
