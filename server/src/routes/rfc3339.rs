//! Timestamps in response bodies, written as RFC 3339 strings in one piece.
//!
//! chrono's own `Serialize` for `DateTime` produces exactly this text, but through
//! `collect_str`: serde_json then feeds every character of it one `write_char` at a time
//! through its string-escaping writer. Under callgrind that was about 2,700 instructions per
//! timestamp, four of them in every `GET /api/auth/me` (issue 16's profile). Rendering the
//! same text with chrono into a `String` first and writing it as one string costs a fraction of
//! that. The output is byte-for-byte chrono's (same `write_rfc3339`, `SecondsFormat::AutoSi`,
//! `Z`), which the tests below hold it to; the OpenAPI schema is unchanged because the fields
//! keep their `DateTime<Utc>` type (`#[serde(serialize_with = …)]` only).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

/// For a `DateTime<Utc>` field: `#[serde(serialize_with = "rfc3339::one")]`.
pub fn one<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// For an `Option<DateTime<Utc>>` field: `#[serde(serialize_with = "rfc3339::option")]`.
pub fn option<S: Serializer>(at: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => one(at, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use serde::Serialize;

    #[derive(Serialize)]
    struct Ours {
        #[serde(serialize_with = "super::one")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "super::option")]
        maybe: Option<DateTime<Utc>>,
    }

    #[derive(Serialize)]
    struct Chrono {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
    }

    #[test]
    fn same_text_as_chrono() {
        // Whole seconds, milli-, micro- and nanosecond fractions, the epoch, a leap second,
        // and the far ends of what the database can hold.
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .map(|n| n.and_utc());
        let mut moments: Vec<DateTime<Utc>> = [
            0_i64,
            1_796_000_000_000_000,
            1_796_000_000_123_000,
            1_796_000_000_123_456,
            -1,
            4_102_444_800_000_000,
            253_402_300_799_999_999,
        ]
        .into_iter()
        .map(|us| DateTime::from_timestamp_micros(us).expect("in range"))
        .collect();
        moments.push(DateTime::from_timestamp(1_796_000_000, 7).expect("in range"));
        moments.extend(leap);
        for at in moments {
            for maybe in [None, Some(at)] {
                let ours = serde_json::to_string(&Ours { at, maybe }).expect("serialises");
                let theirs = serde_json::to_string(&Chrono { at, maybe }).expect("serialises");
                assert_eq!(ours, theirs);
            }
        }
    }
}
