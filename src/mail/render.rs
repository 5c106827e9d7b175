//! Messages into subject, plain text and HTML, from the askama templates in `templates/email/`.
//! The HTML templates escape what they print; the text ones print links verbatim, each on a
//! line of its own, so a reader (or a test) can take them as they are.

use askama::Template;

use super::{Message, Sent};

#[derive(Template)]
#[template(path = "email/verify_email.html")]
struct VerifyEmailHtml<'a> {
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/verify_email.txt")]
struct VerifyEmailText<'a> {
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/reset_password.html")]
struct ResetPasswordHtml<'a> {
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/reset_password.txt")]
struct ResetPasswordText<'a> {
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/invitation.html")]
struct InvitationHtml<'a> {
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/invitation.txt")]
struct InvitationText<'a> {
    link: &'a str,
}

#[derive(Template)]
#[template(path = "email/signup_attempt.html")]
struct SignupAttemptHtml<'a> {
    sign_in_link: &'a str,
    reset_link: &'a str,
}

#[derive(Template)]
#[template(path = "email/signup_attempt.txt")]
struct SignupAttemptText<'a> {
    sign_in_link: &'a str,
    reset_link: &'a str,
}

#[derive(Template)]
#[template(path = "email/email_changed.html")]
struct EmailChangedHtml<'a> {
    new_email: &'a str,
}

#[derive(Template)]
#[template(path = "email/email_changed.txt")]
struct EmailChangedText<'a> {
    new_email: &'a str,
}

#[derive(Template)]
#[template(path = "email/account_locked.html")]
struct AccountLockedHtml<'a> {
    until: &'a str,
}

#[derive(Template)]
#[template(path = "email/account_locked.txt")]
struct AccountLockedText<'a> {
    until: &'a str,
}

#[derive(Template)]
#[template(path = "email/link_identity.html")]
struct LinkIdentityHtml<'a> {
    link: &'a str,
    provider: &'a str,
}

#[derive(Template)]
#[template(path = "email/link_identity.txt")]
struct LinkIdentityText<'a> {
    link: &'a str,
    provider: &'a str,
}

/// Renders a message for its recipient.
pub(crate) fn render(message: &Message) -> askama::Result<Sent> {
    let (to, subject, text, html) = match message {
        Message::VerifyEmail { to, link } => (
            to,
            "Verify your email address",
            VerifyEmailText { link }.render()?,
            VerifyEmailHtml { link }.render()?,
        ),
        Message::ResetPassword { to, link } => (
            to,
            "Reset your password",
            ResetPasswordText { link }.render()?,
            ResetPasswordHtml { link }.render()?,
        ),
        Message::Invitation { to, link } => (
            to,
            "You are invited to Latchkey",
            InvitationText { link }.render()?,
            InvitationHtml { link }.render()?,
        ),
        Message::SignupAttempt {
            to,
            sign_in_link,
            reset_link,
        } => (
            to,
            "You already have a Latchkey account",
            SignupAttemptText {
                sign_in_link,
                reset_link,
            }
            .render()?,
            SignupAttemptHtml {
                sign_in_link,
                reset_link,
            }
            .render()?,
        ),
        Message::EmailChanged { to, new_email } => (
            to,
            "Your email address was changed",
            EmailChangedText { new_email }.render()?,
            EmailChangedHtml { new_email }.render()?,
        ),
        Message::LinkIdentity { to, link, provider } => (
            to,
            "Link your sign-in to your Latchkey account",
            LinkIdentityText { link, provider }.render()?,
            LinkIdentityHtml { link, provider }.render()?,
        ),
        Message::AccountLocked { to, until } => {
            // Minutes are precise enough, and UTC says the same thing wherever the reader is.
            let until = until.format("%Y-%m-%d %H:%M UTC").to_string();
            (
                to,
                "Your account is locked for a while",
                AccountLockedText { until: &until }.render()?,
                AccountLockedHtml { until: &until }.render()?,
            )
        }
    };
    Ok(Sent {
        to: to.clone(),
        subject: subject.to_owned(),
        text,
        html,
    })
}
