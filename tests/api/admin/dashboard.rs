//! Admin console tests: dashboard. The counts and the charts come from real sign-ins.

use super::*;
use latchkey::db::models::LoginFailureRow;
use latchkey::db::schema::login_failures;

/// The number on the card whose label starts with `label`.
fn card(page: &Outcome, label: &str) -> i64 {
    let re = regex_lite::Regex::new(&format!(
        r#"<div class="value">(\d+)</div><div class="label">(?:<a [^>]*>)?{}"#,
        regex_lite::escape(label)
    ))
    .unwrap();
    re.captures(page.body()).unwrap_or_else(|| panic!("no card {label}"))[1]
        .parse()
        .unwrap()
}

/// The value of the bar of `series` for `day`.
fn bar(page: &Outcome, series: &str, day: &str) -> i64 {
    let re = regex_lite::Regex::new(&format!(
        r#"<rect class="bar [^"]+" data-series="{series}" data-day="{day}" data-value="(\d+)""#
    ))
    .unwrap();
    re.captures(page.body())
        .unwrap_or_else(|| panic!("no bar {series} {day}"))[1]
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_dashboard_counts_sign_ins_failures_and_locks_and_charts_them() {
    let c = console().await;
    // One more sign-in (the admin's was the first), and two failures.
    let _user = signed_in(&c.p, &c.p.email).await;
    let stranger = Browser::new(&c.p.app);
    for _ in 0..2 {
        let login = stranger.follow(stranger.get("/login").await).await;
        let failed = stranger.login(&login, &c.p.email, "not the password").await;
        assert!(failed.url().contains("/login"));
    }
    // A locked address (a lock restarts the count at 0) and one that is only delayed.
    c.p.db
        .run(|conn| {
            let now = chrono::Utc::now().naive_utc();
            let row = |subject: &str, failures, minutes| LoginFailureRow {
                subject: subject.into(),
                window_start: now,
                failures,
                blocked_until: Some(now + chrono::Duration::minutes(minutes)),
            };
            for r in [row("locked", 0, 15), row("delayed", 6, 1)] {
                diesel::insert_into(login_failures::table).values(&r).execute(conn)?;
            }
            Ok(())
        })
        .await
        .unwrap();

    let page = c.open("/admin").await;
    assert_eq!(status(&page), 200, "{}", page.body());
    assert_eq!(card(&page, "Users"), 2);
    assert_eq!(card(&page, "Active sessions"), 2);
    assert_eq!(card(&page, "Sign-ins, last 24 h"), 2);
    assert_eq!(card(&page, "Failed sign-ins, last 24 h"), 2);
    assert_eq!(card(&page, "Locked addresses"), 1);

    let today = chrono::Utc::now().date_naive();
    let day = today.to_string();
    assert_eq!(bar(&page, "sign-ins", &day), 2);
    assert_eq!(bar(&page, "failures", &day), 2);
    assert_eq!(bar(&page, "new users", &day), 2);
    let yesterday = (today - chrono::Duration::days(1)).to_string();
    assert_eq!(bar(&page, "sign-ins", &yesterday), 0);
    // 30 days of three series, each bar with its hover text; axes and a legend.
    assert_eq!(page.body().matches(r#"<rect class="bar "#).count(), 90);
    assert!(page.body().contains(&format!("<title>{day}: 2 sign-ins</title>")));
    assert_eq!(page.body().matches("<svg class=\"chart\"").count(), 2);
    assert!(page.body().contains(r#"class="legend""#));
    assert!(page.body().contains(r#"class="x-label""#));
}

#[tokio::test]
async fn the_dashboard_is_for_administrators_only() {
    let c = console().await;
    let user = signed_in(&c.p, &c.p.email).await;
    assert_eq!(status(&user.follow(user.get("/admin").await).await), 403);
}
