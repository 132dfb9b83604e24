//! Field rules shared by the admin API, the CLI and the services: usernames, passwords, client
//! names, a collector that names every bad field at once, and the serde helpers that tell an
//! absent field from a `null` one. Pure: no I/O, no HTTP.

use std::collections::BTreeMap;

/// Field name → messages.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// Input that broke one or more field rules; the HTTP layer answers it as `validation_error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub FieldErrors);

impl Invalid {
    /// One message on one field.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        Self(FieldErrors::from([(
            name.to_string(),
            vec![message.into()],
        )]))
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for (field, messages) in &self.0 {
            for message in messages {
                if !first {
                    f.write_str("; ")?;
                }
                first = false;
                write!(f, "{field}: {message}")?;
            }
        }
        Ok(())
    }
}

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

    /// Records `message` on `field` when `value` is present and fails `ok`.
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
    pub fn finish(self) -> Result<(), Invalid> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Invalid(self.0))
        }
    }
}

/// 1–150 of `[A-Za-z0-9@.+_-]`.
pub fn valid_username(s: &str) -> bool {
    (1..=150).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@.+_-".contains(&b))
}

/// 8–1024 characters, none of them NUL.
pub fn valid_password(s: &str) -> bool {
    (8..=1024).contains(&s.chars().count()) && !s.contains('\0')
}

/// 1–64 of `[A-Za-z0-9._-]`, starting with a letter or digit.
pub fn valid_client_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// See [`valid_username`].
pub const USERNAME_MSG: &str = "Enter 1–150 characters: letters, digits and @.+_- only.";
/// See [`valid_password`].
pub const PASSWORD_MSG: &str = "Enter between 8 and 1024 characters.";
/// See [`valid_client_name`].
pub const CLIENT_NAME_MSG: &str =
    "Enter 1–64 of A-Z a-z 0-9 . _ -, starting with a letter or digit.";
/// The JSON Schema pattern of a username.
pub const USERNAME_PATTERN: &str = "^[A-Za-z0-9@.+_-]{1,150}$";
/// The JSON Schema pattern of a client name.
pub const CLIENT_NAME_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$";

/// Deserialises a field that may be absent (outer `None`) or `null` (inner `None`), for PATCH.
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(de).map(Some)
}

/// An integer as JSON Schema counts them: `5` and `5.0` alike (a schema cannot tell them apart,
/// so refusing `5.0` would refuse a valid request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Whole(pub i64);

impl<'de> serde::Deserialize<'de> for Whole {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let n = <serde_json::Number as serde::Deserialize>::deserialize(de)?;
        let whole = n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                .map(|f| f as i64)
        });
        whole
            .map(Whole)
            .ok_or_else(|| serde::de::Error::custom("Enter a whole number."))
    }
}

/// [`double_option`] for whole numbers.
pub fn double_option_whole<'de, D>(de: D) -> Result<Option<Option<i64>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let v: Option<Whole> = serde::Deserialize::deserialize(de)?;
    Ok(Some(v.map(|w| w.0)))
}

/// Deserialises a field that may be absent but not `null` (`null` is a `validation_error`).
pub fn non_null<'de, D, T>(de: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(de).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_passwords() {
        assert!(valid_username("alice@example.com"));
        assert!(!valid_username("") && !valid_username("a b") && !valid_username("é"));
        assert!(valid_client_name("ios-2.0") && !valid_client_name("-x"));
        assert!(valid_password("12345678") && !valid_password("1234567"));
        assert!(!valid_password("1234567\0"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut f = Fields::default();
        assert_eq!(f.required("a", None), None);
        assert_eq!(f.required("b", Some(" ".into())), None);
        f.check("c", Some("x"), |s: &str| s.len() > 3, "too short");
        let Invalid(errors) = f.finish().unwrap_err();
        assert_eq!(errors.len(), 3);
    }
}
