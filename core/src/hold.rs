//! A booking hold as the client sees it: how long is left on a checkout that holds a slot for
//! a short while, and that time as a clock. Links that live for days are not counted down.

/// Holds at most this long (at the moment they are looked at) are counted down: a booking
/// page holds a slot for minutes; a payment link lives for days.
pub const COUNTED_SECS: i64 = 3_600;

/// Seconds left on a short hold at `now` (unix seconds): `Some(0)` once it has run out,
/// `None` when there is no expiry or more than [`COUNTED_SECS`] are left.
pub fn seconds_left(expires_at: Option<i64>, now: i64) -> Option<i64> {
    let left = expires_at? - now;
    (left <= COUNTED_SECS).then_some(left.max(0))
}

/// `m:ss` (`14:59`, `0:05`), for up to 99 minutes (more shows `99:59`). Written digit by
/// digit: `format!` would pull integer formatting into the widget's wasm, about 1 KB gzipped.
pub fn clock(seconds: i64) -> String {
    let s = seconds.clamp(0, 99 * 60 + 59);
    let digit = |d: i64| b'0' + d as u8;
    let all = [
        digit(s / 600),
        digit(s / 60 % 10),
        b':',
        digit(s % 60 / 10),
        digit(s % 10),
    ];
    // ASCII bytes pushed as chars below 256: the widget shares that push with its amounts.
    let mut out = String::with_capacity(5);
    for &b in &all[usize::from(s < 600)..] {
        out.push(char::from(b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_holds_are_counted_down() {
        assert_eq!(seconds_left(None, 100), None);
        assert_eq!(seconds_left(Some(100 + 900), 100), Some(900));
        assert_eq!(
            seconds_left(Some(100 + COUNTED_SECS), 100),
            Some(COUNTED_SECS)
        );
        assert_eq!(seconds_left(Some(100 + COUNTED_SECS + 1), 100), None);
        assert_eq!(seconds_left(Some(100), 100), Some(0));
        assert_eq!(seconds_left(Some(50), 100), Some(0));
    }

    #[test]
    fn clocks() {
        assert_eq!(clock(899), "14:59");
        assert_eq!(clock(65), "1:05");
        assert_eq!(clock(5), "0:05");
        assert_eq!(clock(-3), "0:00");
        assert_eq!(clock(3600), "60:00");
        assert_eq!(clock(100 * 60), "99:59");
    }
}
