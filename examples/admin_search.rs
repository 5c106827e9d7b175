//! The admin user search at scale: seeds N users into a fresh database and times the same
//! service function the `/admin/users` page calls, for each query shape.
//!
//! ```sh
//! cargo run --release --example admin_search                 # 1 000 and 1 000 000 users, SQLite
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!     cargo run --release --example admin_search             # the same, then on PostgreSQL
//! cargo run --release --example admin_search -- 1000 100000  # other sizes
//! ```
//!
//! SQLite runs in a temporary folder; PostgreSQL in a database created (and dropped) next to
//! the one `BENCH_DATABASE_URL` names. Prints p50/p95 per query shape, and of a password
//! sign-in (the service the `/login` form calls: lookup by email, argon2id, session, audit)
//! for one of the seeded users; asserts no timing.
//!
//! `--json` (used by `bench/run.sh`) measures one backend, PostgreSQL when
//! `BENCH_DATABASE_URL` is set and SQLite otherwise, and ends with one JSON line:
//! `{"backend":..,"sizes":[..],"signin_p95_ms":[..],"search_p95_ms":[..]}`, the search figure
//! being the slowest shape's p95.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use diesel::{Connection, RunQueryDsl};
use latchkey::config::Settings;
use latchkey::crypto::password;
use latchkey::db::models::{LoginFailureRow, UserRow};
use latchkey::db::{Db, DbError, repo};
use latchkey::service::admin::users::{Cursor, Search, SearchBy, search};
use latchkey::service::login::{PasswordHasher, password_login};
use latchkey::service::sessions::Origin;
use latchkey::service::{audit, lockout};
use secrecy::SecretString;

const RUNS: usize = 200;
/// Sign-ins are argon2-bound (tens of ms each): fewer runs give a stable p95.
const SIGNIN_RUNS: usize = 60;
const PASSWORD: &str = "correct horse battery staple";
const ROWS_PER_INSERT: usize = 1_000;
const ROWS_PER_TRANSACTION: usize = 50_000;
const LOCKED_USERS: usize = 20;
const LOCK_WINDOW: Duration = Duration::from_secs(900);

const FIRST: &[&str] = &[
    "adam", "alice", "amir", "anna", "ben", "carla", "chen", "daniel", "dmitri", "elena", "emma", "fatima", "felix",
    "grace", "hana", "ivan", "jules", "kenji", "laura", "leo", "maria", "mateo", "mia", "nadia", "noah", "olga",
    "omar", "paula", "priya", "quinn", "rosa", "sam", "sofia", "tariq", "uma", "victor", "wei", "xavier", "yara",
    "zoe",
];
const LAST: &[&str] = &[
    "smith", "garcia", "müller", "rossi", "kim", "nguyen", "ivanova", "dubois", "silva", "tanaka", "okafor", "novak",
    "jensen", "cohen", "haddad", "kowalski",
];
const DOMAINS: &[&str] = &["example.com", "mail.test", "corp.example", "uni.example.org"];

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// User `i`: spread over first names (so prefixes match a few percent each), 1 % disabled,
/// 10 % unverified, 0.1 % admins, one in 10 000 with a custom role.
fn user(i: usize, now: chrono::NaiveDateTime) -> UserRow {
    let (first, last) = (FIRST[i % FIRST.len()], LAST[(i / FIRST.len()) % LAST.len()]);
    UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        email: format!("{first}.{last}{i}@{}", DOMAINS[i % DOMAINS.len()]),
        email_verified: i % 10 != 3,
        name: format!("{} {} {i}", capitalised(first), capitalised(last)),
        password_hash: None,
        disabled: i % 100 == 7,
        roles: match i {
            _ if i % 1000 == 11 => "admin".into(),
            _ if i % 10_000 == 12 => "support".into(),
            _ => String::new(),
        },
        created_at: now,
        updated_at: now,
    }
}

