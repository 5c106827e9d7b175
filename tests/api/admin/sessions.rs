//! Admin console tests: sessions. Ending a session signs that browser out and kills the
//! refresh tokens issued in it.

use super::*;
use crate::oidc::{REDIRECT, register};
use latchkey::db::schema::audit_events;

/// A refresh token bound to `browser`'s session, from a first-party client (no consent).
async fn refresh_token(c: &Console, browser: &Browser) -> (latchkey::service::clients::ClientView, String) {
    let client = register(
        &c.p.db,
        &ClientOptions {
            skip_consent: true,
            ..Default::default()
        },
    )
    .await;
    let url = format!(
        "{}/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid&state=s",
        c.p.app.address,
        client.client_id,
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let code = browser.start(&url::Url::parse(&url).unwrap()).await.client_params()["code"].clone();
    let tokens = token(
        c,
        &client,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    let rt = tokens.1["refresh_token"].as_str().unwrap().to_owned();
    (client, rt)
}

async fn token(
    c: &Console,
    client: &latchkey::service::clients::ClientView,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let res =
        c.p.app
            .http
            .post(format!("{}/token", c.p.app.address))
            .basic_auth(&client.client_id, client.client_secret.as_deref())
            .form(form)
            .send()
            .await
            .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// The ids of the live sessions of a user.
async fn live_sessions(c: &Console, user_id: &str) -> Vec<String> {
    let id = user_id.to_owned();
    c.p.db
        .run(move |conn| {
            Ok(session_rows::table
                .filter(session_rows::user_id.eq(id))
                .filter(session_rows::revoked_at.is_null())
                .select(session_rows::id)
                .load::<String>(conn)?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_ends_a_users_session_and_its_refresh_token_stops_working() {
    let c = console().await;
    let phone = signed_in(&c.p, &c.p.email).await;
    let (client, rt) = refresh_token(&c, &phone).await;
    let ids = live_sessions(&c, &c.p.user_id).await;
    assert_eq!(ids.len(), 1);

    let page = c.open("/admin/sessions").await;
    assert_eq!(status(&page), 200, "{}", page.body());
    assert!(page.body().contains(&c.p.email), "the user's session is listed");
    assert!(page.body().contains(&c.admin_email), "and the admin's own");
    assert!(page.body().contains(&format!(r#"name="session" value="{}""#, ids[0])));
    assert!(page.body().contains(r#"<div class="table-wrap">"#));

    let after = c.post(&page, "/admin/sessions/revoke", &[("session", &ids[0])]).await;
    assert_eq!(status(&after), 200, "{}", after.body());
    assert!(after.body().contains("Session ended"));
    assert!(!after.body().contains(&format!(r#"value="{}""#, ids[0])));

    // The phone is signed out, and its refresh token is refused.
    let account = phone.follow(phone.get("/account").await).await;
    assert!(account.url().ends_with("/login"), "{}", account.url());
    let (code, body) = token(&c, &client, &[("grant_type", "refresh_token"), ("refresh_token", &rt)]).await;
    assert_eq!((code, body["error"].as_str()), (400, Some("invalid_grant")));

    // Audited with the administrator as actor.
    let admin = c.admin_id.clone();
    let events: i64 =
        c.p.db
            .run(move |conn| {
                Ok(audit_events::table
                    .filter(audit_events::kind.eq("session.ended"))
                    .filter(audit_events::actor.eq(admin))
                    .count()
                    .get_result(conn)?)
            })
            .await
            .unwrap();
    assert_eq!(events, 1);
}

#[tokio::test]
async fn ending_a_session_needs_an_admin_and_a_csrf_token_but_no_password() {
    let c = console().await;
    let user = signed_in(&c.p, &c.p.email).await;
    let ids = live_sessions(&c, &c.p.user_id).await;

    // No CSRF token: refused, nothing ended.
    let refused = c
        .post_without_csrf("/admin/sessions/revoke", &[("session", &ids[0])])
        .await;
    assert_eq!(status(&refused), 400);
    // Not an administrator: 403, nothing ended.
    let own = user.follow(user.get("/account").await).await;
    let csrf = hidden(own.body(), "csrf_token");
    let res = user
        .post_form("/admin/sessions/revoke", &[("csrf_token", &csrf), ("session", &ids[0])])
        .await;
    assert_eq!(status(&user.follow(res).await), 403);
    assert_eq!(live_sessions(&c, &c.p.user_id).await, ids);

    // An old sign-in does not matter: ending a session takes access away.
    c.age_sign_in(11).await;
    let page = c.open("/admin/sessions").await;
    assert!(!page.body().contains(r#"name="password""#));
    let after = c.post(&page, "/admin/sessions/revoke", &[("session", &ids[0])]).await;
    assert!(after.body().contains("Session ended"), "{}", after.body());
    assert!(live_sessions(&c, &c.p.user_id).await.is_empty());
}

#[tokio::test]
async fn sessions_are_paged_newest_first() {
    let c = console().await;
    // 55 more sessions of the user, a second apart, written directly.
    let user = c.p.user_id.clone();
    c.p.db
        .run(move |conn| {
            let now = chrono::Utc::now().naive_utc();
            for i in 0..55 {
                let mut row = latchkey::service::sessions::new_row(
                    &user,
                    &Default::default(),
                    std::time::Duration::from_secs(3600),
                    now - chrono::Duration::seconds(i + 10),
                );
                row.user_agent = Some(format!("Agent/{i:03}"));
                diesel::insert_into(session_rows::table).values(&row).execute(conn)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let first = c.open("/admin/sessions").await;
    let agents = |page: &Outcome| -> Vec<String> {
        let re = regex_lite::Regex::new(r"Agent/(\d{3})").unwrap();
        let mut seen: Vec<String> = re.captures_iter(page.body()).map(|m| m[1].to_owned()).collect();
        seen.dedup();
        seen
    };
    let on_first = agents(&first);
    // The admin's own session is the newest; then 49 of the 55, newest first.
    assert_eq!(on_first.len(), 49);
    assert_eq!(on_first[0], "000");
    let next = regex_lite::Regex::new(r#"href="(/admin/sessions\?after=[^"]+)""#).unwrap();
    let href = next.captures(first.body()).unwrap()[1].to_owned();
    let second = c.open(&href).await;
    let on_second = agents(&second);
    assert_eq!(on_second, (49..55).map(|i| format!("{i:03}")).collect::<Vec<_>>());
    assert!(!next.is_match(second.body()), "no page after the last");

    // A tampered cursor: the first page, with a message, not an error page.
    let bad = c.open("/admin/sessions?after=garbage").await;
    assert_eq!(status(&bad), 400);
    assert!(bad.body().contains("not valid"));
}
