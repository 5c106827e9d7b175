//! Admin console: the user list (search, filters, keyset pages), creating users (with a
//! password or an invitation), and the user page's actions with their guards.

use latchkey::db::models::{LoginFailureRow, MailRow};
use latchkey::db::repo;
use latchkey::db::schema::mail_outbox;
use latchkey::service::lockout;
use latchkey::service::users as accounts;

use super::*;

mod tokens;

pub const NEW_PASSWORD: &str = "copper meadow signal harbor";

/// Users made straight in the database (no password: no argon2 time).
async fn make_user(c: &Console, email: &str, name: &str, verified: bool) -> String {
    accounts::create(
        &c.p.db,
        "test",
        accounts::NewUser {
            email: Email::parse(email).unwrap(),
            name: name.into(),
            password: None,
            admin: false,
            verified,
        },
    )
    .await
    .unwrap()
    .id
}

pub(super) async fn user_row(c: &Console, id: &str) -> Option<latchkey::db::models::UserRow> {
    let id = id.to_owned();
    c.p.db
        .run(move |conn| Ok(repo::users::find_by_id(conn, &id)?))
        .await
        .unwrap()
}

/// The `/admin/users/{id}` links of a list page.
fn listed(page: &Outcome) -> Vec<String> {
    let re = regex_lite::Regex::new(r#"href="/admin/users/([0-9a-f-]{36})""#).unwrap();
    re.captures_iter(page.body()).map(|c| c[1].to_owned()).collect()
}

/// The newest mail to `to`, as text.
pub async fn last_mail(c: &Console, to: &str) -> String {
    let to = to.to_owned();
    let rows =
        c.p.db
            .run(move |conn| {
                Ok(mail_outbox::table
                    .filter(mail_outbox::to_address.eq(to))
                    .order(mail_outbox::created_at.desc())
                    .select(MailRow::as_select())
                    .load(conn)?)
            })
            .await
            .unwrap();
    rows.first()
        .map(|m| format!("{}\n{}", m.subject, m.body_text))
        .unwrap_or_default()
}

#[tokio::test]
async fn search_is_by_prefix_any_case_and_pages_with_a_cursor() {
    let c = console().await;
    for i in 0..55 {
        make_user(
            &c,
            &format!("pager-{i:03}@example.com"),
            &format!("Pat Pager {i:03}"),
            true,
        )
        .await;
    }
    make_user(&c, "other@example.com", "Émile Other", true).await;

    let first = c.open("/admin/users?q=PAGER-").await;
    assert_eq!(status(&first), 200);
    assert_eq!(listed(&first).len(), 50, "a page holds 50");
    assert!(first.body().contains("pager-000@example.com"));
    assert!(!first.body().contains("other@example.com"));
    let re = regex_lite::Regex::new(r#"href="([^"]+)" rel="next""#).unwrap();
    let next = re.captures(first.body()).expect("a next page link")[1]
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(next.contains("after="), "{next}");
    let second = c.open(&next).await;
    assert_eq!(listed(&second).len(), 5);
    assert!(second.body().contains("pager-054@example.com"));
    assert!(!second.body().contains("pager-049@example.com"), "no row twice");
    assert!(!second.body().contains(r#"rel="next""#));

    // Names: prefix, any case, in name order, with their own keyset.
    let by_name = c.open("/admin/users?by=name&q=pat%20pager%2000").await;
    assert_eq!(listed(&by_name).len(), 10);
    let names = c.open("/admin/users?by=name&q=pat").await;
    let next = re.captures(names.body()).expect("a next page")[1]
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert_eq!(listed(&c.open(&next).await).len(), 5);
    let accented = c.open("/admin/users?by=name&q=%C3%89mile").await;
    assert_eq!(listed(&accented).len(), 1);

    // Nothing found; odd input is only text.
    let none = c.open("/admin/users?q=%3Cscript%3E").await;
    assert_eq!(status(&none), 200);
    assert!(none.body().contains("No user matches"));
    assert!(!none.body().contains("<script>"));
}

#[tokio::test]
async fn filters_find_admins_disabled_unverified_and_locked_users() {
    let c = console().await;
    let unverified = make_user(&c, "new@example.com", "New", false).await;
    let disabled = make_user(&c, "gone@example.com", "Gone", true).await;
    accounts::set_disabled(&c.p.db, "test", &Email::parse("gone@example.com").unwrap(), true)
        .await
        .unwrap();

    assert_eq!(listed(&c.open("/admin/users?admin=1").await), vec![c.admin_id.clone()]);
    assert_eq!(listed(&c.open("/admin/users?disabled=1").await), vec![disabled.clone()]);
    assert_eq!(listed(&c.open("/admin/users?unverified=1").await), [unverified]);
    assert!(listed(&c.open("/admin/users?disabled=1&admin=1").await).is_empty());
    assert!(listed(&c.open("/admin/users?locked=1").await).is_empty());

    // A lock, as sign-in records it: the counter (keyed by the hashed address) and its event.
    let (subject, user_id) = (lockout::subject(&c.p.email), c.p.user_id.clone());
    c.p.db
        .run(move |conn| {
            let now = chrono::Utc::now().naive_utc();
            repo::login_failures::insert(
                conn,
                &LoginFailureRow {
                    subject,
                    window_start: now,
                    failures: 0,
                    blocked_until: Some(now + chrono::Duration::minutes(15)),
                },
            )?;
            let event =
                latchkey::service::audit::event("login.locked", "anonymous", Some(&user_id), serde_json::json!({}));
            repo::audit::insert(conn, &event)?;
            Ok(())
        })
        .await
        .unwrap();
    let locked = c.open("/admin/users?locked=1").await;
    assert_eq!(listed(&locked), vec![c.p.user_id.clone()]);
    let user_page = c.open(&format!("/admin/users/{}", c.p.user_id)).await;
    assert!(user_page.body().contains("Sign-in is refused until"));

    // Unlocking forgets the counter: the user signs in again.
    let done = c
        .post(&user_page, &format!("/admin/users/{}/unlock", c.p.user_id), &[])
        .await;
    assert!(done.body().contains("Failed sign-ins forgotten"), "{}", done.body());
    assert!(listed(&c.open("/admin/users?locked=1").await).is_empty());
    signed_in(&c.p, &c.p.email).await;
}

#[tokio::test]
async fn creating_a_user_with_a_password_or_an_invitation() {
    let c = console().await;
    let form = c.open("/admin/users/new").await;
    assert_eq!(status(&form), 200);

    // Refusals keep the form.
    let weak = c
        .post(
            &form,
            "/admin/users/new",
            &[
                ("email", "kim@example.com"),
                ("name", "Kim"),
                ("new_password", "password1"),
            ],
        )
        .await;
    assert_eq!(status(&weak), 400);
    assert!(weak.body().contains(r#"value="kim@example.com""#));
    let neither = c.post(&weak, "/admin/users/new", &[("email", "kim@example.com")]).await;
    assert!(neither.body().contains("Type a password, or send an invitation"));

    let made = c
        .post(
            &neither,
            "/admin/users/new",
            &[
                ("email", "Kim@Example.com"),
                ("name", "Kim"),
                ("new_password", NEW_PASSWORD),
                ("verified", "1"),
            ],
        )
        .await;
    assert!(made.body().contains("User created."), "{}", made.body());
    assert!(made.body().contains("kim@example.com"));
    let again = c
        .post(
            &made,
            "/admin/users/new",
            &[("email", "kim@example.com"), ("new_password", NEW_PASSWORD)],
        )
        .await;
    assert!(again.body().contains("already exists"), "{}", again.body());
    let kim = Browser::new(&c.p.app);
    let login = kim.follow(kim.get("/login").await).await;
    assert!(
        kim.login(&login, "kim@example.com", NEW_PASSWORD)
            .await
            .url()
            .ends_with("/account")
    );

    // An invitation: no password; the mailed link sets one and proves the address.
    let invited = c
        .post(
            &again,
            "/admin/users/new",
            &[("email", "lou@example.com"), ("name", "Lou"), ("invite", "1")],
        )
        .await;
    assert!(
        invited.body().contains("invitation is on its way"),
        "{}",
        invited.body()
    );
    let mail = last_mail(&c, "lou@example.com").await;
    assert!(mail.starts_with("You are invited"), "{mail}");
    assert!(mail.contains("7 days"));
    let link = mail
        .lines()
        .find(|l| l.contains("/reset-password?token="))
        .unwrap()
        .trim()
        .to_owned();
    let lou = Browser::new(&c.p.app);
    let set = lou.follow(lou.get(&link).await).await;
    let done = lou
        .follow(
            lou.post_form(
                "/reset-password",
                &[
                    ("csrf_token", &hidden(set.body(), "csrf_token")),
                    ("token", &hidden(set.body(), "token")),
                    ("password", NEW_PASSWORD),
                    ("password_confirm", NEW_PASSWORD),
                ],
            )
            .await,
        )
        .await;
    assert_eq!(status(&done), 200, "{}", done.body());
    signed_in_with(&c.p, "lou@example.com", NEW_PASSWORD).await;
}

async fn signed_in_with(p: &Provider, email: &str, password: &str) {
    let b = Browser::new(&p.app);
    let login = b.follow(b.get("/login").await).await;
    let landed = b.login(&login, email, password).await;
    assert!(landed.url().ends_with("/account"), "{}", landed.body());
}

#[tokio::test]
async fn the_user_page_edits_the_profile_and_refuses_a_taken_address() {
    let c = console().await;
    make_user(&c, "taken@example.com", "Taken", true).await;
    let path = format!("/admin/users/{}", c.p.user_id);
    let page = c.open(&path).await;
    assert_eq!(status(&page), 200);
    assert!(page.body().contains(&c.p.email));
    assert!(page.body().contains("Latest events"));

    let taken = c
        .post(
            &page,
            &format!("{path}/profile"),
            &[("name", "Renamed"), ("email", "taken@example.com")],
        )
        .await;
    assert_eq!(status(&taken), 400);
    assert!(taken.body().contains("Another user already has this address"));
    assert!(taken.body().contains(r#"value="Renamed""#), "the form is kept");

    let saved = c
        .post(
            &taken,
            &format!("{path}/profile"),
            &[("name", "Renamed"), ("email", "Moved@Example.com")],
        )
        .await;
    assert!(saved.body().contains("Profile saved."), "{}", saved.body());
    let row = user_row(&c, &c.p.user_id).await.unwrap();
    assert_eq!(
        (row.name.as_str(), row.email.as_str(), row.email_verified),
        ("Renamed", "moved@example.com", false)
    );
    assert!(
        saved.body().contains("user.updated"),
        "the change is in the user's events"
    );
}

#[tokio::test]
async fn reset_link_and_sign_out_everywhere() {
    let c = console().await;
    let user_browser = signed_in(&c.p, &c.p.email).await;
    let path = format!("/admin/users/{}", c.p.user_id);
    let page = c.open(&path).await;
    let sent = c.post(&page, &format!("{path}/reset-password"), &[]).await;
    assert!(sent.body().contains("password reset link is on its way"));
    assert!(last_mail(&c, &c.p.email).await.contains("/reset-password?token="));

    assert!(sent.body().contains("<h2>Sessions</h2>"));
    let out = c.post(&sent, &format!("{path}/sign-out"), &[]).await;
    assert!(
        out.body()
            .contains("Every session and refresh token of this user ended")
    );
    assert!(out.body().contains("No live session."));
    let gone = user_browser.follow(user_browser.get("/account").await).await;
    assert!(gone.url().contains("/login"));
}

#[tokio::test]
async fn deleting_needs_a_recent_sign_in_and_every_action_is_audited() {
    let c = console().await;
    let victim = make_user(&c, "victim@example.com", "Victim", true).await;
    let path = format!("/admin/users/{victim}");
    c.age_sign_in(11).await;
    let page = c.open(&path).await;
    let refused = c.post(&page, &format!("{path}/delete"), &[]).await;
    assert!(refused.body().contains("Confirm your password"));
    assert!(user_row(&c, &victim).await.is_some());
    let deleted = c
        .post(&refused, &format!("{path}/delete"), &[("password", PASSWORD)])
        .await;
    assert!(deleted.body().contains("User deleted."), "{}", deleted.body());
    assert!(user_row(&c, &victim).await.is_none());
    assert_eq!(status(&c.open(&path).await), 404);

    let admin_id = c.admin_id.clone();
    let kinds: Vec<String> =
        c.p.db
            .run(move |conn| {
                use latchkey::db::schema::audit_events as a;
                Ok(a::table.filter(a::actor.eq(admin_id)).select(a::kind).load(conn)?)
            })
            .await
            .unwrap();
    assert!(kinds.contains(&"user.deleted".to_owned()), "{kinds:?}");

    // The administrator cannot delete themselves.
    let own = format!("/admin/users/{}", c.admin_id);
    let page = c.open(&own).await;
    let kept = c.post(&page, &format!("{own}/delete"), &[("password", PASSWORD)]).await;
    assert!(kept.body().contains("cannot delete your own account"));
}

#[tokio::test]
async fn user_actions_need_an_administrator_and_a_csrf_token() {
    let c = console().await;
    let path = format!("/admin/users/{}", c.p.user_id);
    for action in [
        "profile",
        "roles",
        "disable",
        "enable",
        "unlock",
        "reset-password",
        "sign-out",
        "delete",
    ] {
        let refused = c
            .post_without_csrf(
                &format!("{path}/{action}"),
                &[("email", "x@example.com"), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(status(&refused), 400, "{action}");
    }
    let refused = c
        .post_without_csrf("/admin/users/new", &[("email", "x@example.com"), ("invite", "1")])
        .await;
    assert_eq!(status(&refused), 400);
    let row = user_row(&c, &c.p.user_id).await.unwrap();
    assert!(!row.disabled);
    assert_eq!(row.email, c.p.email);

    // A signed-in user without the admin role: 403, even with their own valid CSRF token.
    let user = signed_in(&c.p, &c.p.email).await;
    let account = user.follow(user.get("/account").await).await;
    let csrf = hidden(account.body(), "csrf_token");
    for action in ["disable", "delete", "sign-out"] {
        let res = user
            .follow(
                user.post_form(
                    &format!("/admin/users/{}/{action}", c.admin_id),
                    &[("csrf_token", &csrf)],
                )
                .await,
            )
            .await;
        assert_eq!(status(&res), 403, "{action}");
    }
    assert_eq!(status(&user.follow(user.get(&path).await).await), 403);
    assert_eq!(status(&user.follow(user.get("/admin/users/new").await).await), 403);
    assert!(!user_row(&c, &c.admin_id).await.unwrap().disabled);
}
