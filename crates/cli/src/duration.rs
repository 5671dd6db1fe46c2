//! Durations on the command line: seconds, or a number with s/m/h/d (30m, 24h, 7d).

use std::time::Duration;

/// A positive duration.
pub fn parse(s: &str) -> Result<Duration, String> {
    let d = parse_or_zero(s)?;
    if d.is_zero() {
        return Err(format!("duration {s:?} must be more than zero"));
    }
    Ok(d)
}

/// A duration where zero means something (e.g. "keep nothing").
pub fn parse_or_zero(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("bad duration unit in {s:?}; use s, m, h or d")),
    };
    n.checked_mul(mult)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("duration {s:?} out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse("7d").unwrap(), Duration::from_secs(604_800));
        assert!(parse("0").is_err());
        assert_eq!(parse_or_zero("0").unwrap(), Duration::ZERO);
        assert!(parse("5w").is_err());
        assert!(parse("h").is_err());
    }
}
