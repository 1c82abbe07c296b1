#!/usr/bin/env bash
# Generates the routing crate's time zone tables from the system's IANA time
# zone database (/usr/share/zoneinfo, the `tzdata` package):
#
#   crates/routing/src/tz_zones.rs         every zone name with its POSIX TZ rule
#                                          (the footer of its TZif file), plus the
#                                          explicit transitions of the few zones
#                                          whose rule does not yet describe the present
#   crates/routing/fixtures/tz-offsets.json  UTC offsets of 26 zones at ~1,200 instants
#                                          (every 2025-2030 transition, random instants,
#                                          a few later ones), computed by Python's
#                                          zoneinfo from the full transition data, which
#                                          crates/routing/tests/tz_offsets.rs checks
#                                          crates/routing/src/tz.rs against
#
#   scripts/gen-tz-zones.sh            regenerate both files
#   scripts/gen-tz-zones.sh --check    fail if a committed file differs from what
#                                      the installed tzdata generates
#
# Zone names are the TZif files under the database (without posix/, right/,
# posixrules, localtime, Factory and SystemV/), so backward-compatible links
# such as UTC, US/Eastern or Asia/Calcutta are included: jiff's bundled
# database, which this replaces, accepted them too, and they cost about 4 KB.
#
# Every zone is verified: from 1 January of the tzdata release year to its
# last transition (plus a year), the POSIX rule, with the explicit
# transitions where emitted, must give the database's offset at every
# transition and every day. Set ZONEINFO_DIR to read another database.
source "$(dirname "$0")/lib/common.sh"

ZONES_RS="$REPO_ROOT/crates/routing/src/tz_zones.rs"
FIXTURE="$REPO_ROOT/crates/routing/fixtures/tz-offsets.json"
export ZONEINFO_DIR="${ZONEINFO_DIR:-/usr/share/zoneinfo}"
mode=write

usage() { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --check) mode=check ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done

[ -f "$ZONEINFO_DIR/tzdata.zi" ] || die "no time zone database at $ZONEINFO_DIR (install the tzdata package)"
command -v python3 >/dev/null || die "python3 is needed"
command -v rustfmt >/dev/null || die "rustfmt is needed"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$work/tz_zones.rs" "$work/tz-offsets.json" <<'PYTHON'
import datetime as dt
import io
import os
import random
import struct
import sys
import zoneinfo

ROOT = os.environ["ZONEINFO_DIR"]
ZONES_OUT, FIXTURE_OUT = sys.argv[1], sys.argv[2]
UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
DAY = 86400

# Zones of the cross-check fixture: both hemispheres, half-hour and
# 45-minute offsets, 30-minute DST, negative DST (Dublin), rule times of -1,
# 24, 25 and 50 hours, zones without DST, and the zones with explicit
# transitions (Casablanca, Gaza).
FIXTURE_ZONES = [
    "Africa/Cairo", "Africa/Casablanca", "Africa/Lagos", "America/Havana",
    "America/Los_Angeles", "America/New_York", "America/Nuuk",
    "America/Santiago", "America/Sao_Paulo", "America/St_Johns",
    "Antarctica/Troll", "Asia/Gaza", "Asia/Jerusalem", "Asia/Kathmandu",
    "Asia/Kolkata", "Asia/Tehran", "Asia/Tokyo", "Australia/Lord_Howe",
    "Australia/Sydney", "Europe/Dublin", "Europe/Lisbon", "Europe/London",
    "Pacific/Auckland", "Pacific/Chatham", "Pacific/Kiritimati", "UTC",
]
RANDOM_INSTANTS_PER_ZONE = 24


def fail(message):
    sys.exit(f"gen-tz-zones: {message}")


def version():
    with open(os.path.join(ROOT, "tzdata.zi"), encoding="utf-8") as file:
        for line in file:
            if line.startswith("# version "):
                return line.split()[2]
    fail("tzdata.zi has no version line")


def zone_files():
    """Every zone name with its TZif bytes."""
    skip_dirs = {"posix", "right", "SystemV"}
    skip_files = {"posixrules", "localtime", "Factory"}
    zones = {}
    for directory, subdirectories, files in os.walk(ROOT):
        relative = os.path.relpath(directory, ROOT)
        if relative.split(os.sep)[0] in skip_dirs:
            subdirectories[:] = []
            continue
        for file in files:
            name = os.path.normpath(os.path.join(relative, file)).replace(os.sep, "/")
            if name in skip_files:
                continue
            with open(os.path.join(ROOT, name), "rb") as handle:
                data = handle.read()
            if data[:4] != b"TZif":
                continue
            if data[4:5] not in (b"2", b"3", b"4"):
                fail(f"{name} is a version 1 TZif file, which has no POSIX rule")
            zones[name] = data
    return zones


