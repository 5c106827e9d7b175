use super::Invalid;

/// What a new password must be: long enough, not too long for argon2 input, hard to guess
/// (zxcvbn's estimate), and not built from the account's own email or name.
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    pub min_length: usize,
    /// zxcvbn score 0-4; 3 means "safely unguessable" (about 10^10 guesses).
    pub min_score: u8,
}

/// Upper bound on length: keeps hashing cost bounded and is far above any passphrase.
pub const MAX_PASSWORD_LEN: usize = 128;

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            min_score: 3,
        }
    }
}

impl PasswordPolicy {
    /// Checks a password, saying in words why it is refused.
    pub fn check(&self, password: &str, email: &str, name: &str) -> Result<(), Invalid> {
        let len = password.chars().count();
        if len < self.min_length {
            return Err(Invalid(format!("Use at least {} characters.", self.min_length)));
        }
        if len > MAX_PASSWORD_LEN {
            return Err(Invalid(format!("Use at most {MAX_PASSWORD_LEN} characters.")));
        }
        let lower = password.to_lowercase();
        let local = email.split('@').next().unwrap_or_default().to_lowercase();
        if local.chars().count() >= 3 && lower.contains(&local) {
            return Err(Invalid("The password must not contain your email address.".into()));
        }
        for part in name
            .split_whitespace()
            .map(str::to_lowercase)
            .filter(|p| p.chars().count() >= 3)
        {
            if lower.contains(&part) {
                return Err(Invalid("The password must not contain your name.".into()));
            }
        }
        let inputs: Vec<&str> = [email, name].into_iter().filter(|s| !s.is_empty()).collect();
        let estimate = zxcvbn::zxcvbn(password, &inputs);
        if u8::from(estimate.score()) < self.min_score {
            let hint = estimate
                .feedback()
                .and_then(|f| f.warning().map(|w| w.to_string()))
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| "It would be easy to guess.".into());
            return Err(Invalid(format!(
                "This password is too weak: {hint} Try a longer passphrase of unrelated words."
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_short_guessable_and_personal_passwords() {
        let p = PasswordPolicy::default();
        assert!(
            p.check("short", "a@example.com", "")
                .unwrap_err()
                .0
                .contains("at least 8")
        );
        assert!(
            p.check("password123", "a@example.com", "")
                .unwrap_err()
                .0
                .contains("too weak")
        );
        assert!(
            p.check("alice-rides-purple-zebras", "alice@example.com", "")
                .unwrap_err()
                .0
                .contains("email")
        );
        assert!(
            p.check("orbit lantern smithson quay", "b@example.com", "Robert Smithson")
                .unwrap_err()
                .0
                .contains("name")
        );
        assert!(p.check("velvet orbit lantern quay", "x@example.com", "").is_ok());
        assert!(p.check(&"x".repeat(129), "x@example.com", "").is_err());
    }
}
