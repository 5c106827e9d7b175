//! Who may use the console: administrators only, CSRF on every form.

use super::*;

#[tokio::test]
async fn only_signed_in_administrators_get_in() {
    let c = console().await;
    let page = c.open("/admin").await;
    assert_eq!(status(&page), 200, "{}", page.body());
    assert!(page.body().contains("Latchkey admin"));

    // Not signed in: the login page.
    let anonymous = Browser::new(&c.p.app);
    let page = anonymous.follow(anonymous.get("/admin/users").await).await;
    assert!(page.url().ends_with("/login"), "{}", page.url());

    // Signed in without the admin role: 403 on every section.
    let user = signed_in(&c.p, &c.p.email).await;
    for path in [
        "/admin",
        "/admin/users",
        "/admin/roles",
        "/admin/clients",
        "/admin/sessions",
        "/admin/keys",
        "/admin/audit",
    ] {
        let page = user.follow(user.get(path).await).await;
        assert_eq!(status(&page), 403, "{path}");
    }
}
