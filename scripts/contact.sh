#!/usr/bin/env bash
# Be a WhatsApp contact of the local stack's demo number: sends a message
# through the session daemon's simulator and prints the bot's replies.
#
#   ./scripts/contact.sh "hi"                    as +15550199999 to +15550100001
#   ./scripts/contact.sh --picture order.jpg "my order"      a picture (JPEG or PNG), with a caption
#   ./scripts/contact.sh --location 38.7223,-9.1393 "Shop"   a location, with a name
#   ./scripts/contact.sh --button-reply hours "Opening hours" a tap on the reply button with id "hours"
#   ./scripts/contact.sh --list-reply row-2 "Address"        a pick of the list row with id "row-2"
#   ./scripts/contact.sh --reply-to SIM-… "yes"              a reply quoting an earlier message
#   ./scripts/contact.sh --read                  the whole conversation so far
#   WABOT_CONTACT=+15550199998 ./scripts/contact.sh "hi"
#
# The bot's replies print as `bot> …`; a kind other than text is named
# (`bot> [buttons] How can we help? {hours=Opening hours | …}`, the ids to tap
# with --button-reply). Any other flags go to `wabot contact send` (see
# `wabot contact send --help`).
source "$(dirname "$0")/lib/common.sh"
STATE_DIR="$REPO_ROOT/.local/dev"
[ -s "$STATE_DIR/secrets.env" ] || die "the local stack is not running: start it with ./scripts/dev.sh"
set -a; source "$STATE_DIR/secrets.env"; set +a
to=${WABOT_NUMBER:-+15550100001}
from=${WABOT_CONTACT:-+15550199999}
daemon_url=${WABOT_DAEMON_URL:-http://127.0.0.1:${WABOT_DEV_DAEMON_PORT:-54380}}
if [ "${1:-}" = "--read" ]; then
  exec "$CARGO_TARGET_DIR/debug/wabot" contact read --daemon-url "$daemon_url" --to "$to" --from "$from"
fi
exec "$CARGO_TARGET_DIR/debug/wabot" contact send --daemon-url "$daemon_url" --to "$to" --from "$from" "$@"