/// Seeds `n` users; user 0 (`SIGNIN_EMAIL`) gets a real password hash for the sign-in timing.
async fn seed(db: &Db, n: usize) {
    let now = chrono::Utc::now().naive_utc();
    let hash = password::hash_password(&SecretString::from(PASSWORD)).unwrap();
    let started = Instant::now();
    for start in (0..n).step_by(ROWS_PER_TRANSACTION) {
        let end = (start + ROWS_PER_TRANSACTION).min(n);
        let hash = hash.clone();
        db.run_write(move |conn| {
            conn.transaction::<_, DbError, _>(|conn| {
                for chunk in (start..end).step_by(ROWS_PER_INSERT) {
                    let rows: Vec<UserRow> = (chunk..(chunk + ROWS_PER_INSERT).min(end))
                        .map(|i| UserRow {
                            password_hash: (i == 0).then(|| hash.clone()),
                            ..user(i, now)
                        })
                        .collect();
                    repo::user_admin::insert_many(conn, &rows)?;
                }
                Ok(())
            })
        })
        .await
        .unwrap();
    }
    // Locks as sign-in records them: a counter per hashed address, and a `login.locked` event.
    db.run_write(move |conn| {
        conn.transaction::<_, DbError, _>(|conn| {
            let ids = repo::user_admin::search(
                conn,
                &repo::user_admin::UserQuery {
                    by: SearchBy::Email,
                    prefix: Some("o".into()),
                    admin: false,
                    disabled: false,
                    unverified: false,
                    only_ids: None,
                    after: None,
                    limit: LOCKED_USERS as i64,
                },
            )?;
            for (u, _) in ids {
                repo::login_failures::insert(
                    conn,
                    &LoginFailureRow {
                        subject: lockout::subject(&u.email),
                        window_start: now,
                        failures: 0,
                        blocked_until: Some(now + chrono::Duration::minutes(15)),
                    },
                )?;
                let event = audit::event("login.locked", "anonymous", Some(&u.id), serde_json::json!({}));
                repo::audit::insert(conn, &event)?;
            }
            Ok(())
        })
    })
    .await
    .unwrap();
    // Fresh statistics, as a database that has been running a while has.
    db.run_write(|conn| {
        let analyze = match conn {
            latchkey::db::DbConn::Sqlite(_) => "ANALYZE",
            latchkey::db::DbConn::Postgresql(_) => "VACUUM ANALYZE users",
        };
        diesel::sql_query(analyze).execute(conn)?;
        Ok(())
    })
    .await
    .unwrap();
    println!("  seeded {n} users in {:.1} s", started.elapsed().as_secs_f64());
}

fn shape(by: SearchBy, text: &str) -> Search {
    Search {
        by,
        text: text.into(),
        admin: false,
        disabled: false,
        unverified: false,
        locked: false,
        after: None,
    }
}