def parse_tzif(data):
    """The 64-bit transitions and offsets, the first offset, and the footer."""

    def header(offset):
        if data[offset:offset + 4] != b"TZif":
            fail("bad TZif header")
        return struct.unpack(">6l", data[offset + 20:offset + 44])

    isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = header(0)
    offset = 44 + timecnt * 5 + typecnt * 6 + charcnt + leapcnt * 8 + isstdcnt + isutcnt
    isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt = header(offset)
    offset += 44
    times = struct.unpack(f">{timecnt}q", data[offset:offset + 8 * timecnt])
    offset += 8 * timecnt
    indices = data[offset:offset + timecnt]
    offset += timecnt
    types = [struct.unpack(">lBB", data[offset + 6 * i:offset + 6 * i + 6])[0] for i in range(typecnt)]
    offset += 6 * typecnt + charcnt + leapcnt * 12 + isstdcnt + isutcnt
    footer = data[offset:].strip(b"\n").decode("ascii")
    if "\n" in footer:
        fail("unexpected data after the TZif footer")
    return list(zip(times, (types[i] for i in indices))), footer


def footer_zone(footer):
    """A zone whose only data is the POSIX rule: Python's own implementation."""
    block = b"TZif2" + bytes(15) + struct.pack(">6l", 0, 0, 0, 0, 1, 4)
    block += struct.pack(">lBB", 0, 0, 0) + b"UTC\0"
    return zoneinfo.ZoneInfo.from_file(io.BytesIO(block + block + b"\n" + footer.encode() + b"\n"))


def offset_at(zone, seconds):
    moment = EPOCH + dt.timedelta(seconds=seconds)
    return int(moment.astimezone(zone).utcoffset().total_seconds())


def explicit_transitions(name, transitions, footer, cutoff):
    """The transitions to carry from `cutoff` on, or [] when the rule alone is exact.

    The last entry marks where the rule takes over again."""
    real = zoneinfo.ZoneInfo.from_file(io.BytesIO(ZONE_DATA[name]))
    rule = footer_zone(footer)
    last = max([t for t, _ in transitions if t >= cutoff], default=cutoff)
    samples = set(range(cutoff, last + 366 * DAY, DAY))
    for t, _ in transitions:
        if t >= cutoff:
            samples.update((t - 1, t))
    mismatches = [t for t in sorted(samples) if offset_at(real, t) != offset_at(rule, t)]
    if not mismatches:
        return []
    # From the first real transition after the last mismatch, the rule agrees.
    until = min((t for t, _ in transitions if t > mismatches[-1]), default=None)
    if until is None:
        fail(f"{name}: the rule disagrees with the data after the last transition")
    entries = [(cutoff, offset_at(real, cutoff))]
    for t, utc_offset in transitions:
        if cutoff < t <= until and utc_offset != entries[-1][1]:
            entries.append((t, utc_offset))
    if entries[-1][0] != until:
        entries.append((until, offset_at(real, until)))
    # Check the table the way tz.rs reads it.
    for t in sorted(samples):
        covered = [o for start, o in entries[:-1] if start <= t]
        expected = covered[-1] if entries[0][0] <= t < entries[-1][0] else offset_at(rule, t)
        if expected != offset_at(real, t):
            fail(f"{name}: the explicit transitions do not reproduce the data at {t}")
    return entries


