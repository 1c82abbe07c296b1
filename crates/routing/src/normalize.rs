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

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Returns the matching form of `text`: accent-free, lowercase, with
/// punctuation replaced by spaces and whitespace collapsed.
pub fn normalize(text: &str) -> String {
    let mut normalized = String::with_capacity(text.len());
    let mut pending_space = false;
    for character in text
        .nfd()
        .filter(|character| !is_combining_mark(*character))
    {
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
    text.trim()
        .nfd()
        .filter(|character| !is_combining_mark(*character))
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