/// The query shapes timed: what an administrator types and ticks.
async fn shapes(db: &Db) -> Vec<(&'static str, Search)> {
    let mut list = vec![
        ("all users, first page", shape(SearchBy::Email, "")),
        ("email prefix \"ma\"", shape(SearchBy::Email, "ma")),
        ("email prefix \"sofia.kim1\"", shape(SearchBy::Email, "sofia.kim1")),
        ("name prefix \"Mar\"", shape(SearchBy::Name, "Mar")),
        ("name prefix \"zoe nov\"", shape(SearchBy::Name, "zoe nov")),
        (
            "filter disabled",
            Search {
                disabled: true,
                ..shape(SearchBy::Email, "")
            },
        ),
        (
            "filter admin",
            Search {
                admin: true,
                ..shape(SearchBy::Email, "")
            },
        ),
        (
            "filter unverified + email \"an\"",
            Search {
                unverified: true,
                ..shape(SearchBy::Email, "an")
            },
        ),
        (
            "filter admin + name \"a\"",
            Search {
                admin: true,
                ..shape(SearchBy::Name, "a")
            },
        ),
        (
            "filter locked",
            Search {
                locked: true,
                ..shape(SearchBy::Email, "")
            },
        ),
        ("no match \"zzz\"", shape(SearchBy::Email, "zzz")),
    ];
    // Next pages: the cursor of a first page, as the page's "Next page" link carries it.
    for (label, first) in [
        ("next page, email prefix \"ma\"", shape(SearchBy::Email, "ma")),
        ("next page, name prefix \"Mar\"", shape(SearchBy::Name, "Mar")),
        (
            "next page, filter disabled",
            Search {
                disabled: true,
                ..shape(SearchBy::Email, "")
            },
        ),
    ] {
        let page = search(db, LOCK_WINDOW, chrono::Utc::now().naive_utc(), first.clone())
            .await
            .unwrap();
        let after: Option<Cursor> = page.next;
        list.push((label, Search { after, ..first }));
    }
    list
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Times `RUNS` password sign-ins of the seeded user 0 (each opens a session).
async fn signin_p95(db: &Db) -> f64 {
    let mut vars = latchkey::config::Vars::new();
    vars.insert("LATCHKEY_SECRET".into(), "x".repeat(32));
    let settings = Settings::from_vars(&vars).unwrap();
    let hasher = PasswordHasher::new().unwrap();
    let email = user(0, chrono::Utc::now().naive_utc()).email;
    let mut times = Vec::with_capacity(SIGNIN_RUNS);
    for _ in 0..SIGNIN_RUNS {
        let origin = Origin {
            ip: Some("127.0.0.1".into()),
            user_agent: None,
        };
        let started = Instant::now();
        let signed_in = password_login(db, &hasher, &email, SecretString::from(PASSWORD), origin, &settings).await;
        times.push(started.elapsed());
        assert!(signed_in.is_ok(), "sign-in of the seeded user failed");
    }
    times.sort();
    let p95 = percentile(&times, 0.95);
    println!(
        "  {:<36}  1 user   p50 {:>7.3} ms  p95 {p95:>7.3} ms",
        "password sign-in",
        percentile(&times, 0.5)
    );
    p95
}

/// Seeds `n` users and prints each shape's timings; returns the sign-in p95 and the slowest
/// shape's p95, in ms.
async fn run(label: &str, url: &str, n: usize) -> (f64, f64) {
    let db = Db::connect(url).unwrap();
    db.migrate().unwrap();
    println!("{label}, {n} users");
    seed(&db, n).await;
    let mut slowest: f64 = 0.0;
    for (name, s) in shapes(&db).await {
        let mut times = Vec::with_capacity(RUNS);
        let mut found = 0;
        for _ in 0..RUNS {
            let started = Instant::now();
            let page = search(&db, LOCK_WINDOW, chrono::Utc::now().naive_utc(), s.clone())
                .await
                .unwrap();
            times.push(started.elapsed());
            found = page.users.len();
        }
        times.sort();
        slowest = slowest.max(percentile(&times, 0.95));
        println!(
            "  {name:<36} {found:>3} rows  p50 {:>7.3} ms  p95 {:>7.3} ms",
            percentile(&times, 0.5),
            percentile(&times, 0.95)
        );
    }
    (signin_p95(&db).await, slowest)
}

/// A fresh PostgreSQL database beside the one `admin_url` names; dropped by the caller.
fn create_pg_database(admin_url: &str) -> (String, String) {
    let name = format!("latchkey_bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = diesel::PgConnection::establish(admin_url).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .unwrap();
    let (base, query) = admin_url.split_once('?').map_or((admin_url, ""), |(b, q)| (b, q));
    let server = base.rsplit_once('/').map(|(s, _)| s).unwrap();
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    (format!("{server}/{name}{query}"), name)
}

fn drop_pg_database(admin_url: &str, name: &str) {
    let mut conn = diesel::PgConnection::establish(admin_url).unwrap();
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .unwrap();
}

#[tokio::main]
async fn main() {
    let json = std::env::args().any(|a| a == "--json");
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 1_000_000]
    } else {
        sizes
    };
    if json {
        let pg = std::env::var("BENCH_DATABASE_URL").ok();
        let (mut signin, mut searches) = (Vec::new(), Vec::new());
        for &n in &sizes {
            let dir = tempfile::tempdir().unwrap();
            let (p95s, created) = match &pg {
                Some(admin_url) => {
                    let (url, name) = create_pg_database(admin_url);
                    (run("PostgreSQL", &url, n).await, Some(name))
                }
                None => {
                    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                    (run("SQLite", &url, n).await, None)
                }
            };
            if let (Some(admin_url), Some(name)) = (&pg, created) {
                drop_pg_database(admin_url, &name);
            }
            signin.push(p95s.0);
            searches.push(p95s.1);
        }
        let backend = if pg.is_some() { "postgres" } else { "sqlite" };
        let line = serde_json::json!({
            "backend": backend, "sizes": sizes, "signin_p95_ms": signin, "search_p95_ms": searches
        });
        println!("{line}");
        return;
    }
    for &n in &sizes {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        run("SQLite", &url, n).await;
    }
    if let Ok(admin_url) = std::env::var("BENCH_DATABASE_URL") {
        for &n in &sizes {
            let (url, name) = create_pg_database(&admin_url);
            run("PostgreSQL", &url, n).await;
            drop_pg_database(&admin_url, &name);
        }
    }
}
