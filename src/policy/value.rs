//! Reading condition values for their operator's family, the same way for the policy's values
//! and the request's. A value that does not read makes its comparison false (IAM).

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

/// A number for `Numeric*`; IAM takes integers and decimals, never NaN or infinity.
pub fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
    {
        return None;
    }
    f64::from_str(s).ok().filter(|n| n.is_finite())
}

/// A moment for `Date*`: epoch seconds or ISO 8601 (a time without offset, or a bare date, is
/// read as UTC).
pub fn date(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(secs) = i64::from_str(s) {
        return Timestamp::from_second(secs).ok();
    }
    if let Ok(t) = Timestamp::from_str(s) {
        return Some(t);
    }
    if let Ok(dt) = DateTime::from_str(s) {
        return dt
            .to_zoned_datetime(TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    Date::from_str(s)
        .ok()
        .and_then(|d| d.to_zoned_datetime(TimeZone::UTC).ok())
        .map(|z| z.timestamp())
}

/// A network for `IpAddress`: CIDR, or one address (a host network).
pub fn network(s: &str) -> Option<IpNet> {
    let s = s.trim();
    IpNet::from_str(s)
        .ok()
        .or_else(|| IpAddr::from_str(s).ok().map(IpNet::from))
}

/// A boolean for `Bool` and `Null`; IAM reads `true`/`false` in any case.
pub fn boolean(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_integers_and_decimals_only() {
        assert_eq!(number("42"), Some(42.0));
        assert_eq!(number("-1.5"), Some(-1.5));
        assert_eq!(number("abc"), None);
        assert_eq!(number("inf"), None);
        assert_eq!(number("NaN"), None);
    }

    #[test]
    fn dates_read_iso_8601_and_epoch_seconds() {
        let a = date("2024-01-01T00:00:00Z").expect("iso");
        assert_eq!(date("1704067200"), Some(a));
        assert_eq!(date("2024-01-01"), Some(a));
        assert_eq!(date("2024-01-01T00:00:00"), Some(a));
        assert_eq!(date("2024-01-01T01:00:00+01:00"), Some(a));
        assert_eq!(date("yesterday"), None);
    }

    #[test]
    fn networks_read_cidr_and_single_addresses() {
        assert!(network("10.0.0.0/8").is_some());
        assert!(network("10.1.2.3").is_some());
        assert!(network("2001:db8::/32").is_some());
        assert!(network("10.0.0.0/33").is_none());
    }
}
