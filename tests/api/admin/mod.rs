//! The admin console, driven as an administrator's browser drives it: signed in through the
//! hosted login, forms posted with the page's CSRF token.

mod access;
mod audit;
mod clients;
mod dashboard;
mod keys;
mod roles;
mod sessions;
mod users;

use diesel::prelude::*;
// Aliased: the section test modules `sessions` and `users` would clash with these names.
use latchkey::db::schema::sessions as session_rows;
use latchkey::domain::Email;
use latchkey::service::users as user_service;
use secrecy::SecretString;

use crate::oidc::{Browser, ClientOptions, Outcome, PASSWORD, Provider, hidden, provider};

/// A provider (with its ordinary user and client) plus an administrator signed in.
pub struct Console {
    pub p: Provider,
    pub admin_id: String,
    pub admin_email: String,
    pub browser: Browser,
}

pub async fn console() -> Console {
    let p = provider(ClientOptions::default()).await;
    let admin_email = format!("admin-{}@example.com", uuid::Uuid::new_v4().simple());
    let admin = user_service::create(
        &p.db,
        "test",
        user_service::NewUser {
            email: Email::parse(&admin_email).unwrap(),
            name: "Ada Admin".into(),
            password: Some(SecretString::from(PASSWORD)),
            admin: true,
            verified: true,
        },
    )
    .await
    .unwrap();
    let browser = signed_in(&p, &admin_email).await;
    Console {
        p,
        admin_id: admin.id,
        admin_email,
        browser,
    }
}

/// A browser signed in at `/login` as `email` (password [`PASSWORD`]).
pub async fn signed_in(p: &Provider, email: &str) -> Browser {
    let browser = Browser::new(&p.app);
    let login = browser.follow(browser.get("/login").await).await;
    let landed = browser.login(&login, email, PASSWORD).await;
    assert!(landed.url().ends_with("/account"), "{}", landed.url());
    browser
}

impl Console {
    /// Opens an admin page (following redirects within Latchkey).
    pub async fn open(&self, path: &str) -> Outcome {
        self.browser.follow(self.browser.get(path).await).await
    }

    /// Posts a form with the CSRF token of `page`, and follows where it leads.
    pub async fn post(&self, page: &Outcome, path: &str, fields: &[(&str, &str)]) -> Outcome {
        let csrf = hidden(page.body(), "csrf_token");
        let mut form = vec![("csrf_token", csrf.as_str())];
        form.extend_from_slice(fields);
        self.browser.follow(self.browser.post_form(path, &form).await).await
    }

    /// Posts a form without any CSRF token: must be refused.
    pub async fn post_without_csrf(&self, path: &str, fields: &[(&str, &str)]) -> Outcome {
        self.browser.follow(self.browser.post_form(path, fields).await).await
    }

    /// Makes the administrator's sign-in `minutes` older, so destructive actions ask for the
    /// password again.
    pub async fn age_sign_in(&self, minutes: i64) {
        let id = self.admin_id.clone();
        self.p
            .db
            .run(move |conn| {
                let earlier = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(minutes);
                diesel::update(session_rows::table.filter(session_rows::user_id.eq(id)))
                    .set(session_rows::auth_time.eq(earlier))
                    .execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
    }
}

pub fn status(outcome: &Outcome) -> u16 {
    match outcome {
        Outcome::Page { status, .. } => *status,
        Outcome::Client(url) => panic!("expected a page, went to {url}"),
    }
}
