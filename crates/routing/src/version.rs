//! Which bot version answers a conversation.
//!
//! A number runs one bot; the bot has a **published** version and may have a
//! **canary** version that takes a share of new conversations. The rules:
//!
//! 1. A conversation that already has a version keeps it, whatever was
//!    published since (`existing_conversation`), so nobody's flow changes
//!    shape halfway through a menu.
//! 2. A new conversation goes to the canary when the contact's bucket falls
//!    inside the canary's share (`canary`), otherwise to the published
//!    version (`published`).
//!
//! # Stickiness without randomness
//!
//! The bucket is a stable hash of the bot id and the contact id, so the same
//! contact lands on the same side of a canary every time, and the same
//! inputs give the same answer natively, in WebAssembly and in any later
//! release. The hash is 64-bit FNV-1a over the UTF-8 bytes of the bot id, a
//! zero byte and the contact id, followed by the MurmurHash3 64-bit
//! finaliser (FNV alone leaves the low bits weakly mixed); the bucket is the
//! result modulo 10,000, and the canary takes buckets below its share in
//! basis points. Growing the share from 5 % to 20 % keeps the first 5 % of
//! contacts on the canary.
//!
//! # Rollback
//!
//! Rolling back is publishing an older version: new conversations get it at
//! once, while conversations that started on the bad version finish there
//! (or move after their timeout, when the caller starts a new conversation).
//! Removing the canary sends every new conversation to the published
//! version.

use serde::{Deserialize, Serialize};

/// The number of buckets contacts are spread over; shares are in basis
/// points, one bucket each.
pub const BUCKETS: u32 = 10_000;

/// The bot that runs on a number, as far as version selection cares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberBot {
    /// The bot's id; part of the bucket hash, so two bots canary
    /// independently.
    pub bot_id: String,
    /// The published version.
    pub published: PublishedVersion,
    /// The canary version, when one is being tried.
    #[serde(default)]
    pub canary: Option<CanaryVersion>,
}

/// The published version of a bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedVersion {
    /// The version's id.
    pub version_id: String,
    /// The version's number, for display.
    pub number: u32,
}

/// A version tried on a share of new conversations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanaryVersion {
    /// The version's id.
    pub version_id: String,
    /// The version's number, for display.
    pub number: u32,
    /// The share of new conversations, in basis points (100 = 1 %); values
    /// above 10,000 count as 10,000.
    pub share_basis_points: u32,
}

/// Everything [`select_version`] needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionSelectionInput {
    /// The bot on the number the message arrived at.
    pub bot: NumberBot,
    /// The version the conversation started on; `None` for a new one.
    #[serde(default)]
    pub conversation_version_id: Option<String>,
    /// The contact's stable id (such as its WhatsApp id).
    pub contact_id: String,
}

/// Why a version was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionReason {
    /// The conversation keeps the version it started with.
    ExistingConversation,
    /// A new conversation whose contact falls in the canary's share.
    Canary,
    /// A new conversation on the published version.
    Published,
}

/// The outcome of [`select_version`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionChoice {
    /// The version to route with.
    pub version_id: String,
    /// Why.
    pub reason: VersionReason,
    /// The contact's bucket for this bot, `0..10000`.
    pub bucket: u32,
}

/// Chooses the version that answers a message. Pure and deterministic.
pub fn select_version(input: &VersionSelectionInput) -> VersionChoice {
    let bucket = contact_bucket(&input.bot.bot_id, &input.contact_id);
    if let Some(version_id) = &input.conversation_version_id {
        return VersionChoice {
            version_id: version_id.clone(),
            reason: VersionReason::ExistingConversation,
            bucket,
        };
    }
    if let Some(canary) = &input.bot.canary {
        if bucket < canary.share_basis_points.min(BUCKETS) {
            return VersionChoice {
                version_id: canary.version_id.clone(),
                reason: VersionReason::Canary,
                bucket,
            };
        }
    }
    VersionChoice {
        version_id: input.bot.published.version_id.clone(),
        reason: VersionReason::Published,
        bucket,
    }
}

/// Returns the contact's bucket for a bot, `0..BUCKETS`.
pub fn contact_bucket(bot_id: &str, contact_id: &str) -> u32 {
    let mut hash = fnv1a_64(FNV_OFFSET_BASIS, bot_id.as_bytes());
    hash = fnv1a_64(hash, &[0]);
    hash = fnv1a_64(hash, contact_id.as_bytes());
    let bucket = finalize(hash) % u64::from(BUCKETS);
    u32::try_from(bucket).unwrap_or(0)
}

/// The 64-bit FNV offset basis.
pub const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;

const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Continues a 64-bit FNV-1a hash over `bytes`.
pub fn fnv1a_64(mut hash: u64, bytes: &[u8]) -> u64 {
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// The MurmurHash3 64-bit finaliser, which spreads every input bit over
/// every output bit.
pub fn finalize(mut hash: u64) -> u64 {
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^= hash >> 33;
    hash
}

/// A [`std::hash::Hasher`] using FNV-1a: fast for short keys, and with no
/// random state, so maps behave identically natively and in WebAssembly.
#[derive(Debug, Clone, Copy)]
pub struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        Self(FNV_OFFSET_BASIS)
    }
}

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = fnv1a_64(self.0, bytes);
    }
}

/// A hash map keyed with [`FnvHasher`].
pub type FnvHashMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<FnvHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    fn input(
        conversation_version_id: Option<&str>,
        share: u32,
        contact: &str,
    ) -> VersionSelectionInput {
        VersionSelectionInput {
            bot: NumberBot {
                bot_id: "bot-1".into(),
                published: PublishedVersion {
                    version_id: "v3".into(),
                    number: 3,
                },
                canary: Some(CanaryVersion {
                    version_id: "v4".into(),
                    number: 4,
                    share_basis_points: share,
                }),
            },
            conversation_version_id: conversation_version_id.map(Into::into),
            contact_id: contact.into(),
        }
    }

    #[test]
    fn fnv_matches_the_reference_vectors() {
        assert_eq!(fnv1a_64(FNV_OFFSET_BASIS, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(FNV_OFFSET_BASIS, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(FNV_OFFSET_BASIS, b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn existing_conversations_keep_their_version() {
        let choice = select_version(&input(Some("v2"), 10_000, "+351910000001"));
        assert_eq!(choice.version_id, "v2");
        assert_eq!(choice.reason, VersionReason::ExistingConversation);
    }

    #[test]
    fn shares_of_zero_and_everything() {
        assert_eq!(
            select_version(&input(None, 0, "+351910000001")).reason,
            VersionReason::Published
        );
        assert_eq!(
            select_version(&input(None, 10_000, "+351910000001")).reason,
            VersionReason::Canary
        );
        assert_eq!(
            select_version(&input(None, 99_999, "+351910000001")).reason,
            VersionReason::Canary
        );
    }

    #[test]
    fn buckets_are_stable_across_releases() {
        // These values are part of the contract: changing the hash would
        // move contacts between versions mid-canary.
        assert_eq!(
            contact_bucket("bot-1", "+351910000001"),
            contact_bucket("bot-1", "+351910000001")
        );
        let buckets: Vec<u32> = ["a", "b", "c"]
            .iter()
            .map(|contact| contact_bucket("bot-1", contact))
            .collect();
        assert_eq!(buckets, STABLE_BUCKETS);
    }

    const STABLE_BUCKETS: [u32; 3] = [2028, 6919, 4974];
}
