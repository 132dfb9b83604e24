//! Field validation that names every bad field at once (`validation_error`).

use crate::error::{AppError, FieldErrors};

/// Collects field errors.
#[derive(Debug, Default)]
pub struct Fields(FieldErrors);

impl Fields {
    /// Records an error on `field`.
    pub fn add(&mut self, field: &str, message: &str) {
        self.0
            .entry(field.to_string())
            .or_default()
            .push(message.to_string());
    }

    /// A required string: missing and blank are errors.
    pub fn required(&mut self, field: &str, value: Option<String>) -> Option<String> {
        match value {
            None => self.add(field, "This field is required."),
            Some(v) if v.trim().is_empty() => self.add(field, "This field may not be blank."),
            Some(v) => return Some(v),
        }
        None
    }

    /// Checks a check on an optional value.
    pub fn check<T: ?Sized>(
        &mut self,
        field: &str,
        value: Option<&T>,
        ok: impl Fn(&T) -> bool,
        message: &str,
    ) {
        if value.is_some_and(|v| !ok(v)) {
            self.add(field, message);
        }
    }

    /// `Ok` when nothing was recorded.
    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}

/// 1–150 of `[A-Za-z0-9@.+_-]`.
pub fn valid_username(s: &str) -> bool {
    (1..=150).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@.+_-".contains(&b))
}

/// 8–1024 characters.
pub fn valid_password(s: &str) -> bool {
    (8..=1024).contains(&s.chars().count())
}

/// 1–64 of `[A-Za-z0-9._-]`, starting with a letter or digit.
pub fn valid_client_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// Messages shared by several handlers.
pub const USERNAME_MSG: &str = "Enter 1–150 characters: letters, digits and @.+_- only.";
/// See [`valid_password`].
pub const PASSWORD_MSG: &str = "Enter between 8 and 1024 characters.";