def iso(seconds):
    return (EPOCH + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def rust_string(text):
    if any(c in text for c in '"\\') or not text.isascii():
        fail(f"unexpected character in {text!r}")
    return f'"{text}"'


release = version()
cutoff = int(dt.datetime(int(release[:4]), 1, 1, tzinfo=UTC).timestamp())
ZONE_DATA = zone_files()
names = sorted(ZONE_DATA, key=lambda name: (name.lower(), name))
lowered = [name.lower() for name in names]
if len(set(lowered)) != len(lowered):
    fail("two zone names differ only in case")

footers = {}
explicit = {}
for name in names:
    transitions, footer = parse_tzif(ZONE_DATA[name])
    if not footer:
        fail(f"{name} has no POSIX rule")
    footers[name] = footer
    entries = explicit_transitions(name, transitions, footer, cutoff)
    if entries:
        explicit[name] = entries

lines = [
    f"//! Generated by `scripts/gen-tz-zones.sh` from tzdata {release} ({ROOT}); do not edit.",
    "//!",
    "//! Regenerate after a tzdata update (`scripts/gen-tz-zones.sh`, which also",
    "//! rewrites `fixtures/tz-offsets.json`); `--check` fails when the tables are",
    "//! stale. The generator verified that, from 1 January of the release year,",
    "//! these tables give the database's UTC offset for every zone.",
    "",
    "/// The tzdata release these tables come from.",
    f'pub(crate) const TZDATA_VERSION: &str = "{release}";',
    "",
    "/// Start of the range the tables are exact for: 1 January of the tzdata",
    "/// release year, 00:00 UTC, in Unix seconds.",
    f"pub(crate) const EXACT_FROM: i64 = {cutoff};",
    "",
    "/// Every zone name, links included, sorted by ASCII-lowercase name, with the",
    "/// POSIX TZ rule of its TZif footer.",
    "pub(crate) const ZONES: &[(&str, &str)] = &[",
]
for name in names:
    lines.append(f"    ({rust_string(name)}, {rust_string(footers[name])}),")
lines += [
    "];",
    "",
    "/// Zones whose POSIX rule does not describe the present yet because the",
    "/// database lists transitions the rule cannot express (Ramadan in Morocco",
    "/// and Palestine), sorted like [`ZONES`]. Each list gives the UTC offset in",
    "/// seconds from a Unix second on; from the last entry on, the rule applies",
    "/// again.",
    "pub(crate) const EXPLICIT: &[(&str, &[(i64, i32)])] = &[",
]
tables = {}
for name in names:
    if name in explicit:
        key = tuple(explicit[name])
        if key not in tables:
            tables[key] = name.upper().replace("/", "_").replace("-", "_")
        lines.append(f"    ({rust_string(name)}, {tables[key]}),")
lines.append("];")
for entries, const in tables.items():
    zones = ", ".join(name for name in names if tuple(explicit.get(name, ())) == entries)
    lines += ["", f"/// {zones}.", f"const {const}: &[(i64, i32)] = &["]
    for start, utc_offset in entries:
        lines.append(f"    ({start}, {utc_offset}), // {iso(start)}")
    lines.append("];")
with open(ZONES_OUT, "w", encoding="utf-8") as file:
    file.write("\n".join(lines) + "\n")

# The fixture: offsets by Python's zoneinfo from the full TZif data.
window_start = cutoff
window_end = int(dt.datetime(2031, 1, 1, tzinfo=UTC).timestamp())
rows = []
for name in FIXTURE_ZONES:
    if name not in ZONE_DATA:
        fail(f"fixture zone {name} is not in the database")
    zone = zoneinfo.ZoneInfo.from_file(io.BytesIO(ZONE_DATA[name]))
    transitions, _ = parse_tzif(ZONE_DATA[name])
    instants = set()
    previous = None
    for t, utc_offset in transitions:
        if window_start <= t < window_end and utc_offset != previous:
            instants.update((t * 1000 - 1, t * 1000))
        previous = utc_offset
    generator = random.Random(name)
    for _ in range(RANDOM_INSTANTS_PER_ZONE):
        instants.add(generator.randrange(window_start * 1000, window_end * 1000))
    # Transitions after the window are computed by the rule too; a few
    # far instants keep the fixture honest about them.
    for year in (2037, 2045, 2060):
        instants.add(int(dt.datetime(year, 7, 1, 12, tzinfo=UTC).timestamp()) * 1000)
        instants.add(int(dt.datetime(year, 1, 15, 12, tzinfo=UTC).timestamp()) * 1000)
    pairs = []
    for ms in sorted(instants):
        moment = EPOCH + dt.timedelta(milliseconds=ms)
        pairs.append(f"[{ms}, {int(moment.astimezone(zone).utcoffset().total_seconds())}]")
    rows.append(f'    "{name}": [\n      ' + ",\n      ".join(pairs) + "\n    ]")
with open(FIXTURE_OUT, "w", encoding="utf-8") as file:
    file.write(
        "{\n"
        '  "generated_by": "scripts/gen-tz-zones.sh from the full TZif data, with Python\'s zoneinfo",\n'
        f'  "tzdata": "{release}",\n'
        '  "offsets": {\n' + ",\n".join(rows) + "\n  }\n}\n"
    )
print(f"{len(names)} zones, {len(explicit)} with explicit transitions, tzdata {release}", file=sys.stderr)
PYTHON

rustfmt --edition 2021 <"$work/tz_zones.rs" >"$work/tz_zones.formatted.rs" || die "rustfmt failed on the generated table"

if [ "$mode" = check ]; then
  stale=0
  cmp -s "$work/tz_zones.formatted.rs" "$ZONES_RS" || { warn "${ZONES_RS#"$REPO_ROOT"/} is stale"; stale=1; }
  cmp -s "$work/tz-offsets.json" "$FIXTURE" || { warn "${FIXTURE#"$REPO_ROOT"/} is stale"; stale=1; }
  [ "$stale" = 0 ] || die "run scripts/gen-tz-zones.sh to regenerate from the installed tzdata"
  log "time zone tables are current"
else
  cp "$work/tz_zones.formatted.rs" "$ZONES_RS"
  cp "$work/tz-offsets.json" "$FIXTURE"
  log "wrote ${ZONES_RS#"$REPO_ROOT"/} and ${FIXTURE#"$REPO_ROOT"/}"
fi
