//! Admin console: roles. Created, renamed and deleted on the roles page; a rename or deletion
//! reaches every holder; `admin` is built in.

use latchkey::db::repo;

use super::*;

async fn roles_of(c: &Console, id: &str) -> String {
    let id = id.to_owned();
    c.p.db
        .run(move |conn| Ok(repo::users::find_by_id(conn, &id)?))
        .await
        .unwrap()
        .unwrap()
        .roles
}

async fn grant(c: &Console, user_id: &str, roles: &[&str]) {
    let path = format!("/admin/users/{user_id}");
    let page = c.open(&path).await;
    let fields: Vec<(&str, &str)> = roles.iter().map(|r| ("role", *r)).collect();
    let saved = c.post(&page, &format!("{path}/roles"), &fields).await;
    assert!(saved.body().contains("Roles saved."), "{}", saved.body());
}

#[tokio::test]
async fn roles_are_created_renamed_and_deleted_for_every_holder() {
    let c = console().await;
    let page = c.open("/admin/roles").await;
    assert_eq!(status(&page), 200);
    assert!(page.body().contains("<code>admin</code>"));

    let made = c
        .post(
            &page,
            "/admin/roles",
            &[("name", "Billing_Viewer"), ("description", "Reads invoices")],
        )
        .await;
    assert!(made.body().contains("Role created."), "{}", made.body());
    assert!(
        made.body().contains("<code>billing_viewer</code>"),
        "names are lower-cased"
    );
    let bad = c
        .post(&made, "/admin/roles", &[("name", "two words"), ("description", "kept")])
        .await;
    assert_eq!(status(&bad), 400);
    assert!(bad.body().contains("A role name is"));
    assert!(bad.body().contains(r#"value="kept""#), "the form is kept");
    let twice = c.post(&bad, "/admin/roles", &[("name", "billing_viewer")]).await;
    assert!(twice.body().contains("already exists"));
    c.post(&twice, "/admin/roles", &[("name", "billingxviewer")]).await;

    // `_` is a LIKE wildcard: the rename must touch exactly the holders of `billing_viewer`.
    grant(&c, &c.p.user_id, &["billing_viewer"]).await;
    grant(&c, &c.admin_id, &["admin", "billingxviewer"]).await;
    let page = c.open("/admin/roles").await;
    let renamed = c
        .post(
            &page,
            "/admin/roles/billing_viewer/rename",
            &[("new_name", "finance"), ("description", "Money")],
        )
        .await;
    assert!(renamed.body().contains("Role renamed"), "{}", renamed.body());
    assert_eq!(roles_of(&c, &c.p.user_id).await, "finance");
    assert_eq!(roles_of(&c, &c.admin_id).await, "admin billingxviewer");
    let clash = c
        .post(&renamed, "/admin/roles/finance/rename", &[("new_name", "admin")])
        .await;
    assert!(clash.body().contains("already exists"), "{}", clash.body());

    // Deleting takes the role from its holders; an old sign-in must confirm the password.
    c.age_sign_in(11).await;
    let page = c.open("/admin/roles").await;
    let refused = c.post(&page, "/admin/roles/finance/delete", &[]).await;
    assert!(refused.body().contains("Confirm your password"));
    assert_eq!(roles_of(&c, &c.p.user_id).await, "finance");
    let deleted = c
        .post(&refused, "/admin/roles/finance/delete", &[("password", PASSWORD)])
        .await;
    assert!(deleted.body().contains("Role deleted"), "{}", deleted.body());
    assert!(!deleted.body().contains("<code>finance</code>"));
    assert_eq!(roles_of(&c, &c.p.user_id).await, "");
    assert_eq!(roles_of(&c, &c.admin_id).await, "admin billingxviewer");

    // The built-in role stays.
    let kept = c
        .post(&deleted, "/admin/roles/admin/delete", &[("password", PASSWORD)])
        .await;
    assert!(kept.body().contains("built in"));
    let kept = c
        .post(&kept, "/admin/roles/admin/rename", &[("new_name", "boss")])
        .await;
    assert!(kept.body().contains("built in"));

    let admin_id = c.admin_id.clone();
    let kinds: Vec<String> =
        c.p.db
            .run(move |conn| {
                use latchkey::db::schema::audit_events as a;
                Ok(a::table.filter(a::actor.eq(admin_id)).select(a::kind).load(conn)?)
            })
            .await
            .unwrap();
    for kind in ["role.created", "role.renamed", "role.deleted", "user.roles_changed"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

#[tokio::test]
async fn role_changes_need_an_administrator_and_a_csrf_token() {
    let c = console().await;
    let refused = c.post_without_csrf("/admin/roles", &[("name", "sneaky")]).await;
    assert_eq!(status(&refused), 400);
    let refused = c
        .post_without_csrf("/admin/roles/admin/delete", &[("password", PASSWORD)])
        .await;
    assert_eq!(status(&refused), 400);

    let user = signed_in(&c.p, &c.p.email).await;
    let account = user.follow(user.get("/account").await).await;
    let csrf = hidden(account.body(), "csrf_token");
    let res = user
        .follow(
            user.post_form("/admin/roles", &[("csrf_token", &csrf), ("name", "sneaky")])
                .await,
        )
        .await;
    assert_eq!(status(&res), 403);
    let page = c.open("/admin/roles").await;
    assert!(!page.body().contains("sneaky"));
}
