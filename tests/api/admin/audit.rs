//! Admin console tests: the audit log's filters, keyset pages and CSV export.

use super::*;
use latchkey::db::models::AuditRow;

/// An event to write: minutes ago, kind, actor, subject, detail.
type Seeded = (i64, &'static str, Option<String>, Option<String>, String);

/// Writes events directly.
async fn seed(c: &Console, events: Vec<Seeded>) {
    c.p.db
        .run(move |conn| {
            let now = chrono::Utc::now().naive_utc();
            for (minutes, kind, actor, subject, detail) in events {
                let row = AuditRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    occurred_at: now - chrono::Duration::minutes(minutes),
                    kind: kind.into(),
                    actor,
                    subject,
                    ip: Some("192.0.2.7".into()),
                    detail,
                };
                latchkey::db::repo::audit::insert(conn, &row)?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// The subjects shown on a page, in order (seeded subjects look like `item-007`).
fn items(page: &Outcome) -> Vec<String> {
    let re = regex_lite::Regex::new(r"<td>(item-\d{3})</td>").unwrap();
    re.captures_iter(page.body()).map(|m| m[1].to_owned()).collect()
}

fn next_href(page: &Outcome) -> Option<String> {
    let re = regex_lite::Regex::new(r#"href="(/admin/audit\?[^"]*after=[^"]+)" rel="next""#).unwrap();
    re.captures(page.body())
        .map(|m| m[1].replace("&amp;", "&").replace("&#38;", "&").replace("&#61;", "="))
}

#[tokio::test]
async fn the_log_pages_newest_first_with_the_filter_kept() {
    let c = console().await;
    let events = (0..120)
        .map(|i| {
            (
                i + 1,
                "test.bulk",
                Some("robot".to_owned()),
                Some(format!("item-{i:03}")),
                "{}".to_owned(),
            )
        })
        .collect();
    seed(&c, events).await;
    // Other kinds are filtered out.
    seed(
        &c,
        vec![(
            1,
            "test.other",
            Some("robot".into()),
            Some("item-999".into()),
            "{}".into(),
        )],
    )
    .await;

    let mut seen = Vec::new();
    let mut page = c.open("/admin/audit?kind=test.bulk").await;
    assert_eq!(status(&page), 200, "{}", page.body());
    let mut pages = 1;
    loop {
        seen.extend(items(&page));
        let Some(href) = next_href(&page) else { break };
        assert!(href.contains("kind=test.bulk"), "{href}");
        page = c.open(&href).await;
        pages += 1;
    }
    assert_eq!(pages, 3, "50 + 50 + 20");
    assert_eq!(seen, (0..120).map(|i| format!("item-{i:03}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn filters_by_actor_subject_and_time_and_explains_a_bad_date() {
    let c = console().await;
    let today = chrono::Utc::now().date_naive();
    seed(
        &c,
        vec![
            (
                1,
                "test.f",
                Some(c.admin_id.clone()),
                Some("item-001".into()),
                "{}".into(),
            ),
            (2, "test.f", Some("robot".into()), Some("item-002".into()), "{}".into()),
            (
                3 * 24 * 60,
                "test.f",
                Some("robot".into()),
                Some("item-003".into()),
                "{}".into(),
            ),
        ],
    )
    .await;
    let open = |q: String| {
        let c = &c;
        async move { c.open(&format!("/admin/audit?kind=test.f&{q}")).await }
    };
    // The actor by id, or by the email of that user.
    let by_id = open(format!("actor={}", c.admin_id)).await;
    assert_eq!(items(&by_id), ["item-001"]);
    let shown = format!(r#"<td title="{}">{}</td>"#, c.admin_id, c.admin_email);
    assert!(
        by_id.body().contains(&shown),
        "a user id is shown as the email: {}",
        by_id.body()
    );
    let by_email = url::form_urlencoded::byte_serialize(c.admin_email.as_bytes()).collect::<String>();
    assert_eq!(items(&open(format!("actor={by_email}")).await), ["item-001"]);
    assert_eq!(items(&open("subject=item-002".into()).await), ["item-002"]);
    // Today only (a bare end date covers its whole day), then before today.
    let day = today.to_string();
    let todays = items(&open(format!("from={day}&to={day}")).await);
    let older = items(&open(format!("to={}", today - chrono::Duration::days(1))).await);
    assert!(todays.contains(&"item-001".to_owned()) && !todays.contains(&"item-003".to_owned()));
    assert_eq!(older, ["item-003"]);

    // A malformed date: the page with a message, never a 500.
    let bad = open("from=last+tuesday".into()).await;
    assert_eq!(status(&bad), 400);
    assert!(bad.body().contains("is not a date"), "{}", bad.body());
    assert!(
        bad.body().contains(r#"value="last tuesday""#),
        "the form keeps what was typed"
    );
    let bad_csv = c.open("/admin/audit.csv?to=2026-13-45").await;
    assert_eq!(status(&bad_csv), 400);

    // Administrators only.
    let user = signed_in(&c.p, &c.p.email).await;
    for path in ["/admin/audit?kind=test.f", "/admin/audit.csv"] {
        assert_eq!(status(&user.follow(user.get(path).await).await), 403, "{path}");
    }
}

#[tokio::test]
async fn the_csv_export_holds_the_filtered_events_properly_quoted() {
    let c = console().await;
    let detail = serde_json::json!({ "note": "a, \"b\"" }).to_string();
    seed(
        &c,
        vec![
            (
                1,
                "test.csv",
                Some("robot".into()),
                Some("Smith, \"Jr\"".into()),
                detail,
            ),
            (
                2,
                "test.csv",
                Some("robot".into()),
                Some("=HYPERLINK(1)".into()),
                "{}".into(),
            ),
            (
                3,
                "test.other",
                Some("robot".into()),
                Some("left out".into()),
                "{}".into(),
            ),
        ],
    )
    .await;
    let page = c.open("/admin/audit?kind=test.csv").await;
    assert!(
        page.body().contains(r#"href="/admin/audit.csv?kind=test.csv""#),
        "{}",
        page.body()
    );

    let res = c.browser.get("/admin/audit.csv?kind=test.csv").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"latchkey-audit-"),
        "{disposition}"
    );
    let body = res.text().await.unwrap();
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{body}");
    assert_eq!(lines[0], "occurred_at,id,kind,actor,subject,ip,detail");
    assert!(
        lines[1].ends_with(r#",test.csv,robot,"Smith, ""Jr""",192.0.2.7,"{""note"":""a, \""b\""""}""#),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains(",'=HYPERLINK(1),"),
        "a formula is defused: {}",
        lines[2]
    );
    assert!(!body.contains("left out"));
}
