//! Processes and ceilings: starting a server and timing it to ready, argon2's rate on one
//! core, a trivial actix-web endpoint.

use super::*;
// ---------------------------------------------------------------------------------------
// Start

pub(crate) fn start(
    ready_url: &str,
    pidfile: &std::path::Path,
    log: &std::path::Path,
    cwd: Option<PathBuf>,
    envs: &[String],
    cmd: &[String],
) {
    use std::os::unix::process::CommandExt;
    let ready = loopback(ready_url);
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap_or_else(|e| fail(format!("log file {}: {e}", log.display())));
    let err_file = log_file.try_clone().expect("log file handle");
    let mut command = Command::new(&cmd[0]);
    command
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file)
        // Its own process group: a signal to the driver's group does not reach it.
        .process_group(0);
    if let Some(dir) = cwd {
        command.current_dir(dir);
    }
    for kv in envs {
        let (k, v) = kv
            .split_once('=')
            .unwrap_or_else(|| fail(format!("--env wants K=V, got {kv:?}")));
        command.env(k, v);
    }
    let t0 = Instant::now();
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| fail(format!("cannot start {:?}: {e}", cmd[0])));
    let pid = child.id();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(2))
        .no_proxy()
        .build()
        .expect("HTTP client");
    let limit = Duration::from_secs(20);
    let ready_ms = rt.block_on(async {
        for _ in 0..100_000 {
            if let Ok(Some(status)) = child.try_wait() {
                eprintln!("bench-driver: {} exited before ready: {status}", cmd[0]);
                return None;
            }
            if t0.elapsed() > limit {
                eprintln!("bench-driver: {ready_url} not ready within 20 s");
                return None;
            }
            if let Ok(r) = http.get(ready.clone()).send().await
                && r.status() == 200
            {
                return Some(ms(t0.elapsed()));
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        None
    });
    let Some(ready_ms) = ready_ms else {
        let _ = child.kill();
        let _ = child.wait();
        std::process::exit(1);
    };
    std::fs::write(pidfile, format!("{pid}\n")).unwrap_or_else(|e| fail(format!("pidfile {}: {e}", pidfile.display())));
    // Dropping `child` neither waits for it nor kills it: it keeps running.
    drop(child);
    println!("{}", serde_json::json!({"pid": pid, "ready_ms": round3(ready_ms)}));
}

// ---------------------------------------------------------------------------------------
// Ceilings

pub(crate) fn argon2_loop(seconds: u64) {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let params = argon2::Params::new(19_456, 2, 1, None).expect("argon2 parameters");
    let hasher = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let started = Instant::now();
    let limit = bounded_seconds(seconds);
    let mut n = 0u64;
    for _ in 0..MAX_PER_CONN {
        if started.elapsed() >= limit {
            break;
        }
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let hash = hasher
            .hash_password(b"correct horse battery staple", &salt)
            .expect("argon2");
        std::hint::black_box(hash);
        n += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("{}", serde_json::json!({"per_s": round3(n as f64 / elapsed)}));
}

async fn hello_route() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(serde_json::json!({"ok": true}))
}

pub(crate) fn hello(port: u16, workers: usize) {
    let result = actix_web::rt::System::new().block_on(async move {
        actix_web::HttpServer::new(|| actix_web::App::new().route("/", actix_web::web::get().to(hello_route)))
            .workers(workers.max(1))
            .bind(("127.0.0.1", port))?
            .run()
            .await
    });
    if let Err(e) = result {
        fail(format!("hello server: {e}"));
    }
}
