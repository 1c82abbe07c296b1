//! Text normalisation for matching triggers and menu choices.
//!
//! Contacts type "Olá!", "OLA" or " ola " and mean the same thing, so every
//! comparison happens on a normalised form: Unicode canonical decomposition
//! with combining marks removed (accents), lowercase, punctuation turned into
//! spaces, and runs of whitespace collapsed into one space.
//!
//! Regular expressions need the punctuation ("order #123"), so they see a
//! second, gentler form: [`fold`] removes accents and case but keeps every
//! other character.
//!
//! # Why a generated table and not a normalisation library
//!
//! Only the result of "decompose, then drop the marks" matters here, so the
//! crate carries that result ([`crate::fold_table`], generated from the
//! Unicode database by `scripts/gen-fold-table.py`): a few thousand pairs
//! instead of the full composition and decomposition tables, which keeps the
//! WebAssembly module small. Hangul syllables are kept whole.

use crate::fold_table::{FOLDS, MARK_RANGES};

/// Returns true for a combining mark (general category M), which folding drops.
pub fn is_combining_mark(character: char) -> bool {
    let code = u32::from(character);
    if code < 0x300 {
        return false;
    }
    MARK_RANGES
        .binary_search_by(|&(low, high)| {
            if high < code {
                std::cmp::Ordering::Less
            } else if low > code {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Returns `character` without its accents ("á" → "a"), or itself.
pub fn strip_accents(character: char) -> char {
    let code = u32::from(character);
    if code < 0xC0 {
        return character;
    }
    match FOLDS.binary_search_by_key(&code, |&(folded, _)| folded) {
        Ok(index) => char::from_u32(FOLDS[index].1).unwrap_or(character),
        Err(_) => character,
    }
}

/// The characters of `text` with accents stripped and marks dropped.
fn folded_characters(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars()
        .filter(|character| !is_combining_mark(*character))
        .map(strip_accents)
}

/// Returns the matching form of `text`: accent-free, lowercase, with
/// punctuation replaced by spaces and whitespace collapsed.
pub fn normalize(text: &str) -> String {
    let mut normalized = String::with_capacity(text.len());
    let mut pending_space = false;
    for character in folded_characters(text) {
        if character.is_alphanumeric() {
            if pending_space && !normalized.is_empty() {
                normalized.push(' ');
            }
            pending_space = false;
            normalized.extend(character.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    normalized
}

/// Returns the folded form of `text` for regular expressions: accent-free
/// and lowercase, with surrounding whitespace trimmed and punctuation kept.
pub fn fold(text: &str) -> String {
    folded_characters(text.trim())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Returns true when the normalised `keyword` occurs in the normalised
/// `text` as whole words (so "hi" matches "oh hi there" but not "this").
pub fn contains_words(normalized_text: &str, normalized_keyword: &str) -> bool {
    let Some(first_character) = normalized_keyword.chars().next() else {
        return false;
    };
    let bytes = normalized_text.as_bytes();
    let mut search_from = 0;
    while let Some(position) = normalized_text[search_from..].find(normalized_keyword) {
        let begin = search_from + position;
        let end = begin + normalized_keyword.len();
        let starts_a_word = begin == 0 || bytes[begin - 1] == b' ';
        let ends_a_word = end == bytes.len() || bytes[end] == b' ';
        if starts_a_word && ends_a_word {
            return true;
        }
        // The match starts with the keyword's first character, so stepping
        // over it stays on a character boundary.
        search_from = begin + first_character.len_utf8();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_from_many_scripts_and_drops_lone_marks() {
        assert_eq!(normalize("ÅÄÖ ñ ç ő ș ł"), "aao n c o s ł");
        assert_eq!(normalize("Ελλάδα"), "ελλαδα");
        assert_eq!(normalize("йогурт"), "иогурт");
        // "e" followed by a combining acute accent (U+0301).
        assert_eq!(normalize("cafe\u{301}"), "cafe");
        assert_eq!(normalize("한국어"), "한국어");
    }

    #[test]
    fn removes_accents_case_and_punctuation() {
        assert_eq!(normalize("  Olá,   MUNDO!! "), "ola mundo");
        assert_eq!(normalize("Çà-va?"), "ca va");
        assert_eq!(normalize("¡¿!"), "");
    }

    #[test]
    fn folding_keeps_punctuation() {
        assert_eq!(fold("  Pedido Nº #123! "), "pedido nº #123!");
        assert_eq!(fold("ÉCOLE"), "ecole");
    }

    #[test]
    fn matches_whole_words_only() {
        assert!(contains_words("oh hi there", "hi"));
        assert!(contains_words("hi", "hi"));
        assert!(!contains_words("this is it", "hi"));
        assert!(contains_words("opening hours please", "opening hours"));
        assert!(!contains_words("anything", ""));
        assert!(contains_words("ola olá ola", "ola"));
        assert!(contains_words("xhi hi", "hi"));
        assert!(!contains_words("ção", "ç"));
    }
}
