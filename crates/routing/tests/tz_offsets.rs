//! Cross-check of `routing::tz` against the system time zone database.
//!
//! `fixtures/tz-offsets.json` holds UTC offsets that `scripts/gen-tz-zones.sh`
//! computed with Python's `zoneinfo` from the full TZif transition data
//! (independent of the POSIX rules and of this crate's code): every
//! transition of 2025-2030 (the millisecond before and the one at it),
//! random instants in that range and a few later ones, for zones chosen to
//! cover both hemispheres, odd offsets and rule times, negative DST and
//! explicit transitions. Regenerate both with the script after a tzdata update.

// Test helpers outside #[test] functions unwrap too; a panic is a failure.
#![allow(clippy::unwrap_used)]

use routing::tz::{self, TimeZone};
use serde_json::Value;

#[test]
fn offsets_match_the_system_database() {
    let fixture: Value = serde_json::from_str(include_str!("../fixtures/tz-offsets.json")).unwrap();
    assert_eq!(
        fixture["tzdata"].as_str(),
        Some(tz::tzdata_version()),
        "the fixture and src/tz_zones.rs come from different tzdata releases: run scripts/gen-tz-zones.sh"
    );
    let zones = fixture["offsets"].as_object().unwrap();
    assert!(zones.len() >= 20);
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, offsets) in zones {
        let zone = TimeZone::get(name).unwrap_or_else(|| panic!("unknown zone {name}"));
        for pair in offsets.as_array().unwrap() {
            let unix_ms = pair[0].as_i64().unwrap();
            let expected = pair[1].as_i64().unwrap();
            let actual = i64::from(zone.offset_at(unix_ms));
            if actual != expected {
                failures.push(format!(
                    "{name} at {unix_ms} ms: {actual} s, expected {expected} s"
                ));
            }
            checked += 1;
        }
    }
    assert!(checked >= 1000, "only {checked} offsets");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
